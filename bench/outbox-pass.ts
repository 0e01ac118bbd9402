/**
 * What one pass of the outbox costs while a staff group's queue is long (issue 25). Telegram lets a
 * bot post about 20 messages a minute to a group, so in a flood of reports (the 16-days campaign,
 * or junk) the staff cards wait in the outbox, and the worker looks for due rows after every
 * report's commit. Each pass leaves out the group while it is paced; this measures how long that
 * look takes as the group's queue grows, on the real store and database, and prints a JSON line
 * per queue length. `npx tsx bench/outbox-pass.ts [--max 20000]`; `npm run bench` prints them too.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createSealer } from "../src/core/safety/sealer.ts";
import { makeAddress } from "../src/core/types.ts";
import { openDatabase } from "../src/db/open.ts";
import { createReportStore } from "../src/db/reports.ts";
import { seedReport } from "../test/support/seed.ts";

const STAFF = -100777;

/** One JSON line per queue length up to `max`: the median time of a pass's look, the group waiting and due. */
export async function measureOutboxPass(max = 10_000): Promise<Array<Record<string, unknown>>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "qorgau-outbox-pass-"));
  const db = await openDatabase(path.join(dir, "bench.db"), crypto.randomBytes(32));
  const reports = createReportStore(db, createSealer(crypto.randomBytes(32)));
  let queued = 0;
  /** Files reports, 200 at a time (they share commits), each with its card to the staff group. */
  const queueUpTo = async (n: number) => {
    while (queued < n) {
      const batch = Math.min(200, n - queued);
      await Promise.all(
        Array.from({ length: batch }, (_, i) =>
          seedReport(reports, makeAddress("telegram", 1_000_000 + queued + i), STAFF, {
            urgent: (queued + i) % 50 === 0,
          }),
        ),
      );
      queued += batch;
    }
  };
  /** Median time of a pass's look, in ms. */
  const timed = async (skip: string[]) => {
    const times: number[] = [];
    for (let i = 0; i < 60; i++) {
      const t = performance.now();
      await reports.due(new Date(), 100, skip);
      times.push(performance.now() - t);
    }
    return Math.round(times.sort((a, b) => a - b)[30]! * 1000) / 1000;
  };
  const lines: Array<Record<string, unknown>> = [];
  try {
    for (const n of [100, 1000, 5000, 10_000, 20_000].filter((n) => n <= max)) {
      await queueUpTo(n);
      lines.push({
        config: "outbox-pass",
        staff_cards_queued: n,
        pass_ms_group_waiting: await timed([`staff:${STAFF}`]),
        pass_ms_group_due: await timed([]),
      });
    }
  } finally {
    await db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return lines;
}

if (process.argv[1]?.endsWith("outbox-pass.ts")) {
  const i = process.argv.indexOf("--max");
  for (const line of await measureOutboxPass(i > 0 ? Number(process.argv[i + 1]) : 10_000))
    process.stdout.write(JSON.stringify(line) + "\n");
}
