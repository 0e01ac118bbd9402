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
 * Durability. An fsync on every commit was, after Prisma, the largest cost per
 * message in the benchmark (README "Benchmark"). So this connection commits
 * with synchronous=NORMAL, which SQLite keeps durable across a crash or kill
 * of the process, and `durably` switches to FULL for every write that is the
 * queue (a report, an outbox row or its state, a relay hold, an exit marker):
 * those survive power loss as D1 asks, and their fsync carries every earlier
 * commit with it. Sessions, message ids and drafts written in between reach
 * the disk at the next such commit or within `WAL_FLUSH_MS` (`flushWal`).
 */
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
 * Runs a write with synchronous=FULL: committed means on the disk, with everything before it.
 * (SQLite applies this PRAGMA when it is compiled, so a prepared copy cannot be reused.)
 */
export function durably<T>(db: HotDb, fn: () => T): T {
  db.exec("PRAGMA synchronous = FULL");
  try {
    return fn();
  } finally {
    db.exec("PRAGMA synchronous = NORMAL");
  }
}

export const WAL_FLUSH_MS = 1000;

/** A passive checkpoint syncs the write-ahead log to the disk (and folds it back) without waiting for anyone. */
export function flushWal(db: HotDb): void {
  try {
    if (db.open) db.pragma("wal_checkpoint(PASSIVE)");
  } catch {
    // Busy or closing: the next tick tries again.
  }
}
