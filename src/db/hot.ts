/**
 * The connection every message touches (opened by `openDatabase`): prepared
 * better-sqlite3 statements, each transaction synchronous (it never stays
 * open across an `await`).
 *
 * Another program may hold the file's write lock for a while (an operator's
 * `sqlite3`, a backup tool, a test's Prisma client, whose interactive
 * transactions stay open across awaits). SQLite's own busy handler would
 * sleep inside this one thread meanwhile, and when the other transaction needs
 * this thread to finish (a client in this process), stall until the timeout.
 * So this connection does not wait in SQLite; `retrying` gives the event loop
 * back and tries again with jitter (D2), and the other transaction commits
 * meanwhile. Writes
 * of one turn of the event loop are committed together (`createWriter`).
 *
 * Durability. An fsync on every commit, in this one thread, was after Prisma
 * the largest cost per message in the benchmark, and it stalled every chat
 * while the disk answered (bench/README.md). So this connection commits
 * with synchronous=NORMAL, which SQLite keeps durable across a crash or kill
 * of the process, and the write-ahead log is synced to the disk off the thread
 * (`createWalSync`: fdatasync in libuv's pool). A write that is the queue (a
 * report, an outbox row or its state, timed deletions) awaits a
 * sync that began after its commit before anyone is told, so it survives
 * power loss as D1 asks; commits waiting together share one sync (group
 * commit). Sessions, message ids, drafts and a quick exit's marks (which must
 * not wait for a disk) reach it with the next sync, at most `WAL_SYNC_MS` later.
 */
import fs from "node:fs";
import type Database from "better-sqlite3";

export type HotDb = Database.Database;

const isBusy = (err: unknown) => {
  const code = (err as { code?: unknown }).code;
  return typeof code === "string" && (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED"));
};

/** Total time a write keeps trying before it is reported as not saved (D2). */
export const RETRY_BUDGET_MS = 15_000;

/** Runs a synchronous write; on busy, yields and tries again with jitter until the budget is spent. */
export async function retrying<T>(fn: () => T, budgetMs = RETRY_BUDGET_MS): Promise<T> {
  const start = Date.now();
  for (let attempt = 0; ; attempt++) {
    try {
      return fn();
    } catch (err) {
      if (!isBusy(err) || Date.now() - start > budgetMs) throw err;
      const base = Math.min(200, 2 ** attempt);
      await new Promise((r) => setTimeout(r, base / 2 + Math.random() * base));
    }
  }
}

/**
 * Writes of the message connection, committed together (group commit). A write queued now runs at
 * the end of this turn of the event loop, in one transaction with every other write queued in the
 * same turn: under load the dozens of chats answered in one turn share one BEGIN, one COMMIT, and
 * each page of the log is written once instead of once per chat (bench/README.md). Under load a
 * commit also waits until `COMMIT_GAP_MS` after the one before, so the writes of the turns between
 * share it too. A write that fails is undone and rejected alone (the batch runs again write by
 * write). The transaction is synchronous, like every transaction of this connection, and a busy
 * database is retried as a whole by `retrying` before any write ran. The promise resolves after
 * the commit, in queue order.
 */
export interface Writer {
  <T>(fn: () => T): Promise<T>;
  /**
   * Commits at once, without waiting for the end of the turn: this write, after every write queued
   * before it (they are committed first, in order, in the same batch). For a quick exit, which must
   * not wait behind a turn of other people's work (S1) and must see every message id saved before.
   */
  now<T>(fn: () => T): Promise<T>;
}

type Op = { fn: () => unknown; resolve: (v: any) => void; reject: (e: unknown) => void };
type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * Under load, the least time between two commits of the writer (ms): the writes that come meanwhile
 * wait for the next and share it. At everyday load a turn of the event loop held only a few writes
 * (1,000 commits a second), and every commit wrote the pages they share (an index's last page, the
 * log's header) to the log again, with its own locks and system calls (bench/README.md).
 * A write that finds the writer idle this long commits at the end of its turn, as before.
 */
export const COMMIT_GAP_MS = 3;

export function createWriter(db: HotDb, budgetMs = RETRY_BUDGET_MS, gapMs = COMMIT_GAP_MS): Writer {
  let queue: Op[] = [];
  let scheduled = false;
  let timer: NodeJS.Timeout | undefined;
  /** When the last batch was taken (performance.now()). */
  let lastFlush = -Infinity;
  /** The batch before, if it is still waiting out a busy database: batches commit in order. */
  let previous: Promise<void> = Promise.resolve();
  // All of a batch's writes in one transaction. When one fails, the whole batch is undone and each
  // write runs again alone, in order, in a transaction of its own: the failing one is rejected, the
  // others land. Failures are rare; savepoints around every write cost more than they saved.
  const together = db.transaction((ops: Op[]) => ops.map((op) => op.fn()));
  const alone = db.transaction((fn: () => unknown) => fn());

  const run = async (ops: Op[]) => {
    let outcomes: Outcome[];
    try {
      // One write alone needs no BEGIN of ours: it is its own transaction, as before batching.
      outcomes =
        ops.length === 1
          ? [{ ok: true, value: await retrying(ops[0]!.fn, budgetMs) }]
          : (await retrying(() => together.immediate(ops), budgetMs)).map((value) => ({ ok: true, value }));
    } catch (error) {
      if (ops.length === 1 || isBusy(error)) outcomes = ops.map(() => ({ ok: false, error }));
      else {
        outcomes = [];
        for (const op of ops) {
          try {
            outcomes.push({ ok: true, value: await retrying(() => alone.immediate(op.fn), budgetMs) });
          } catch (e) {
            outcomes.push({ ok: false, error: e });
          }
        }
      }
    }
    outcomes.forEach((o, i) => (o.ok ? ops[i]!.resolve(o.value) : ops[i]!.reject(o.error)));
  };
  const flush = () => {
    scheduled = false;
    if (timer) clearTimeout(timer);
    timer = undefined;
    const ops = queue;
    if (!ops.length) return;
    queue = [];
    lastFlush = performance.now();
    previous = previous.then(() => run(ops));
  };
  const write = <T>(fn: () => T) =>
    new Promise<T>((resolve, reject) => {
      queue.push({ fn, resolve, reject });
      if (!scheduled) {
        scheduled = true;
        const wait = lastFlush + gapMs - performance.now();
        if (wait > 0) timer = setTimeout(flush, wait);
        else setImmediate(flush);
      }
    });
  const now = <T>(fn: () => T) => {
    const done = write(fn);
    flush();
    return done;
  };
  return Object.assign(write, { now });
}

/**
 * A write of several statements that must land together: its own transaction when it runs alone,
 * and simply part of the batch's when the writer runs it with others (a failure undoes the whole
 * batch there, and each write runs again alone). better-sqlite3 would make it a savepoint inside
 * the batch: two statements more (SAVEPOINT, RELEASE) for each of the writes every message makes.
 * Only for functions that do not catch their own statements' errors.
 */
export function atomic<A extends unknown[], R>(db: HotDb, fn: (...args: A) => R): (...args: A) => R {
  const tx = db.transaction(fn);
  return (...args: A) => (db.inTransaction ? fn(...args) : tx(...args));
}

/** A write that must survive power loss before anyone is told: committed with its turn's batch, then on the disk. */
export function durably(write: Writer, walSync: () => Promise<void>): <T>(fn: () => T) => Promise<T> {
  return async (fn) => {
    const out = await write(fn);
    await walSync();
    return out;
  };
}

export const WAL_SYNC_MS = 1000;

export interface WalSync {
  /** Resolves once everything committed before the call is on the disk. */
  (): Promise<void>;
  /** Syncs still owed, then stops the timer and lets go of the file. */
  close(): Promise<void>;
}

type Fdatasync = (fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => void;

/**
 * Group-committed fdatasync of `<file>-wal`, and one each `WAL_SYNC_MS` when something was written.
 * A sync covers every commit made before it was issued, so a caller waits for the latest sync if
 * nothing was committed since it was issued, and otherwise issues a new one at once, even while
 * another is under way: under load, waiting for the running sync and then the next cost two turns
 * of a busy event loop per report (bench/README.md); a sync takes well under a millisecond.
 */
export function createWalSync(db: HotDb, file: string, fdatasync: Fdatasync = fs.fdatasync): WalSync {
  let fd: number | undefined;
  /** The latest sync issued, and total_changes() when it was issued. */
  let latest: Promise<void> | undefined;
  let latestAt = -1;
  /** Every sync under way: the file is closed only after the last. */
  const going = new Set<Promise<void>>();
  const total = db.prepare("SELECT total_changes()").pluck();

  const once = async () => {
    if (fd === undefined) {
      try {
        fd = fs.openSync(`${file}-wal`, "r");
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return; // no log yet: everything is in the main file
        throw err;
      }
    }
    const handle = fd;
    await new Promise<void>((resolve, reject) => fdatasync(handle, (err) => (err ? reject(err) : resolve())));
  };
  const sync = (() => {
    const changes = Number(total.get());
    if (latest && changes === latestAt) return latest; // nothing committed since it was issued: it covers this too
    latestAt = changes;
    const issued: Promise<void> = once()
      .catch((err: unknown) => {
        if (latest === issued) latest = undefined; // the next caller tries again
        throw err;
      })
      .finally(() => going.delete(issued));
    going.add(issued);
    return (latest = issued);
  }) as WalSync;
  const timer = setInterval(() => sync().catch(() => undefined), WAL_SYNC_MS);
  timer.unref();
  sync.close = async () => {
    clearInterval(timer);
    await sync().catch(() => undefined);
    await Promise.allSettled([...going]);
    if (fd !== undefined) fs.closeSync(fd);
    fd = undefined;
  };
  return sync;
}
