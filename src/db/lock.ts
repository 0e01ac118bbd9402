/**
 * One writer per database (T2): a lock file beside the SQLite file holds the
 * owner's pid. A second instance refuses to start; a lock left by a process
 * that died is taken over.
 */
import fs from "node:fs";
import path from "node:path";

export class InstanceLockError extends Error {
  override name = "InstanceLockError";
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

export function acquireLock(dbFile: string): () => void {
  const file = `${dbFile}.lock`;
  // A new DATABASE_URL may name a folder that does not exist yet: the lock is the first thing in it.
  fs.mkdirSync(path.dirname(file), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = fs.openSync(file, "wx", 0o600);
      fs.writeSync(fd, String(process.pid));
      fs.closeSync(fd);
      return () => {
        try {
          if (fs.readFileSync(file, "utf8") === String(process.pid)) fs.rmSync(file);
        } catch {
          /* already gone */
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const pid = Number(fs.readFileSync(file, "utf8"));
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new InstanceLockError(`another Qorgau (pid ${pid}) is already running on this database; stop it first (lock: ${file})`);
      }
      fs.rmSync(file, { force: true }); // left by a process that died
    }
  }
  throw new InstanceLockError(`could not take the lock ${file}`);
}
