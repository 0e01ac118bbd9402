/**
 * The outbox worker under a queue: a reporter's confirmation goes out right
 * after its commit instead of behind everyone else's, chats are served side
 * by side, one chat's rows keep their order, no row is sent twice, and a
 * caller waits for its message, not for the bookkeeping after it.
 */
import { TEST_KEY } from "../support/keys.ts";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createLogger } from "../../src/logger.ts";
import { createOutboxWorker, type DeliverResult } from "../../src/core/reports/outbox.ts";
import type { OutboxItem, ReportStore } from "../../src/core/reports/types.ts";
import { createSealer } from "../../src/core/safety/sealer.ts";
import { openDatabase, type OpenedDatabase } from "../../src/db/open.ts";
import { createReportStore } from "../../src/db/reports.ts";
import { tempDir } from "../support/harness.ts";
import { seedReport } from "../support/reports.ts";
import { makeAddress } from "../../src/core/types.ts";

let db: OpenedDatabase;
let reports: ReportStore;

beforeAll(async () => {
  db = await openDatabase(path.join(tempDir(), "outbox.db"), TEST_KEY);
  reports = createReportStore(db, createSealer(Buffer.alloc(32, 6)));
});
afterAll(async () => {
  await db.close();
});

/** A network whose answers the test releases by hand. */
function slowNetwork() {
  const started: string[] = [];
  const gates = new Map<string, () => void>();
  return {
    started,
    release: (key: string) => gates.get(key)?.(),
    deliver: (item: OutboxItem): Promise<DeliverResult> => {
      const key = (item.payload as { key?: string }).key ?? "";
      started.push(key);
      return new Promise((resolve) => gates.set(key, () => resolve({ status: "sent", messageId: 1 })));
    },
  };
}

const row = (key: string, target: string) => ({ dedupeKey: key, target, payload: { type: "notice" as const, key } });
const until = (cond: () => boolean) => vi.waitFor(() => expect(cond()).toBe(true), { timeout: 15_000 });
const options = { minIntervalMs: () => 0, now: () => new Date(), logger: createLogger({ level: "error" }) };
const worker = (deliver: (i: OutboxItem) => Promise<DeliverResult>, parallel = 16) =>
  createOutboxWorker({ ...options, reports, deliver, parallel });

describe("the outbox under a queue (R2)", () => {
  it("sends a confirmation right after its commit even while the queue is stuck on another chat", async () => {
    const net = slowNetwork();
    await reports.enqueue([row("q1:a", "relay:q1-a"), row("q1:b", "relay:q1-b")], new Date());
    const w = worker(net.deliver, 1);
    const draining = w.drain();
    await until(() => net.started.includes("q1:a")); // the only lane is stuck on a slow chat

    await reports.enqueue([row("q1:confirm", "relay:q1-c")], new Date());
    const sent = w.send(["q1:confirm"]);
    await until(() => net.started.includes("q1:confirm"));
    net.release("q1:confirm");
    await sent;
    expect(net.started).not.toContain("q1:b"); // it did not wait for the queue ahead of it

    net.release("q1:a");
    await until(() => net.started.includes("q1:b"));
    net.release("q1:b");
    await draining;
    await w.stop();
    expect(await reports.pendingCount()).toBe(0);
    expect(net.started.filter((k) => k === "q1:confirm")).toEqual(["q1:confirm"]);
  });

  it("serves different chats side by side and one chat's rows in order", async () => {
    const net = slowNetwork();
    await reports.enqueue(
      [row("q2:x1", "relay:q2-x"), row("q2:x2", "relay:q2-x"), row("q2:y1", "relay:q2-y")],
      new Date(),
    );
    const w = worker(net.deliver);
    const draining = w.drain();
    // Both chats are in flight together; the second row of x waits for the first.
    await until(() => net.started.includes("q2:x1") && net.started.includes("q2:y1"));
    expect(net.started).not.toContain("q2:x2");
    net.release("q2:x1");
    await until(() => net.started.includes("q2:x2"));
    net.release("q2:x2");
    net.release("q2:y1");
    await draining;
    expect(await reports.pendingCount()).toBe(0);
  });

  it("never sends one row twice when the caller and the worker reach it together", async () => {
    const net = slowNetwork();
    await reports.enqueue([row("q3:c", "relay:q3")], new Date());
    const w = worker(net.deliver);
    const draining = w.drain();
    await until(() => net.started.includes("q3:c"));
    let sentDone = false;
    const sent = w.send(["q3:c"]).then(() => (sentDone = true)); // the worker already has it
    await new Promise((r) => setTimeout(r, 30));
    expect(sentDone).toBe(false); // the caller waits for the worker's delivery: its next screen comes after
    net.release("q3:c");
    await Promise.all([sent, draining]);
    expect(net.started.filter((k) => k === "q3:c")).toEqual(["q3:c"]);
  });

  it("a row the worker read before the caller sent it is not sent again by the worker", async () => {
    const net = slowNetwork();
    await reports.enqueue([row("q4:slow", "relay:q4-a"), row("q4:c", "relay:q4-b")], new Date());
    const w = worker(net.deliver, 1);
    const draining = w.drain(); // reads both rows, then waits on the first
    await until(() => net.started.includes("q4:slow"));
    const sent = w.send(["q4:c"]);
    await until(() => net.started.includes("q4:c"));
    net.release("q4:c");
    await sent;
    net.release("q4:slow");
    await draining;
    expect(net.started.filter((k) => k.startsWith("q4:"))).toEqual(["q4:slow", "q4:c"]);
  });

  it("the caller goes on once the message is out; the row is marked sent just after, and stop waits for that", async () => {
    await reports.enqueue([row("q5:c", "relay:q5")], new Date());
    let save!: () => void;
    const saving = new Promise<void>((r) => (save = r));
    const store: ReportStore = {
      ...reports,
      markSent: async (...args) => saving.then(() => reports.markSent(...args)),
    };
    const delivered: string[] = [];
    const w = createOutboxWorker({
      ...options,
      reports: store,
      deliver: async (i) => (delivered.push(i.target), { status: "sent", messageId: 1 }),
    });
    await w.send(["q5:c"]); // resolves while the mark is still held back
    expect(delivered).toEqual(["relay:q5"]);
    expect((await reports.pendingByKeys(["q5:c"])).length).toBe(1);
    let stopped = false;
    const stopping = w.stop().then(() => (stopped = true));
    await new Promise((r) => setTimeout(r, 30));
    expect(stopped).toBe(false); // the database must stay open for the mark
    save();
    await stopping;
    expect((await reports.pendingByKeys(["q5:c"])).length).toBe(0);
  });

  it("stop does not wait forever for a delivery stuck on the network; the row stays for the next start", async () => {
    await reports.enqueue([row("q6:c", "relay:q6")], new Date());
    const w = createOutboxWorker({
      ...options,
      reports,
      stopWaitMs: 50,
      deliver: () => new Promise<DeliverResult>(() => undefined),
    });
    void w.send(["q6:c"]);
    await new Promise((r) => setTimeout(r, 20));
    const started = Date.now();
    await w.stop();
    expect(Date.now() - started).toBeLessThan(2000);
    expect((await reports.pendingByKeys(["q6:c"])).length).toBe(1);
    await reports.markSent((await reports.pendingByKeys(["q6:c"]))[0]!.id, 1, new Date()); // leave the queue empty for the tests after
  });

  it("a row whose outcome cannot be saved at all stays pending, and the rows after it still go", async () => {
    await reports.enqueue([row("q7:a", "relay:q7"), row("q7:b", "relay:q7")], new Date());
    // The disk fails for a moment: neither "sent" nor "try again later" can be written for the first row.
    let failures = 2;
    const failing =
      <A extends unknown[]>(write: (...a: A) => Promise<void>) =>
      async (...args: A) => {
        if (failures-- > 0) throw new Error("disk I/O error");
        return write(...args);
      };
    const store: ReportStore = {
      ...reports,
      markSent: failing(reports.markSent),
      markRetry: failing(reports.markRetry),
    };
    const delivered: string[] = [];
    const w = createOutboxWorker({
      ...options,
      reports: store,
      deliver: async (i) => (delivered.push((i.payload as { key: string }).key), { status: "sent", messageId: 1 }),
    });
    await w.drain();
    expect(delivered).toEqual(["q7:a", "q7:b"]);
    const left = await reports.pendingByKeys(["q7:a", "q7:b"]);
    expect(left.map((i) => (i.payload as { key: string }).key)).toEqual(["q7:a"]); // to be tried again
    await reports.markSent(left[0]!.id, 1, new Date());
  });
});

describe("which rows a pass of the outbox takes", () => {
  it("every due row but the paced chats', urgent and high-risk cards first, then in the order written, at most the limit", async () => {
    const own = await openDatabase(path.join(tempDir(), "outbox-due.db"), TEST_KEY);
    try {
      const store = createReportStore(own, createSealer(Buffer.alloc(32, 6)));
      const at = new Date();
      await store.enqueue([row("a1", "relay:a")], at);
      const plain = await seedReport(store, makeAddress("telegram", 1), -1, {}, at); // a card to staff:-1
      await store.enqueue([row("m1", "relay:m"), row("z1", "relay:z")], at);
      const pacedUrgent = await seedReport(store, makeAddress("telegram", 2), -2, { urgent: true }, at);
      const urgent = await seedReport(store, makeAddress("telegram", 3), -1, { urgent: true }, at);
      const risky = await seedReport(store, makeAddress("telegram", 4), -3, { highRisk: true }, at);
      await store.enqueue([row("a2", "relay:a")], at);
      await store.enqueue([row("later", "relay:b")], new Date(at.getTime() + 60_000)); // not due yet

      const card = (r: { id?: string; reportId?: string }) => `card:${r.id ?? r.reportId}`;
      const name = (i: OutboxItem) =>
        i.kind === "card" ? card(i.payload as { reportId: string }) : (i.payload as { key: string }).key;
      // Staff group -2 and the chat "relay:m" wait for their turn (given out of order, one twice).
      const due = (limit: number) =>
        store.due(new Date(at.getTime() + 1000), limit, ["staff:-2", "relay:m", "staff:-2"]);
      expect((await due(100)).map(name)).toEqual([card(urgent), card(risky), "a1", card(plain), "z1", "a2"]);
      expect((await due(3)).map(name)).toEqual([card(urgent), card(risky), "a1"]);
      // With nobody waiting, group -2's urgent card is among them again, in its place.
      expect((await store.due(new Date(at.getTime() + 1000), 100)).map(name)).toEqual([
        card(pacedUrgent),
        card(urgent),
        card(risky),
        "a1",
        card(plain),
        "m1",
        "z1",
        "a2",
      ]);
    } finally {
      await own.close();
    }
  });
});
