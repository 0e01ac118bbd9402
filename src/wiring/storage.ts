/** Start-up of the storage: one writer, a writable backup folder, the key, the database and the directory seed. */
import fs from "node:fs";
import path from "node:path";
import type { Config } from "../config.ts";
import {
  createDirectory,
  createLiveDirectory,
  loadSeed,
  validateDirectory,
  visibleEntries,
} from "../core/directory/search.ts";
import type { DirectoryStore } from "../core/directory/store.ts";
import { acquireLock } from "../db/lock.ts";
import { DatabaseStartError, openDatabase, type OpenedDatabase } from "../db/open.ts";
import { createSqliteStore } from "../db/session-store.ts";
import { devKey, KeySourceError } from "../keys.ts";
import { describeError, type Logger } from "../logger.ts";

/**
 * The sealing key: ENCRYPTION_KEY, or outside production the development key (src/keys.ts). The
 * database checks it against the key it was made with (src/db/keyring.ts).
 */
export function encryptionKey(config: Config, logger: Logger): Buffer {
  if (!config.encryptionKeyGenerated) return config.encryptionKey;
  try {
    return devKey(process.env, path.join(path.dirname(config.databaseFile), "dev-encryption.key"), (line, moved) => {
      logger.warn("crypto.dev_key_made", { reason: moved ? "moved out of the database folder" : "made" });
      process.stderr.write(line);
    });
  } catch (err) {
    if (err instanceof KeySourceError) throw new DatabaseStartError(err.message);
    throw err;
  }
}

/** One writer per database (T2), a writable backup folder, then the database opened with its key. */
export async function openStorage(config: Config, logger: Logger, withJobs: boolean) {
  const releaseLock = acquireLock(config.databaseFile);
  try {
    // The nightly backup must be able to write: found now, not at 03:30 in a job's log.
    if (withJobs) {
      try {
        fs.mkdirSync(config.backupDir, { recursive: true, mode: 0o700 });
        fs.accessSync(config.backupDir, fs.constants.W_OK);
      } catch (err) {
        throw new DatabaseStartError(
          `BACKUP_DIR: cannot write the backup folder ${config.backupDir} (${(err as { code?: string }).code ?? "error"}); create it for the service user, or point BACKUP_DIR elsewhere`,
        );
      }
    }
    const key = encryptionKey(config, logger);
    const db = await openDatabase(config.databaseFile, key);
    logger.info("db.ready", { migrations: db.applied.length });
    return { db, key, releaseLock };
  } catch (err) {
    releaseLock();
    throw err;
  }
}

/** The chats' store on the message connection; a screen that could not be written late is logged. */
export function chatStore(db: OpenedDatabase, logger: Logger, sessionWriteMs?: number) {
  return createSqliteStore(db, {
    sessionWriteMs,
    onLateWriteFailed: (err) => logger.error("session.late_write_failed", describeError(err)),
  });
}

/** The sourced seed file, which must be sound before it is merged into the database. */
export function checkedSeed() {
  const seed = loadSeed();
  const problems = validateDirectory(createDirectory(seed.entries, seed.places));
  if (problems.length) throw new Error(`the crisis-center directory has problems:\n  - ${problems.join("\n  - ")}`);
  return seed;
}

/** The seed's new entries and unedited fields come into the database; staff edits stay. */
export async function syncDirectory(
  store: DirectoryStore,
  seed: ReturnType<typeof loadSeed>,
  logger: Logger,
  now: () => Date,
) {
  const synced = await store.syncSeed(seed.entries, now());
  if (synced.added || synced.updated) logger.info("directory.seeded", { count: synced.added + synced.updated });
  return createLiveDirectory(visibleEntries(await store.all(), now()), seed.places);
}
