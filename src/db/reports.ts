/**
 * The core's ReportStore, in parts by what they store (src/db/reports/): the queue of reports, the
 * relays back to reporters, staff groups, and drafts with the outbox. Report texts, relayed
 * messages, drafts and the way back to a reporter are sealed before they are written; the
 * reporter's address is stored only sealed and as a keyed hash.
 *
 * Every read and write runs on prepared statements on the message connection, each transaction
 * synchronous (db/README.md, and db/hot.ts for why).
 */
import type { ReportStore } from "../core/reports/types.ts";
import type { Sealer } from "../core/safety/sealer.ts";
import type { HotDb, WalSync, Writer } from "./hot.ts";
import { createReportContext } from "./reports/context.ts";
import { outboxPart } from "./reports/outbox.ts";
import { queuePart } from "./reports/queue.ts";
import { relaysPart } from "./reports/relays.ts";
import { staffPart } from "./reports/staff.ts";

export { CASE_WORD_TRIES, OTHER_CHAT_CHECKS } from "./reports/context.ts";

export function createReportStore(db: { hot: HotDb; walSync: WalSync; write: Writer }, sealer: Sealer): ReportStore {
  const c = createReportContext(db, sealer);
  return { ...queuePart(c), ...relaysPart(c), ...staffPart(c), ...outboxPart(c) };
}
