/**
 * Opens the SQLite database: integrity check, migrations, connection PRAGMAs,
 * each read back (D1, D5). The bot refuses to start rather than run on a
 * damaged or misconfigured file.
 */
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { applyMigrations } from "./migrate.ts";
import { checkKey, hideAddresses, KeyMismatchError, unlockKeys } from "./keyring.ts";
import { nativeModuleProblem } from "./native.ts";
import { createSealer, type Sealer } from "../core/safety/sealer.ts";
import { startCheckpoints, type Checkpoints } from "./checkpoints.ts";
import { createWalSync, createWriter, type HotDb, type WalSync, type Writer } from "./hot.ts";

export const BUSY_TIMEOUT_MS = 5000;

export class DatabaseStartError extends Error {
  override name = "DatabaseStartError";
}

const errCode = (err: unknown) => (err as { code?: string }).code ?? (err as Error).name;

export interface OpenedDatabase {
  /**
   * The bot's one connection (see hot.ts): every table is read and written here. Prisma is the
   * schema and its migrations (prisma/); its client is not loaded by the bot (db/README.md).
   */
  hot: HotDb;
  /** Resolves once everything the message connection committed before the call is on the disk. */
  walSync: WalSync;
  /** Writes of the message connection, committed together (group commit, see hot.ts). */
  write: Writer;
  /** The log's checkpoints, in a worker thread with a connection of its own (checkpoints.ts). */
  checkpoints: Checkpoints;
  file: string;
  applied: string[];
  /** Seals under ENCRYPTION_KEY with this database's data keys (src/db/keyring.ts). */
  sealer: Sealer;
  close(): Promise<void>;
}

/** Keeps the write-ahead log small once checkpointed: a wiped chat's pages do not linger in it. */
export const JOURNAL_SIZE_LIMIT = 4 * 1024 * 1024;

/**
 * Runs checks and migrations on a short-lived raw connection, before the bot's own opens. The key
 * is checked before anything is written (a wrong key changes nothing); addresses an older version
 * kept in clear become chat keys.
 */
export function prepareDatabaseFile(file: string, key: Buffer): { applied: string[]; sealer: Sealer } {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new DatabaseStartError(
      `DATABASE_URL: cannot create the folder ${path.dirname(file)} (${errCode(err)}); create it, or point DATABASE_URL at a folder the service user can write`,
    );
  }
  const existed = fs.existsSync(file) && fs.statSync(file).size > 0;
  let raw: Database.Database;
  try {
    raw = new Database(file, { timeout: BUSY_TIMEOUT_MS });
  } catch (err) {
    throw new DatabaseStartError(
      nativeModuleProblem(err) ??
        `DATABASE_URL: cannot open the database file ${file} (${errCode(err)}); the service user must be able to read and write it and its folder`,
    );
  }
  try {
    // busy_timeout before journal_mode: switching the mode needs a lock (A3.6).
    raw.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    if (existed) {
      let result: unknown;
      try {
        result = raw.pragma("quick_check", { simple: true });
      } catch (err) {
        throw new DatabaseStartError(
          `the database file ${file} is damaged (${(err as Error).message}); restore the latest backup, do not delete it`,
        );
      }
      if (result !== "ok")
        throw new DatabaseStartError(
          `the database file ${file} failed its integrity check (${String(result)}); restore the latest backup`,
        );
    }
    // A file the service user cannot write opens fine and fails on every update later: tried now.
    try {
      raw.exec("BEGIN IMMEDIATE; CREATE TABLE _qorgau_write_probe (x); ROLLBACK;");
    } catch (err) {
      if (raw.inTransaction) raw.exec("ROLLBACK");
      throw new DatabaseStartError(
        `DATABASE_URL: the database file ${file} cannot be written (${errCode(err)}); give the service user write access to the file and its folder`,
      );
    }
    if (existed) checkKey(raw, key);
    const mode = raw.pragma("journal_mode = WAL", { simple: true });
    if (mode !== "wal")
      throw new DatabaseStartError(
        `could not switch ${file} to WAL mode (got ${String(mode)}); is it on a network drive?`,
      );
    // Before the migrations: a table one of them rebuilds leaves its old pages zeroed, not free.
    raw.pragma("secure_delete = ON");
    const applied = applyMigrations(raw);
    const sealer = createSealer(key, unlockKeys(raw, key));
    if (hideAddresses(raw, sealer) > 0) raw.pragma("wal_checkpoint(TRUNCATE)");
    return { applied, sealer };
  } catch (err) {
    if (err instanceof KeyMismatchError) throw new DatabaseStartError(err.message);
    throw err;
  } finally {
    raw.close();
  }
}

export async function openDatabase(
  file: string,
  key: Buffer,
  opts: { fdatasync?: Parameters<typeof createWalSync>[2] } = {},
): Promise<OpenedDatabase> {
  const { applied, sealer } = prepareDatabaseFile(file, key);
  const hot = openHotConnection(file);
  const walSync = createWalSync(hot, file, opts.fdatasync);
  const checkpoints = startCheckpoints(hot, file);
  return {
    hot,
    walSync,
    write: createWriter(hot),
    checkpoints,
    file,
    applied,
    sealer,
    close: async () => {
      await checkpoints.close();
      await walSync.close();
      hot.close();
    },
  };
}

const HOT_WANTED: Array<[string, string | number]> = [
  // NORMAL: queue writes await a sync of the log off the thread instead (see hot.ts).
  ["synchronous", 1],
  ["foreign_keys", 1],
  ["secure_delete", 1],
  ["journal_size_limit", JOURNAL_SIZE_LIMIT],
  // MEMORY: a batch of many chats' writes keeps the pages it changed in a statement journal, and
  // past 64 KiB SQLite spilled it to an unlinked temporary file: a quarter of what the bot wrote to
  // the disk at everyday load (bench/README.md), and copies of those pages that secure_delete
  // never zeroes.
  ["temp_store", 2],
];

/** The message connection (see hot.ts): its PRAGMAs read back, and no waiting inside SQLite. */
function openHotConnection(file: string): HotDb {
  const db = new Database(file, { fileMustExist: true, timeout: 0 });
  db.pragma("busy_timeout = 0");
  db.pragma("synchronous = NORMAL");
  db.pragma("foreign_keys = ON");
  db.pragma("secure_delete = ON");
  db.pragma(`journal_size_limit = ${JOURNAL_SIZE_LIMIT}`);
  db.pragma("temp_store = MEMORY");
  for (const [name, want] of HOT_WANTED) {
    const got = db.pragma(name, { simple: true });
    if (got !== want) {
      db.close();
      throw new DatabaseStartError(`PRAGMA ${name} is ${String(got)} on the message connection, expected ${want}`);
    }
  }
  if (db.pragma("journal_mode", { simple: true }) !== "wal") {
    db.close();
    throw new DatabaseStartError("the message connection is not in WAL mode");
  }
  return db;
}
