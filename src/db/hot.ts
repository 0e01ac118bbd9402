/**
 * The connection every message touches (opened by `openDatabase`): prepared
 * better-sqlite3 statements, each transaction synchronous (it never stays
 * open across an `await`).
 *
 * Prisma has its own connection to the same file, and its interactive
 * transactions do stay open across awaits. SQLite's own busy handler would
 * sleep inside this one thread while Prisma's transaction, which needs this
 * thread to finish, waits too: a stall until the timeout. So this connection
 * does not wait in SQLite; `retrying` gives the event loop back and tries
 * again with jitter (D2), and Prisma's transaction commits meanwhile.
 *
 * Durability. An fsync on every commit, in this one thread, was after Prisma
 * the largest cost per message in the benchmark, and it stalled every chat
 * while the disk answered (README "Benchmark"). So this connection commits
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

export const WAL_SYNC_MS = 1000;

export interface WalSync {
  /** Resolves once everything committed before the call is on the disk. */
  (): Promise<void>;
  /** Syncs still owed, then stops the timer and lets go of the file. */
  close(): Promise<void>;
}

type Fdatasync = (fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => void;

/** Group-committed fdatasync of `<file>-wal`, and one each `WAL_SYNC_MS` when something was written. */
export function createWalSync(db: HotDb, file: string, fdatasync: Fdatasync = fs.fdatasync): WalSync {
  let fd: number | undefined;
  let running: Promise<void> | undefined;
  let next: Promise<void> | undefined;
  let lastChanges = -1;
  const total = db.prepare("SELECT total_changes()").pluck();

  const once = async () => {
    lastChanges = Number(total.get());
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
    if (!running) {
      running = once().finally(() => (running = undefined));
      return running;
    }
    // A sync is under way and may have begun before this caller's commit: the next one covers it.
    next ??= running.catch(() => undefined).then(() => {
      next = undefined;
      return sync();
    });
    return next;
  }) as WalSync;
  const timer = setInterval(() => {
    if (Number(total.get()) !== lastChanges) sync().catch(() => undefined);
  }, WAL_SYNC_MS);
  timer.unref();
  sync.close = async () => {
    clearInterval(timer);
    await sync().catch(() => undefined);
    if (fd !== undefined) fs.closeSync(fd);
    fd = undefined;
  };
  return sync;
}
