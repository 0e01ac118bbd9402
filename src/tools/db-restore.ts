/**
 * `npm run db:restore -- FILE`: puts a backup back as the database. Stop the
 * bot first. The backup is decrypted with ENCRYPTION_KEY (a file sealed with
 * another key is refused), checked (authentication, integrity, row counts),
 * and only then moved into place. A backup cannot know which quick exits came
 * after it, so every chat's reports are locked as after an exit until their
 * case word. The database it replaces is kept beside it as
 * `<file>.before-restore-<time>` for RESTORE_KEEP_DAYS days, then housekeeping
 * removes it.
 */
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { BackupKeyError, checkCopy, decryptBackup, lockAfterRestore, setAsideName } from "../db/backup.ts";
import { ConfigError, restoreKeepDays } from "../config.ts";
import { acquireLock, InstanceLockError } from "../db/lock.ts";
import { projectRoot } from "../paths.ts";
import { databaseFileFromUrl } from "../db/url.ts";
import { keyFromEnv, KeySourceError } from "../keys.ts";

class RestoreError extends Error {}

function main(argv: string[]): number {
  const envFile = path.join(projectRoot, ".env");
  if (fs.existsSync(envFile)) process.loadEnvFile(envFile);
  const backup = argv[0];
  if (!backup) {
    process.stderr.write("usage: npm run db:restore -- BACKUP_FILE   (stop the bot first)\n");
    return 1;
  }
  try {
    if (!fs.existsSync(backup)) throw new RestoreError(`there is no file ${backup}`);
    const key = keyFromEnv(process.env);
    const file = databaseFileFromUrl(process.env.DATABASE_URL);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const release = acquireLock(file);
    const incoming = `${file}.restoring`;
    try {
      decryptBackup(backup, incoming, key);
      const { integrity, counts } = checkCopy(incoming);
      if (integrity !== "ok")
        throw new RestoreError(`the backup decrypted but failed its integrity check (${integrity}); try an older one`);
      const keepDays = restoreKeepDays(process.env);
      const locked = lockAfterRestore(incoming, new Date());
      let aside: string | null = null;
      if (fs.existsSync(file)) {
        aside = setAsideName(file, new Date());
        // The old database's log goes with it: a -wal left behind would be replayed into the restored file.
        const old = new Database(file, { fileMustExist: true });
        try {
          old.pragma("wal_checkpoint(TRUNCATE)");
        } finally {
          old.close();
        }
        fs.renameSync(file, aside);
        for (const ext of ["-wal", "-shm"]) fs.rmSync(file + ext, { force: true });
      }
      fs.renameSync(incoming, file);
      const list = Object.entries(counts)
        .map(([t, n]) => `${t} ${n}`)
        .join(", ");
      process.stdout.write(
        `Restored ${backup} into ${file}: integrity ok; ${list}.\n` +
          `A backup cannot know which quick exits came after it, so the reports of all ${locked} reporters' chats are locked as after a quick exit: each opens again with its case word.\n` +
          (aside
            ? `The previous database is kept as ${aside} for ${keepDays} days (RESTORE_KEEP_DAYS), then the bot removes it.\n`
            : "") +
          "Start the bot.\n",
      );
      return 0;
    } finally {
      fs.rmSync(incoming, { force: true });
      release();
    }
  } catch (err) {
    if (
      err instanceof RestoreError ||
      err instanceof ConfigError ||
      err instanceof BackupKeyError ||
      err instanceof KeySourceError ||
      err instanceof InstanceLockError ||
      (err instanceof Error && /not a Qorgau backup|authentication failed/.test(err.message))
    ) {
      process.stderr.write(`db:restore: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

process.exitCode = main(process.argv.slice(2));
