/**
 * Online backups (D4): `VACUUM INTO` a dated file while the bot runs, keep
 * the newest copies, and prove a copy restores: integrity check plus row
 * counts. Backups hold everything the database holds (sealed texts included):
 * keep them where the database may be kept, and the key elsewhere.
 */
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";

export const BACKUP_TABLES = ["reports", "relays", "report_messages", "outbox", "audit_log", "sessions"] as const;

export interface BackupResult {
  file: string;
  removed: string[];
  counts: Record<string, number>;
}

export function countRows(file: string): Record<string, number> {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return Object.fromEntries(BACKUP_TABLES.map((t) => [t, (db.prepare(`SELECT count(*) AS n FROM "${t}"`).get() as { n: number }).n]));
  } finally {
    db.close();
  }
}

export function backupDatabase(dbFile: string, dir: string, now: Date, keep = 7): BackupResult {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stamp = now.toISOString().replace(/[:.]/g, "-");
  const file = path.join(dir, `qorgau-${stamp}.db`);
  const db = new Database(dbFile, { fileMustExist: true, timeout: 5000 });
  try {
    db.prepare("VACUUM INTO ?").run(file);
  } finally {
    db.close();
  }
  fs.chmodSync(file, 0o600);
  const all = fs.readdirSync(dir).filter((f) => /^qorgau-.*\.db$/.test(f)).sort();
  const removed = all.slice(0, Math.max(0, all.length - keep));
  for (const f of removed) fs.rmSync(path.join(dir, f));
  return { file, removed, counts: countRows(file) };
}

/** Restores a backup into a scratch file and checks it: "ok" and the row counts, or the problem. */
export function verifyBackup(file: string, scratchDir: string): { integrity: string; counts: Record<string, number> } {
  fs.mkdirSync(scratchDir, { recursive: true });
  const restored = path.join(scratchDir, `restore-${Date.now()}.db`);
  fs.copyFileSync(file, restored);
  try {
    const db = new Database(restored, { fileMustExist: true });
    let integrity: string;
    try {
      integrity = String(db.pragma("integrity_check", { simple: true }));
    } finally {
      db.close();
    }
    return { integrity, counts: countRows(restored) };
  } finally {
    fs.rmSync(restored, { force: true });
  }
}
