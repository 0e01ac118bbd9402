import { TEST_KEY } from "../support/keys.ts";
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it, vi } from "vitest";
import { DatabaseStartError, openDatabase, type OpenedDatabase } from "../../src/db/open.ts";
import { MIGRATIONS_DIR } from "../../src/db/migrate.ts";
import { createWriter, retrying } from "../../src/db/hot.ts";
import { HOLD_GAP_MS, startCheckpoints } from "../../src/db/checkpoints.ts";
import { createReportStore } from "../../src/db/reports.ts";
import { createSealer } from "../../src/core/safety/sealer.ts";
import { seedReport } from "../support/reports.ts";
import { createSqliteStore } from "../../src/db/session-store.ts";
import { makeAddress, type Address } from "../../src/core/types.ts";
import type { SessionRecord } from "../../src/core/store.ts";
import { tempDir } from "../support/harness.ts";
import { prismaOf } from "../support/prisma.ts";

let db: OpenedDatabase | undefined;

/** The menu's state with this nonce: every screen has a new one. */
const screen = (nonce: string) => ({ v: 2 as const, screen: "menu", nonce, options: [] });
/** A person at the menu, as the dialog saves her: no auto-erase, the limits not yet shown. */
const atMenu = (address: Address, locale: SessionRecord["locale"], country: SessionRecord["country"], at: Date) => ({
  address,
  locale,
  country,
  state: screen("n1"),
  autoEraseMinutes: null,
  limitsShown: false,
  lastSeenAt: at,
  createdAt: at,
});
/** The nonce of the state a connection reads for a chat from the file. */
const nonceOnDisk = (conn: Database.Database, chat: string): string | undefined => {
  const row = conn.prepare("SELECT state FROM sessions WHERE chat = ?").get(chat) as { state: string } | undefined;
  return row && (JSON.parse(db!.sealer.open(row.state)) as { nonce: string }).nonce;
};

/**
 * 300 people, each a screen further on (nonce "n2"), their screens waiting in the store's window:
 * held within one turn (a screen alone waits for no commit), so one window has them all.
 * `beforeScreens` runs once their rows are written, before the screens are held.
 */
async function windowOfScreens(
  name: string,
  firstChat: number,
  opts: { sessionWriteMs?: number; beforeScreens?: (file: string, people: Address[]) => void } = {},
) {
  const file = path.join(tempDir(), name);
  db = await openDatabase(file, TEST_KEY);
  const failures: unknown[] = [];
  const store = createSqliteStore(db, {
    sessionWriteMs: opts.sessionWriteMs ?? 60_000,
    onLateWriteFailed: (err) => failures.push(err),
  });
  const at = new Date("2026-11-25T10:00:00Z");
  const people = Array.from({ length: 300 }, (_, i) => makeAddress("telegram", firstChat + i));
  for (const a of people) await store.saveSession(atMenu(a, "ru", "KZ", at));
  opts.beforeScreens?.(file, people);
  for (const a of people)
    await store.saveSession({ ...atMenu(a, "ru", "KZ", at), state: screen("n2") }, [], { lazy: true });
  return { file, store, people, at, failures };
}

afterEach(async () => {
  await db?.close();
  db = undefined;
});

describe("database start-up (D1, D5)", () => {
  it("applies migrations once, in a way prisma migrate recognises", async () => {
    const file = path.join(tempDir(), "b.db");
    db = await openDatabase(file, TEST_KEY);
    const all = fs
      .readdirSync(MIGRATIONS_DIR, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
    expect(all.length).toBeGreaterThanOrEqual(3);
    expect(db.applied).toEqual(all);
    await db.close();
    db = await openDatabase(file, TEST_KEY);
    expect(db.applied).toEqual([]);
    const raw = new Database(file, { readonly: true });
    const rows = raw.prepare("SELECT migration_name, finished_at FROM _prisma_migrations").all() as Array<{
      migration_name: string;
      finished_at: string;
    }>;
    raw.close();
    expect(rows.map((r) => r.migration_name)).toEqual(all);
    expect(rows[0]!.finished_at).toBeTruthy();
  });

  it("a database from before the message tables lost their row numbers keeps what they held: a redelivered update is still dropped, and a quick exit still finds every tracked message (R1, S2)", async () => {
    const file = path.join(tempDir(), "r.db");
    db = await openDatabase(file, TEST_KEY);
    let store = createSqliteStore(db);
    const chat = makeAddress("telegram", 4242);
    const at = new Date("2026-12-07T10:00:00Z");
    expect(await store.firstSeen("telegram:900", at)).toBe(true);
    await store.trackMessages(chat, [
      { id: "11", fromBot: false, at },
      { id: "12", fromBot: true, at },
    ]);
    await store.close();
    await db.close();
    // The two tables as the migrations before this one left them, with a row number each.
    const raw = new Database(file);
    raw.exec(`
      CREATE TABLE old_t ("chat" TEXT NOT NULL, "message_id" TEXT NOT NULL, "from_bot" BOOLEAN NOT NULL, "sent_at" DATETIME NOT NULL, PRIMARY KEY ("chat", "message_id"));
      INSERT INTO old_t SELECT chat, message_id, from_bot, sent_at FROM tracked_messages;
      DROP TABLE tracked_messages; ALTER TABLE old_t RENAME TO tracked_messages;
      CREATE INDEX "tracked_messages_sent_at_idx" ON "tracked_messages"("sent_at");
      CREATE TABLE old_u ("key" TEXT NOT NULL PRIMARY KEY, "at" DATETIME NOT NULL);
      INSERT INTO old_u SELECT key, at FROM processed_updates;
      DROP TABLE processed_updates; ALTER TABLE old_u RENAME TO processed_updates;
      CREATE INDEX "processed_updates_at_idx" ON "processed_updates"("at");
      DELETE FROM _prisma_migrations WHERE migration_name LIKE '%_message_tables_without_rowid';
    `);
    raw.close();
    db = await openDatabase(file, TEST_KEY);
    expect(db.applied).toEqual([expect.stringMatching(/_message_tables_without_rowid$/)]);
    const tables = db.hot
      .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND sql LIKE '%WITHOUT ROWID'")
      .pluck()
      .all();
    expect(tables.sort()).toEqual(["processed_updates", "tracked_messages"]);
    store = createSqliteStore(db);
    expect(await store.firstSeen("telegram:900", at)).toBe(false);
    expect((await store.trackedMessages(chat)).map((r) => [r.id, r.fromBot]).sort()).toEqual([
      ["11", false],
      ["12", true],
    ]);
    await store.close();
  });

  it("refuses a damaged file and does not replace it with an empty one", async () => {
    const file = path.join(tempDir(), "c.db");
    fs.writeFileSync(file, Buffer.concat([Buffer.from("SQLite format 3\0"), Buffer.alloc(4096, 0x5a)]));
    const before = fs.readFileSync(file);
    await expect(openDatabase(file, TEST_KEY)).rejects.toBeInstanceOf(DatabaseStartError);
    await expect(openDatabase(file, TEST_KEY)).rejects.toThrow(/damaged|integrity|restore/);
    expect(fs.readFileSync(file).equals(before)).toBe(true);
  });
});

describe("the message connection beside another writer (D1, D2)", () => {
  it("reads its PRAGMAs back: WAL, synchronous=NORMAL with the log synced off the thread, foreign keys, secure_delete, temporary pages in memory (D1)", async () => {
    db = await openDatabase(path.join(tempDir(), "h.db"), TEST_KEY);
    expect(
      ["synchronous", "foreign_keys", "secure_delete", "journal_mode", "journal_size_limit", "temp_store"].map((p) =>
        db!.hot.pragma(p, { simple: true }),
      ),
    ).toEqual([1, 1, 1, "wal", 4194304, 2]);
  });

  it("a report is on the disk before the reporter is told: submit waits for a sync of the log begun after its commit", async () => {
    let release: Array<() => void> = [];
    const synced: number[] = [];
    db = await openDatabase(path.join(tempDir(), "s.db"), TEST_KEY, {
      fdatasync: (fd, cb) => {
        release.push(() => {
          synced.push(fd);
          cb(null);
        });
      },
    });
    const reports = createReportStore(db, createSealer(Buffer.alloc(32, 9)));
    let done = false;
    const submitting = seedReport(reports, makeAddress("telegram", 77), -100).then(() => (done = true));
    await vi.waitFor(() => expect(release.length).toBe(1), { timeout: 10_000 }); // committed, now waiting for the disk
    await new Promise((r) => setTimeout(r, 50));
    expect(done).toBe(false);
    const pending = release;
    release = [];
    pending.forEach((r) => r());
    await submitting;
    expect(synced.length).toBe(1);
    // Nothing was written meanwhile, so the closing sync is the only other one.
    let closed = false;
    const closing = db.close().then(() => void (closed = true));
    // The close syncs once more if the log needs it; either way it ends once that sync is let through.
    await vi.waitFor(() => expect(release.length > 0 || closed).toBe(true), { timeout: 10_000 });
    release.forEach((r) => r());
    await closing;
    db = undefined;
  });

  it("a report committed while another's sync is under way gets its own sync at once; reports of one turn share one", async () => {
    const syncs: Array<() => void> = [];
    db = await openDatabase(path.join(tempDir(), "g.db"), TEST_KEY, {
      fdatasync: (_fd, cb) => void syncs.push(() => cb(null)),
    });
    const reports = createReportStore(db, createSealer(Buffer.alloc(32, 8)));
    const settled: string[] = [];
    const submit = (name: string, chat: number) =>
      seedReport(reports, makeAddress("telegram", chat), -100).then(() => void settled.push(name));
    const waitFor = (n: number) => vi.waitFor(() => expect(syncs.length).toBe(n), { timeout: 10_000 });
    const first = submit("first", 81);
    await waitFor(1);
    // Two more in one turn, while the first one's sync is still under way: one new sync for both.
    const later = [submit("second", 82), submit("third", 83)];
    await waitFor(2);
    await new Promise((r) => setTimeout(r, 30));
    expect(syncs.length).toBe(2);
    syncs[1]!();
    await Promise.all(later);
    expect(settled).toEqual(["second", "third"]); // not held behind the first sync
    let closed = false;
    const closing = db.close().then(() => (closed = true));
    await new Promise((r) => setTimeout(r, 30));
    expect(closed).toBe(false); // the file stays open while a sync is under way
    syncs[0]!();
    await first;
    syncs.slice(2).forEach((s) => s());
    await closing;
    db = undefined;
    expect(settled).toEqual(["second", "third", "first"]);
  });

  it("a message saved while a staff transaction holds the write lock waits without freezing the bot, then lands", async () => {
    db = await openDatabase(path.join(tempDir(), "i.db"), TEST_KEY);
    const store = createSqliteStore(db);
    const address = makeAddress("telegram", 41);
    const at = new Date("2026-11-25T10:00:00Z");
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 5);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    // A Prisma transaction that writes, then waits on the event loop before it commits (as a staff action's does).
    const staff = prismaOf(db).$transaction(async (tx) => {
      await tx.auditLog.create({ data: { at, actor: "staff:1", action: "take", result: "ok" } });
      await held;
    });
    await new Promise((r) => setTimeout(r, 20));
    const called = Date.now();
    const saving = store.saveSession({
      address,
      locale: "ru",
      country: "KZ",
      state: null,
      autoEraseMinutes: null,
      limitsShown: false,
      lastSeenAt: at,
      createdAt: at,
    });
    // The call hands the thread back at once instead of sleeping in SQLite's busy handler (which
    // would freeze every chat, and the transaction it waits for, for the whole busy timeout).
    expect(Date.now() - called).toBeLessThan(1000);
    const before = ticks;
    await new Promise((r) => setTimeout(r, 100));
    expect(ticks).toBeGreaterThan(before);
    release();
    await staff;
    await saving;
    clearInterval(ticker);
    expect((await store.getSession(address))?.country).toBe("KZ");
    expect(await prismaOf(db).auditLog.count({ where: { actor: "staff:1" } })).toBe(1);
  });

  it("a write still locked out after its budget fails with the busy error, so the caller says 'not saved yet'", async () => {
    const file = path.join(tempDir(), "j.db");
    db = await openDatabase(file, TEST_KEY);
    const other = new Database(file);
    other.exec("BEGIN IMMEDIATE");
    const write = () => db!.hot.prepare("INSERT INTO processed_updates (key, at) VALUES ('x', 'now')").run();
    await expect(retrying(write, 150)).rejects.toMatchObject({ code: expect.stringMatching(/^SQLITE_BUSY/) });
    setTimeout(() => other.exec("COMMIT"), 50);
    await expect(retrying(write, 5000)).resolves.toMatchObject({ changes: 1 });
    other.close();
  });

  it("the update ids of one moment are on the disk before any of those updates goes on, a repeated one is told apart, and while another program holds the lock they wait for it (R1, D2)", async () => {
    const file = path.join(tempDir(), "u.db");
    db = await openDatabase(file, TEST_KEY);
    const store = createSqliteStore(db);
    const reader = new Database(file, { readonly: true });
    const recorded = () => reader.prepare("SELECT count(*) FROM processed_updates").pluck().get();
    const at = new Date();
    // A fetched batch: its updates all ask at once, one of them twice.
    const batch = ["telegram:1", "telegram:2", "telegram:1"].map((key) => store.firstSeen(key, at));
    expect(await Promise.all(batch)).toEqual([true, true, false]);
    expect(recorded()).toBe(2); // committed: another connection sees them
    expect(await store.firstSeen("telegram:2", at)).toBe(false);

    const other = new Database(file);
    other.exec("BEGIN IMMEDIATE");
    let answered = false;
    const waiting = Promise.all([store.firstSeen("telegram:3", at), store.firstSeen("telegram:1", at, true)]);
    void waiting.then(() => (answered = true));
    await new Promise((r) => setTimeout(r, 100));
    expect(answered).toBe(false);
    other.exec("COMMIT");
    other.close();
    expect(await waiting).toEqual([true, false]);
    expect(recorded()).toBe(3);
    reader.close();
  });

  it("writes of many chats in one turn share one commit, and one that fails is undone alone", async () => {
    const file = path.join(tempDir(), "w.db");
    db = await openDatabase(file, TEST_KEY);
    const hot = db.hot;
    const insert = hot.prepare("INSERT INTO processed_updates (key, at) VALUES (?, 'now')");
    hot.prepare("INSERT INTO processed_updates (key, at) VALUES ('taken', 'now')").run();
    const write = createWriter(hot);
    const failing = () => {
      insert.run("half");
      insert.run("taken");
    };
    const results = await Promise.allSettled([
      write(() => insert.run("a")),
      write(failing),
      write(() => insert.run("b")),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({
      code: expect.stringMatching(/^SQLITE_CONSTRAINT/),
    });
    const keys = () =>
      (hot.prepare("SELECT key FROM processed_updates ORDER BY key").pluck().all() as string[]).join(",");
    expect(keys()).toBe("a,b,taken");

    // The log grows by the pages one commit writes, not by a commit per chat. Counted from the log
    // itself: the checkpoint worker is stopped and nothing else checkpoints, or a checkpoint of its
    // own, under way when this one is asked, would make it answer -1 (busy).
    await db.checkpoints.close();
    hot.pragma("wal_autocheckpoint = 0");
    const frames = () => (hot.pragma("wal_checkpoint(PASSIVE)") as Array<{ log: number }>)[0]!.log;
    hot.pragma("wal_checkpoint(TRUNCATE)");
    await Promise.all(Array.from({ length: 100 }, (_, i) => write(() => insert.run(`together-${i}`))));
    const together = frames();
    hot.pragma("wal_checkpoint(TRUNCATE)");
    for (let i = 0; i < 100; i++) await write(() => insert.run(`alone-${i}`));
    const alone = frames();
    expect(keys().split(",").length).toBe(203);
    expect(together * 10).toBeLessThan(alone);
  });

  it("under load, writes of the next turns wait for the gap after a commit and share the next one; an idle writer does not wait", async () => {
    db = await openDatabase(path.join(tempDir(), "g.db"), TEST_KEY);
    const insert = db.hot.prepare("INSERT INTO processed_updates (key, at) VALUES (?, 'now')");
    // A gap no machine's stall between two turns comes near, so the test says the same under load.
    const write = createWriter(db.hot, undefined, 1000);
    // In a batch of more than one, the writes run inside the batch's one transaction.
    const shared = (key: string) => () => (insert.run(key), db!.hot.inTransaction);
    const started = Date.now();
    expect(await write(shared("alone, to an idle writer"))).toBe(false);
    expect(Date.now() - started).toBeLessThan(500);
    const next = write(shared("just after the commit"));
    await new Promise((r) => setImmediate(r));
    const later = write(shared("a turn later"));
    expect(await Promise.all([next, later])).toEqual([true, true]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it("the log is checkpointed off the bot's thread: what was written reaches the database file, though the message connection leaves the log alone up to 10,000 pages", async () => {
    const file = path.join(tempDir(), "k.db");
    db = await openDatabase(file, TEST_KEY);
    expect(db.hot.pragma("wal_autocheckpoint", { simple: true })).toBe(10_000);
    const insert = db.hot.prepare("INSERT INTO processed_updates (key, at) VALUES (?, ?)");
    const before = fs.statSync(file).size;
    const row = "x".repeat(1500);
    // Some 3,000 pages through the log (the row and its index entry), in commits of their own.
    for (let i = 0; i < 800; i++) insert.run(`k${i}`, row);
    const copied = () => fs.statSync(file).size >= before + 800 * 1500;
    for (const deadline = Date.now() + 15_000; !copied() && Date.now() < deadline;)
      await new Promise((r) => setTimeout(r, 50));
    expect(copied()).toBe(true);
    expect(db.hot.prepare("SELECT count(*) FROM processed_updates").pluck().get()).toBe(800);
  });

  it("a checkpoint that holds the bot's writes comes at most once a second, however fast the log grows; a wipe's truncation waits its turn", async () => {
    const file = path.join(tempDir(), "h.db");
    db = await openDatabase(file, TEST_KEY);
    await db.checkpoints.close();
    const holds: Array<{ mode: string; at: number }> = [];
    const checkpoints = startCheckpoints(db.hot, file, (mode) => holds.push({ mode, at: performance.now() }));
    const insert = db.hot.prepare("INSERT INTO processed_updates (key, at) VALUES (?, ?)");
    const row = "x".repeat(1500);
    const some = db.hot.transaction((from: number) => {
      for (let i = 0; i < 40; i++) insert.run(`h${from + i}`, row);
    });
    // Thousands of pages a second through the log: past RESTART_AT_PAGES at almost every pass of
    // the worker. A wipe comes just after the first hold.
    let wiped = false;
    for (let n = 0, until = performance.now() + 2400; performance.now() < until; n += 40) {
      await retrying(() => some(n));
      if (!wiped && holds.length) {
        checkpoints.truncateSoon();
        wiped = true;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    // Another wipe as the writes stop: its truncation too waits for its turn, then empties the log.
    checkpoints.truncateSoon();
    const log = () => (fs.existsSync(`${file}-wal`) ? fs.statSync(`${file}-wal`).size : 0);
    for (const deadline = Date.now() + 5000; log() > 0 && Date.now() < deadline;)
      await new Promise((r) => setTimeout(r, 50));
    await checkpoints.close();
    expect(holds.length).toBeGreaterThanOrEqual(3);
    expect(holds.map((h) => h.mode)).toContain("TRUNCATE");
    for (let i = 1; i < holds.length; i++)
      expect(holds[i]!.at - holds[i - 1]!.at).toBeGreaterThanOrEqual(HOLD_GAP_MS - 1);
    expect(log()).toBe(0);
  });

  it("without its worker, the log is still truncated soon after a wipe: by the message connection", async () => {
    const file = path.join(tempDir(), "t.db");
    db = await openDatabase(file, TEST_KEY);
    await db.checkpoints.close(); // the worker is gone, as if it had failed
    const insert = db.hot.prepare("INSERT INTO processed_updates (key, at) VALUES (?, 'now')");
    for (let i = 0; i < 50; i++) insert.run(`w${i}`);
    const log = () => (fs.existsSync(`${file}-wal`) ? fs.statSync(`${file}-wal`).size : 0);
    expect(log()).toBeGreaterThan(0);
    db.checkpoints.truncateSoon();
    for (const deadline = Date.now() + 10_000; log() > 0 && Date.now() < deadline;)
      await new Promise((r) => setTimeout(r, 50));
    expect(log()).toBe(0);
  });

  it("a quick exit's write does not wait for the gap: it commits at once, with what waited for it", async () => {
    db = await openDatabase(path.join(tempDir(), "n.db"), TEST_KEY);
    const insert = db.hot.prepare("INSERT INTO processed_updates (key, at) VALUES (?, 'now')");
    const write = createWriter(db.hot, undefined, 60_000);
    await write(() => insert.run("a commit"));
    let waited = false;
    const queued = write(() => insert.run("a screen's message id")).then(() => (waited = true));
    await write.now(() => insert.run("exit marker"));
    await Promise.resolve();
    expect(waited).toBe(true);
    await queued;
  });

  it("an urgent write (quick exit) commits within the turn, after every write queued before it", async () => {
    db = await openDatabase(path.join(tempDir(), "u.db"), TEST_KEY);
    const insert = db.hot.prepare("INSERT INTO processed_updates (key, at) VALUES (?, 'now')");
    const has = (key: string) =>
      db!.hot.prepare("SELECT 1 FROM processed_updates WHERE key = ?").get(key) !== undefined;
    const write = createWriter(db.hot);
    let turned = false;
    setImmediate(() => (turned = true));
    const queued = write(() => insert.run("a screen's message id"));
    await write.now(() => insert.run("exit marker"));
    expect(turned).toBe(false);
    expect([has("a screen's message id"), has("exit marker")]).toEqual([true, true]);
    await queued;
  });
  it("a session read from memory is what the database holds: saved, wiped, purged, and a failed save not shown", async () => {
    const file = path.join(tempDir(), "c.db");
    db = await openDatabase(file, TEST_KEY);
    const store = createSqliteStore(db);
    const a = makeAddress("telegram", 5);
    const at = new Date("2026-11-25T10:00:00Z");
    const fresh = {
      address: a,
      locale: "kk" as const,
      country: "KZ" as const,
      state: null,
      autoEraseMinutes: null,
      limitsShown: false,
      lastSeenAt: at,
      createdAt: at,
    };
    await store.saveSession(fresh);
    const got = (await store.getSession(a))!;
    got.locale = "ky"; // changed by a handler, not saved
    expect((await store.getSession(a))!.locale).toBe("kk");
    // Another connection (as after a restart) sees what memory says.
    await store.saveSession({
      ...fresh,
      locale: "ru",
      state: { v: 2, screen: "menu", nonce: "n1", options: [{ id: "lines", label: "☎" }] },
    });
    const disk = new Database(file, { readonly: true });
    const row = disk.prepare("SELECT locale, state FROM sessions WHERE chat = ?").get(db.sealer.chatKey(a)) as {
      locale: string;
      state: string;
    };
    expect({ locale: row.locale, state: db.sealer.open(row.state) }).toEqual({
      locale: "ru",
      state: expect.stringContaining('"nonce":"n1"'),
    });
    expect((await store.getSession(a))!.state?.nonce).toBe("n1");
    // A wipe queued in the same turn as a read is not undone by what that read remembered.
    const wiping = store.settleExitPass(a, [], []);
    await store.getSession(a);
    await wiping;
    expect(await store.getSession(a)).toBeNull();
    // A save that fails leaves nothing behind in memory.
    await store.saveSession(fresh);
    const other = new Database(file);
    other.exec("CREATE TRIGGER refuse BEFORE UPDATE ON sessions BEGIN SELECT RAISE(ABORT, 'disk full'); END");
    await expect(store.saveSession({ ...fresh, locale: "ky" })).rejects.toThrow(/disk full/);
    expect((await store.getSession(a))!.locale).toBe("kk");
    other.exec("DROP TRIGGER refuse");
    other.close();
    // Retention forgets a silent session in memory too.
    await store.purgeExpired(new Date(at.getTime() + 48 * 3600_000), { sessionTtlHours: 24, messageTrackHours: 24 });
    expect(await store.getSession(a)).toBeNull();
    expect(disk.prepare("SELECT count(*) AS n FROM sessions").get()).toEqual({ n: 0 });
    disk.close();
  });

  it("a screen's state is written within its window; who the person is and the message ids are written at once", async () => {
    const file = path.join(tempDir(), "lazy.db");
    db = await openDatabase(file, TEST_KEY);
    const store = createSqliteStore(db, { sessionWriteMs: 300 });
    const a = makeAddress("telegram", 6);
    const chat = db.sealer.chatKey(a);
    const at = new Date("2026-11-25T10:00:00Z");
    const first = atMenu(a, "kk", "KZ", at);
    await store.saveSession(first, [], { lazy: true }); // a new session: at once
    const disk = new Database(file, { readonly: true });
    const onDisk = () => ({
      locale: disk.prepare("SELECT locale FROM sessions WHERE chat = ?").pluck().get(chat),
      nonce: nonceOnDisk(disk, chat),
    });
    expect(onDisk()).toEqual({ locale: "kk", nonce: "n1" });
    // Only where she is changed: the screen's message id is on the disk at once, the state soon.
    await store.saveSession({ ...first, state: screen("n2") }, [{ id: "77", fromBot: true, at }], { lazy: true });
    expect(disk.prepare("SELECT message_id FROM tracked_messages WHERE chat = ?").pluck().all(chat)).toEqual(["77"]);
    expect((await store.getSession(a))!.state?.nonce).toBe("n2");
    await vi.waitFor(() => expect(onDisk()).toEqual({ locale: "kk", nonce: "n2" }), { timeout: 3000 });
    // Her language changed: written at once, with the screen.
    await store.saveSession({ ...first, locale: "ru", state: screen("n3") }, [], { lazy: true });
    expect(onDisk()).toEqual({ locale: "ru", nonce: "n3" });
    // A screen still waiting when the store closes is written then.
    await store.saveSession({ ...first, locale: "ru", state: screen("n4") }, [], { lazy: true });
    await store.close();
    expect(onDisk()).toEqual({ locale: "ru", nonce: "n4" });
    disk.close();
  });

  it("a screen whose late write fails is kept, said, and written once the database takes it again (D2)", async () => {
    const file = path.join(tempDir(), "late-fail.db");
    db = await openDatabase(file, TEST_KEY);
    const failures: unknown[] = [];
    const store = createSqliteStore(db, { sessionWriteMs: 50, onLateWriteFailed: (err) => failures.push(err) });
    const a = makeAddress("telegram", 7);
    const first = atMenu(a, "ky", "KG", new Date("2026-11-25T10:00:00Z"));
    await store.saveSession(first);
    const other = new Database(file);
    other.exec("CREATE TRIGGER refuse BEFORE UPDATE ON sessions BEGIN SELECT RAISE(ABORT, 'disk full'); END");
    await store.saveSession({ ...first, state: screen("n2") }, [], { lazy: true });
    await vi.waitFor(() => expect(String(failures[0])).toMatch(/disk full/), { timeout: 3000 });
    // Memory still answers the person with the screen she sees.
    expect((await store.getSession(a))!.state?.nonce).toBe("n2");
    other.exec("DROP TRIGGER refuse");
    await vi.waitFor(() => expect(nonceOnDisk(other, db!.sealer.chatKey(a))).toBe("n2"), { timeout: 3000 });
    other.close();
    await store.close();
  });

  it("a window of many screens is written whole, and a chat erased while it goes out stays erased", async () => {
    // Many people, each a screen further on, waiting to be written.
    const { file, store, people } = await windowOfScreens("late-many.db", 9000);
    const erased = people.at(-1)!;
    // She leaves as the window's screens go out: both in the same turn, her erasure first.
    await Promise.all([store.settleExitPass(erased, [], []), store.close()]);
    const disk = new Database(file, { readonly: true });
    const nonces = people.map((a) => nonceOnDisk(disk, db!.sealer.chatKey(a)));
    disk.close();
    expect(nonces.slice(0, -1).every((n) => n === "n2")).toBe(true);
    expect(nonces.at(-1)).toBeUndefined();
  });

  it("a window's screens go out a slice at a time: other chats' writes do not wait for the whole window, and a chat erased between slices stays erased", async () => {
    const { file, store, people, at } = await windowOfScreens("late-slices.db", 12000);
    const disk = new Database(file, { readonly: true });
    const written = () => people.filter((a) => nonceOnDisk(disk, db!.sealer.chatKey(a)) === "n2").length;
    // The window starts going out; someone else's message id, queued in the same moment, is on the
    // disk before the window is done.
    const closing = store.close();
    await store.trackMessages(makeAddress("telegram", 13000), [{ id: "5", fromBot: false, at }]);
    const byThen = written();
    expect(byThen).toBeGreaterThan(0);
    expect(byThen).toBeLessThan(people.length);
    // The last person leaves while the rest of the window is going out: her screen does not come back.
    const erased = people.at(-1)!;
    await store.settleExitPass(erased, [], []);
    await closing;
    expect(written()).toBe(people.length - 1);
    expect(nonceOnDisk(disk, db!.sealer.chatKey(erased))).toBeUndefined();
    disk.close();
  });

  it("a slice whose write fails keeps its screens and the window's rest, said, and written once the database takes them again (D2)", async () => {
    // The disk refuses one chat's row, in the window's third slice.
    let other!: Database.Database;
    const { store, people, failures } = await windowOfScreens("late-slice-fail.db", 14000, {
      sessionWriteMs: 50,
      beforeScreens: (file, people) => {
        other = new Database(file);
        other.exec(
          `CREATE TRIGGER refuse BEFORE UPDATE ON sessions WHEN NEW.chat = '${db!.sealer.chatKey(people[150]!)}' BEGIN SELECT RAISE(ABORT, 'disk full'); END`,
        );
      },
    });
    const refused = people[150]!;
    await vi.waitFor(() => expect(String(failures[0])).toMatch(/disk full/), { timeout: 3000 });
    const onDisk = () => people.map((a) => nonceOnDisk(other, db!.sealer.chatKey(a)));
    // Those before it are written; memory still answers her and the rest with the screen they see.
    expect(
      onDisk()
        .slice(0, 128)
        .every((n) => n === "n2"),
    ).toBe(true);
    expect(onDisk()[150]).toBe("n1");
    for (const a of [refused, people.at(-1)!]) expect((await store.getSession(a))!.state?.nonce).toBe("n2");
    other.exec("DROP TRIGGER refuse");
    await vi.waitFor(() => expect(onDisk().every((n) => n === "n2")).toBe(true), { timeout: 3000 });
    other.close();
    await store.close();
  });

  it("a sent report takes its draft with it in the same commit; a report that could not be saved leaves the draft (R7)", async () => {
    db = await openDatabase(path.join(tempDir(), "d.db"), TEST_KEY);
    const reportsSealer = createSealer(Buffer.alloc(32, 5));
    const reports = createReportStore(db, reportsSealer);
    const [a, b] = [makeAddress("telegram", 51), makeAddress("telegram", 52)];
    const draft = { step: "review", about: "self" as const, kinds: ["physical" as const], text: "…" };
    await reports.saveDraft(a, draft, new Date());
    await reports.saveDraft(b, draft, new Date());
    const sent = await seedReport(reports, a, -100);
    // Read straight from the file: no later write of the flow removed it, the submit did.
    expect(db.hot.prepare("SELECT chat FROM report_drafts ORDER BY chat").all()).toEqual([
      { chat: reportsSealer.chatKey(b) },
    ]);
    await expect(seedReport(reports, b, -100, { code: sent.code })).rejects.toThrow(); // the code is taken
    expect(await reports.getDraft(b)).toMatchObject({ step: "review", text: "…" });
  });

  it("a draft read from memory is what the database holds: changed by a caller, saved, a failed save, deleted, sent, purged (R7)", async () => {
    const file = path.join(tempDir(), "dc.db");
    db = await openDatabase(file, TEST_KEY);
    const sealer = createSealer(Buffer.alloc(32, 6));
    const reports = createReportStore(db, sealer);
    const a = makeAddress("telegram", 61);
    const at = new Date("2026-11-25T10:00:00Z");
    const draft = { step: "text", about: "self" as const, kinds: ["physical" as const], text: "первый" };
    await reports.saveDraft(a, draft, at);
    const got = (await reports.getDraft(a))!;
    got.text = "изменён"; // changed by a handler, not saved
    expect(await reports.getDraft(a)).toMatchObject({ text: "первый", updatedAt: at.toISOString() });
    // The file holds what memory gives back.
    const later = new Date(at.getTime() + 60_000);
    await reports.saveDraft(a, { ...draft, text: "второй" }, later);
    const disk = new Database(file);
    const row = disk.prepare("SELECT data_enc FROM report_drafts WHERE chat = ?").get(sealer.chatKey(a)) as {
      data_enc: string;
    };
    expect(JSON.parse(sealer.open(row.data_enc))).toMatchObject({ text: "второй" });
    expect(await reports.getDraft(a)).toMatchObject({ text: "второй", updatedAt: later.toISOString() });
    // A save that fails is not offered: the draft is the one the database kept.
    disk.exec("CREATE TRIGGER refuse BEFORE UPDATE ON report_drafts BEGIN SELECT RAISE(ABORT, 'disk full'); END");
    await expect(reports.saveDraft(a, { ...draft, text: "третий" }, later)).rejects.toThrow(/disk full/);
    expect(await reports.getDraft(a)).toMatchObject({ text: "второй" });
    disk.exec("DROP TRIGGER refuse");
    disk.close();
    // Deleted, sent, purged: nothing to resume.
    await reports.deleteDraft(a);
    expect(await reports.getDraft(a)).toBeNull();
    await reports.saveDraft(a, draft, at);
    await seedReport(reports, a, -100);
    expect(await reports.getDraft(a)).toBeNull();
    const b = makeAddress("telegram", 62);
    await reports.saveDraft(b, draft, at);
    expect(await reports.getDraft(b)).toMatchObject({ text: "первый" });
    await reports.purge(new Date(at.getTime() + 25 * 3600_000), {
      relayDays: 30,
      textDays: 90,
      draftHours: 24,
      auditDays: 365,
    });
    expect(await reports.getDraft(b)).toBeNull();
  });

  it("replies held by a quick exit stay held on the next message, also after a restart, until the case word unlocks them (decision 10)", async () => {
    const file = path.join(tempDir(), "h.db");
    db = await openDatabase(file, TEST_KEY);
    const sealer = createSealer(Buffer.alloc(32, 4));
    let reports = createReportStore(db, sealer);
    const a = makeAddress("telegram", 41);
    const other = makeAddress("telegram", 42);
    const r = await seedReport(reports, a, -100);
    await seedReport(reports, other, -100);
    const at = new Date();
    expect(await reports.touchRelays(a, at)).toEqual([]); // nothing held yet
    expect(await reports.holdRelays(a, at)).toEqual([r.id]);
    expect(await reports.touchRelays(other, at)).toEqual([]);
    expect(await reports.relayAddress(r.id)).toBe(a);
    expect((await reports.relayInfo(r.id))!.heldSince?.getTime()).toBe(at.getTime());
    await db.close();
    db = await openDatabase(file, TEST_KEY);
    reports = createReportStore(db, sealer);
    // Writing again does not lift it: the report is locked in that chat.
    expect(await reports.touchRelays(a, at)).toEqual([]);
    expect(await reports.relayInfo(r.id)).toEqual({
      heldSince: expect.any(Date),
      lockedAt: expect.any(Date),
      lastInboundAt: expect.any(Date),
    });
    // The case word does, once.
    expect(await reports.unlockRelay(r.id, at)).toBe(true);
    expect(await reports.unlockRelay(r.id, at)).toBe(false);
    expect(await reports.relayInfo(r.id)).toEqual({ heldSince: null, lockedAt: null, lastInboundAt: expect.any(Date) });
    await reports.noteVerified(r.id, new Date(at.getTime() + 5000)); // written through Prisma, read here
    expect((await reports.relayInfo(r.id))!.lastInboundAt.getTime()).toBe(at.getTime() + 5000);
    expect(
      db.hot.prepare("SELECT count(*) AS n FROM relays WHERE held_since IS NOT NULL OR locked_at IS NOT NULL").get(),
    ).toEqual({ n: 0 });
  });
});
