/**
 * Online backups (D4), sealed. `VACUUM INTO` a scratch copy beside the
 * database while the bot runs; the copy loses what a backup must not carry
 * (sessions, message ids, drafts: who is talking to the bot now); it is
 * encrypted with AES-256-GCM under a key derived from ENCRYPTION_KEY into
 * `qorgau-<time>.qbak`, and the scratch copy is removed. The newest copies are
 * kept. A backup is proved by restoring it: decryption (the tag authenticates
 * the whole file), integrity check and row counts.
 *
 * File: "QORGAU-BACKUP 1\n", the key check value and "\n", a 12-byte nonce,
 * the ciphertext, and the 16-byte tag.
 */
import { sqlDate } from "./dates.ts";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { createSealer, keyCheck } from "../core/safety/sealer.ts";

export const BACKUP_TABLES = ["reports", "relays", "report_messages", "outbox", "audit_log"] as const;
/** Tables a backup leaves out: who is in a conversation right now, and what they are typing. */
export const NOT_BACKED_UP = ["sessions", "tracked_messages", "report_drafts"] as const;

const MAGIC = "QORGAU-BACKUP 1\n";
const CHUNK = 1 << 20;

export class BackupKeyError extends Error {
  override name = "BackupKeyError";
}

export interface BackupResult {
  file: string;
  removed: string[];
  counts: Record<string, number>;
}

export function countRows(file: string): Record<string, number> {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return Object.fromEntries(
      BACKUP_TABLES.map((t) => [t, (db.prepare(`SELECT count(*) AS n FROM "${t}"`).get() as { n: number }).n]),
    );
  } finally {
    db.close();
  }
}

const backupKey = (key: Buffer) => createSealer(key).subkey("backup");

/** Encrypts `plainFile` into `out`, chunk by chunk (a large database never sits in memory whole). */
function encryptFile(plainFile: string, out: string, key: Buffer): void {
  const iv = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv("aes-256-gcm", backupKey(key), iv);
  const header = Buffer.from(`${MAGIC}${keyCheck(key)}\n`);
  cipher.setAAD(header);
  const inFd = fs.openSync(plainFile, "r");
  const outFd = fs.openSync(out, "wx", 0o600);
  try {
    fs.writeSync(outFd, header);
    fs.writeSync(outFd, iv);
    const buf = Buffer.allocUnsafe(CHUNK);
    for (let n; (n = fs.readSync(inFd, buf, 0, CHUNK, null)) > 0;)
      fs.writeSync(outFd, cipher.update(buf.subarray(0, n)));
    fs.writeSync(outFd, cipher.final());
    fs.writeSync(outFd, cipher.getAuthTag());
    fs.fsyncSync(outFd);
  } finally {
    fs.closeSync(inFd);
    fs.closeSync(outFd);
  }
}

/**
 * Decrypts a backup into `out` (mode 0600). Refuses a file sealed with another key before reading
 * further, and a file changed anywhere (the tag); `out` is removed then, never left half-written.
 */
export function decryptBackup(file: string, out: string, key: Buffer): void {
  const fd = fs.openSync(file, "r");
  let outFd: number | undefined;
  try {
    const size = fs.fstatSync(fd).size;
    const head = Buffer.alloc(Math.min(size, MAGIC.length + 23));
    fs.readSync(fd, head, 0, head.length, 0);
    const text = head.toString("latin1");
    if (!text.startsWith(MAGIC) || text[MAGIC.length + 22] !== "\n") throw new Error(`${file} is not a Qorgau backup`);
    if (text.slice(MAGIC.length, MAGIC.length + 22) !== keyCheck(key))
      throw new BackupKeyError(
        `${file} was sealed with another ENCRYPTION_KEY; restore it with the key in use when it was made`,
      );
    const iv = Buffer.alloc(12);
    fs.readSync(fd, iv, 0, 12, head.length);
    const tag = Buffer.alloc(16);
    fs.readSync(fd, tag, 0, 16, size - 16);
    const decipher = crypto.createDecipheriv("aes-256-gcm", backupKey(key), iv);
    decipher.setAAD(head);
    decipher.setAuthTag(tag);
    outFd = fs.openSync(out, "w", 0o600);
    const buf = Buffer.allocUnsafe(CHUNK);
    let pos = head.length + 12;
    const end = size - 16;
    while (pos < end) {
      const n = fs.readSync(fd, buf, 0, Math.min(CHUNK, end - pos), pos);
      fs.writeSync(outFd, decipher.update(buf.subarray(0, n)));
      pos += n;
    }
    try {
      fs.writeSync(outFd, decipher.final());
    } catch {
      throw new Error(`${file} was changed or is incomplete (its authentication failed)`);
    }
  } catch (err) {
    if (outFd !== undefined) fs.closeSync(outFd);
    outFd = undefined;
    fs.rmSync(out, { force: true });
    throw err;
  } finally {
    if (outFd !== undefined) fs.closeSync(outFd);
    fs.closeSync(fd);
  }
}

export function backupDatabase(dbFile: string, dir: string, now: Date, keep: number, key: Buffer): BackupResult {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stamp = now.toISOString().replace(/[:.]/g, "-");
  const file = path.join(dir, `qorgau-${stamp}.qbak`);
  // The plain copy stays beside the database (which holds the same), never in the backup folder.
  const scratch = `${dbFile}.backup-${stamp}`;
  fs.rmSync(scratch, { force: true });
  let counts: Record<string, number>;
  try {
    const db = new Database(dbFile, { fileMustExist: true, timeout: 5000 });
    try {
      db.prepare("VACUUM INTO ?").run(scratch);
    } finally {
      db.close();
    }
    fs.chmodSync(scratch, 0o600);
    const copy = new Database(scratch);
    try {
      copy.pragma("secure_delete = ON");
      for (const t of NOT_BACKED_UP) copy.exec(`DELETE FROM "${t}"`);
      copy.exec("VACUUM");
    } finally {
      copy.close();
    }
    counts = countRows(scratch);
    encryptFile(scratch, file, key);
  } finally {
    fs.rmSync(scratch, { force: true });
  }
  const all = fs
    .readdirSync(dir)
    .filter((f) => /^qorgau-.*\.(qbak|db)$/.test(f))
    .sort();
  const removed = all.slice(0, Math.max(0, all.length - keep));
  for (const f of removed) fs.rmSync(path.join(dir, f));
  return { file, removed, counts };
}

/** A decrypted copy's integrity check ("ok" or the problem) and row counts. */
export function checkCopy(file: string): { integrity: string; counts: Record<string, number> } {
  const db = new Database(file, { fileMustExist: true });
  let integrity: string;
  try {
    integrity = String(db.pragma("integrity_check", { simple: true }));
  } finally {
    db.close();
  }
  return { integrity, counts: countRows(file) };
}

/** Restores a backup into a scratch file and checks it: "ok" and the row counts, or the problem. */
export function verifyBackup(
  file: string,
  scratchDir: string,
  key: Buffer,
): { integrity: string; counts: Record<string, number> } {
  fs.mkdirSync(scratchDir, { recursive: true, mode: 0o700 });
  const restored = path.join(scratchDir, `restore-${Date.now()}.db`);
  try {
    decryptBackup(file, restored, key);
    return checkCopy(restored);
  } finally {
    fs.rmSync(restored, { force: true });
  }
}

/**
 * A restored copy cannot know which quick exits came after its backup, so every chat's reports
 * are held and locked as after an exit: nothing is listed, opened or knocked until the case word.
 * Done on the copy before it is moved into place, so the live file is never unlocked.
 */
export function lockAfterRestore(file: string, at: Date): number {
  const db = new Database(file, { fileMustExist: true });
  try {
    const stamp = sqlDate(at);
    return db.transaction(() => {
      const n = db
        .prepare("UPDATE relays SET held_since = coalesce(held_since, ?), locked_at = coalesce(locked_at, ?)")
        .run(stamp, stamp).changes;
      db.prepare(
        "INSERT INTO audit_log (at, actor, action, report_id, result) VALUES (?, 'system', 'restore', NULL, ?)",
      ).run(stamp, `${n} relays locked`);
      return n;
    })();
  } finally {
    db.close();
  }
}

/** `<db>.before-restore-<time>`: the database a restore replaced, kept for a few days. */
export const SET_ASIDE = ".before-restore-";
export const setAsideName = (dbFile: string, at: Date) =>
  `${dbFile}${SET_ASIDE}${at.toISOString().replace(/[:.]/g, "-")}`;

/** Removes databases a restore set aside more than `keepDays` ago (the time is in the name). */
export function purgeSetAside(dbFile: string, keepDays: number, now: Date): string[] {
  const dir = path.dirname(dbFile);
  const prefix = path.basename(dbFile) + SET_ASIDE;
  const removed: string[] = [];
  if (!fs.existsSync(dir)) return removed;
  for (const name of fs.readdirSync(dir)) {
    if (!name.startsWith(prefix)) continue;
    const m = /^(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-(\d{2})-(\d{3})Z/.exec(name.slice(prefix.length));
    if (!m) continue;
    const at = new Date(`${m[1]}T${m[2]}:${m[3]}:${m[4]}.${m[5]}Z`);
    if (now.getTime() - at.getTime() < keepDays * 86_400_000) continue;
    fs.rmSync(path.join(dir, name), { force: true });
    removed.push(name);
  }
  return removed;
}
