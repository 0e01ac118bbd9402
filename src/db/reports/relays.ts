/** The way back to a reporter, kept sealed: the case word, holds and locks after an exit, contact stopped or resumed, and the conversation. */
import { caseWordEquals } from "../../core/safety/sealer.ts";
import type { AuditEntry, ReportStore } from "../../core/reports/types.ts";
import type { Address } from "../../core/types.ts";

import { type ReportContext, type QueueItem, RelayRow, dt, when } from "./context.ts";

export function relaysPart(
  c: ReportContext,
): Pick<
  ReportStore,
  | "tryCaseWord"
  | "unlockRelay"
  | "noteVerified"
  | "withdrawContact"
  | "resumeContact"
  | "relayAddress"
  | "relayInfo"
  | "holdRelays"
  | "touchRelays"
  | "addMessage"
  | "messages"
  | "markRead"
> {
  const {
    walSync,
    write,
    sealer,
    safeOpen,
    hot,
    queueSql,
    auditSql,
    q,
    heldHashes,
    releaseTx,
    queued,
    reserveTry,
    ownerWrong,
  } = c;
  // Contact stopped and resumed, and the conversation: on the message connection, like every write
  // of reports, the outbox and the audit log (db/README.md).
  const w = {
    contact: hot.prepare(
      "UPDATE reports SET contact = ?, contact_before = ?, updated_at = coalesce(?, updated_at) WHERE id = ?",
    ),
    message: hot.prepare(
      "INSERT INTO report_messages (report_id, direction, body_enc, created_at) VALUES (?, ?, ?, ?)",
    ),
    messages: hot.prepare(
      "SELECT id, direction, body_enc, read_at, created_at FROM report_messages WHERE report_id = ? ORDER BY id",
    ),
    markRead: hot.prepare(
      "UPDATE report_messages SET read_at = ? WHERE report_id = ? AND direction = 'out' AND read_at IS NULL",
    ),
  };
  type ContactRow = { contact: string; contact_before: string | null };
  const withdrawTx = hot.transaction((reportId: string) => {
    const r = q.report.get(reportId) as ContactRow | undefined;
    if (!r || r.contact === "none") return;
    w.contact.run("none", r.contact, null, reportId);
  });
  const resumeTx = hot.transaction((reportId: string, at: Date, entry: AuditEntry, outbox: QueueItem[]) => {
    const r = q.report.get(reportId) as ContactRow | undefined;
    if (!r || r.contact !== "none" || !r.contact_before) return false;
    w.contact.run(r.contact_before, null, dt(at), reportId);
    queueSql(outbox, at, reportId);
    auditSql(entry, at);
    return true;
  });
  const messageTx = hot.transaction(
    (
      reportId: string,
      direction: "in" | "out",
      sealed: string,
      at: Date,
      entry: AuditEntry,
      outbox: (messageId: number) => QueueItem[],
    ) => {
      const id = Number(w.message.run(reportId, direction, sealed, dt(at)).lastInsertRowid);
      auditSql(entry, at);
      queueSql(outbox(id), at, reportId);
      return id;
    },
  );

  return {
    async tryCaseWord(reportId, word, at, address) {
      // The try is reserved in one write before scrypt runs, so parallel guesses can never pass
      // the allowance; the word is checked only with a reservation in hand.
      const owner = address !== undefined && q.relayHash.get(reportId) === sealer.hash(address);
      const turn = await queued(() => reserveTry(reportId, owner, at));
      if (turn.refused) return turn.refused;
      const right = await caseWordEquals(word, turn.hash);
      if (right) {
        // Her own right word gives her allowance back; other chats' checks stay counted.
        if (owner) await write(() => q.wordOk.run(reportId));
        return "ok";
      }
      if (!owner) return "wrong";
      return await queued(() => ownerWrong(reportId, at));
    },
    async unlockRelay(reportId, at) {
      const r = q.relay.get(reportId) as RelayRow | undefined;
      if (!r?.locked_at && !r?.held_since) return false;
      await queued(() => {
        q.unlock.run(dt(at), reportId);
        q.release.run(dt(at), reportId);
      });
      return true;
    },
    async noteVerified(reportId, at) {
      await queued(() => q.verified.run(dt(at), reportId));
    },
    async withdrawContact(reportId) {
      await queued(() => withdrawTx(reportId));
    },
    async resumeContact(reportId, at, entry, outbox) {
      return queued(() => resumeTx(reportId, at, entry, outbox));
    },
    // Read for every confirmation and knock: on this connection, like the report itself.
    async relayAddress(reportId) {
      const r = q.relay.get(reportId) as RelayRow | undefined;
      return r ? (safeOpen(r.handle_enc) as Address | null) : null;
    },
    async relayInfo(reportId) {
      const r = q.relay.get(reportId) as RelayRow | undefined;
      return r
        ? { heldSince: when(r.held_since), lockedAt: when(r.locked_at), lastInboundAt: new Date(r.last_inbound_at) }
        : null;
    },
    async holdRelays(address, at) {
      const hash = sealer.hash(address);
      const rows = q.relaysOf.all(hash) as Array<{ report_id: string }>;
      if (rows.length) {
        // Quick exit waits for this: committed at once (safe from a kill) is enough; the disk follows within a second.
        await write.now(() => {
          q.hold.run(dt(at), dt(at), hash);
          heldHashes.add(hash);
        });
        walSync().catch(() => undefined);
      }
      return rows.map((r) => r.report_id);
    },
    async touchRelays(address, at) {
      // Every inbound message passes here: a read only for a chat with something held.
      if (!heldHashes.size) return [];
      const hash = sealer.hash(address);
      if (!heldHashes.has(hash)) return [];
      const rows = q.relaysOf.all(hash) as Array<{
        report_id: string;
        held_since: string | null;
        locked_at: string | null;
      }>;
      // A locked report stays held: only its case word lifts it (decision 10).
      const held = rows.filter((r) => r.held_since && !r.locked_at).map((r) => r.report_id);
      const stillLocked = rows.some((r) => r.held_since && r.locked_at);
      if (!rows.some((r) => r.held_since)) heldHashes.delete(hash); // its relays were purged or unlocked meanwhile
      if (!held.length) return [];
      try {
        await queued(() => releaseTx(hash, held, at, stillLocked));
      } catch (err) {
        heldHashes.add(hash); // still held: the next message tries again
        throw err;
      }
      return held;
    },
    async addMessage(reportId, direction, body, at, entry, outbox) {
      const sealed = sealer.seal(body);
      return queued(() => messageTx(reportId, direction, sealed, at, entry, outbox));
    },
    async messages(reportId) {
      type Row = { id: number; direction: string; body_enc: string; read_at: string | null; created_at: string };
      return (w.messages.all(reportId) as Row[]).map((m) => ({
        id: m.id,
        direction: m.direction as "in" | "out",
        body: safeOpen(m.body_enc) ?? "",
        readAt: when(m.read_at),
        createdAt: when(m.created_at)!,
      }));
    },
    async markRead(reportId, at) {
      await queued(() => w.markRead.run(dt(at), reportId));
    },
  };
}
