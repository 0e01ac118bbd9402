/**
 * One writer per database (T2). The lock is an operating-system lock, not a
 * pid written in a file: a small SQLite file beside the database, opened in
 * exclusive locking mode and written once, keeps its file lock for as long as
 * the process lives, and the kernel lets go of it when the process dies,
 * however it dies. So a stale lock cannot exist (a pid in a file may, after a
 * reboot, belong to another program), and of two starts at once exactly one
 * gets it.
 */
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { nativeModuleProblem } from "./native.ts";

export class InstanceLockError extends Error {
  override name = "InstanceLockError";
}

/** A folder or file the process cannot create or open: names the variable to fix. */
export class LockPathError extends Error {
  override name = "LockPathError";
}

const code = (err: unknown) => (err as { code?: string }).code ?? "";

/**
 * The connections that hold a lock, kept here for as long as the lock is meant to be held: a
 * connection nothing refers to any more is closed when the garbage collector finalizes it, and
 * its file lock goes with it, whatever the caller did with the release function.
 */
const holding = new Set<Database.Database>();

function hold(file: string): Database.Database {
  const db = new Database(file, { timeout: 0 });
  try {
    db.pragma("locking_mode = EXCLUSIVE");
    // The first write takes the exclusive lock; in this mode it is kept until the connection closes.
    db.exec("CREATE TABLE IF NOT EXISTS holder (pid INTEGER, since TEXT); DELETE FROM holder;");
    db.prepare("INSERT INTO holder (pid, since) VALUES (?, ?)").run(process.pid, new Date().toISOString());
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/** An earlier version's lock: a pid and a newline, nothing else. */
function isOldPidFile(file: string): boolean {
  try {
    return /^\d+\s*$/.test(fs.readFileSync(file, "latin1").slice(0, 64));
  } catch {
    return false;
  }
}

/** Takes the lock of this database, or throws; returns the release (the kernel releases it anyway on exit). */
export function acquireLock(dbFile: string): () => void {
  const file = `${dbFile}.lock`;
  try {
    // A new DATABASE_URL may name a folder that does not exist yet: the lock is the first thing in it.
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new LockPathError(
      `DATABASE_URL: cannot create the folder ${path.dirname(file)} (${code(err)}); create it, or point DATABASE_URL at a folder the service user can write`,
    );
  }
  let db: Database.Database;
  try {
    db = hold(file);
  } catch (err) {
    if (code(err).startsWith("SQLITE_BUSY") || code(err).startsWith("SQLITE_LOCKED")) {
      throw new InstanceLockError(`another Qorgau is already running on this database; stop it first (lock: ${file})`);
    }
    if (code(err) === "SQLITE_NOTADB") {
      // The pid file an earlier version wrote is not a lock any more. Anything else that is not a
      // database yet is one being made by another process starting at this moment: removing it
      // would let both run (two locks on two files), so that start is refused like a busy one.
      if (isOldPidFile(file)) {
        fs.rmSync(file, { force: true });
        return acquireLock(dbFile);
      }
      throw new InstanceLockError(`another Qorgau is starting on this database; stop it first (lock: ${file})`);
    }
    throw new LockPathError(
      nativeModuleProblem(err) ??
        `DATABASE_URL: cannot open the lock file ${file} (${code(err) || (err as Error).name}); the service user must be able to write the database's folder`,
    );
  }
  holding.add(db);
  // The file stays: removing it could let a starting process lock a new file while another holds the old one.
  return () => {
    holding.delete(db);
    db.close();
  };
}
