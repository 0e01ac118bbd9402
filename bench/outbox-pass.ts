/**
 * What one pass of the outbox costs while a staff group's queue is long (issue 25). Telegram lets a
 * bot post about 20 messages a minute to a group, so in a flood of reports (the 16-days campaign,
 * or junk) the staff cards wait in the outbox, and the worker looks for due rows after every
 * report's commit. Each pass leaves out the group while it is paced; this measures how long that
 * look takes as the group's queue grows, on the real store and database, and prints a JSON line
 * per queue length. `npx tsx bench/outbox-pass.ts [--max 10000]`.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createSealer } from "../src/core/safety/sealer.ts";
import { makeAddress } from "../src/core/types.ts";
import { openDatabase } from "../src/db/open.ts";
import { createReportStore } from "../src/db/reports.ts";
import { newReportCode } from "../src/core/safety/sealer.ts";

const STAFF = -100777;
const max = Number(process.argv[process.argv.indexOf("--max") + 1] || 10_000);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "qorgau-outbox-pass-"));
const db = await openDatabase(path.join(dir, "bench.db"), crypto.randomBytes(32));
const reports = createReportStore(db, createSealer(crypto.randomBytes(32)));

let queued = 0;
/** Files reports, 200 at a time (they share commits), each with its card to the staff group. */
async function queueUpTo(n: number) {
  while (queued < n) {
    const batch = Math.min(200, n - queued);
    await Promise.all(
      Array.from({ length: batch }, (_, i) => {
        const id = crypto.randomBytes(12).toString("base64url");
        return reports.submit(
          {
            id,
            code: newReportCode(),
            channel: "telegram",
            locale: "ru",
            country: "KZ",
            regionId: "kz-shymkent",
            about: "other",
            kinds: ["physical"],
            urgent: (queued + i) % 50 === 0,
            highRisk: false,
            riskAnswers: null,
            text: "Соседку бьют по ночам.",
            contact: "any",
            caseWord: null,
            staffChatId: STAFF,
          },
          makeAddress("telegram", 1_000_000 + queued + i),
          [{ dedupeKey: `card:${id}`, target: `staff:${STAFF}`, payload: { type: "card", reportId: id } }],
          new Date(),
        );
      }),
    );
    queued += batch;
  }
}

/** Median time of a pass's read, in ms. */
async function timed(skip: string[]) {
  const times: number[] = [];
  for (let i = 0; i < 60; i++) {
    const t = performance.now();
    await reports.due(new Date(), 100, skip);
    times.push(performance.now() - t);
  }
  return Math.round(times.sort((a, b) => a - b)[30]! * 1000) / 1000;
}

for (const n of [100, 1000, 5000, 10_000, 20_000].filter((n) => n <= max)) {
  await queueUpTo(n);
  const line = {
    config: "outbox-pass",
    staff_cards_queued: n,
    pass_ms_group_paced: await timed([`staff:${STAFF}`]),
    pass_ms_group_due: await timed([]),
  };
  process.stdout.write(JSON.stringify(line) + "\n");
}
await db.close();
fs.rmSync(dir, { recursive: true, force: true });
