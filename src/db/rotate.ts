/**
 * Key rotation (`npm run key:rotate`): every value sealed under the old
 * ENCRYPTION_KEY is opened and sealed again under the new one, the reporters'
 * address hashes are computed again, and the data keys are re-sealed, all in
 * one transaction: a rotation that fails changes nothing. The bot must be
 * stopped (the instance lock is held throughout).
 */
import Database from "better-sqlite3";
import { createSealer, keyCheck } from "../core/services/sealer.ts";
import { checkKey, KeyMismatchError, sealKeys, unlockKeys } from "./keyring.ts";

/** Every column sealed under ENCRYPTION_KEY with a random nonce: [table, column]. */
export const SEALED_COLUMNS: Array<[string, string]> = [
  ["reports", "text_enc"],
  ["relays", "handle_enc"],
  ["report_messages", "body_enc"],
  ["outbox", "payload_enc"],
  ["report_drafts", "data_enc"],
  ["sessions", "state"],
  ["sessions", "handle_enc"],
  ["exit_pending", "handle_enc"],
  ["expiring_messages", "handle_enc"],
];

export class RotationError extends Error {
  override name = "RotationError";
}

export function rotateKey(file: string, oldKey: Buffer, newKey: Buffer, at = new Date()): Record<string, number> {
  if (oldKey.equals(newKey)) throw new RotationError("the new key is the key in use; make a new one with  openssl rand -base64 32");
  const db = new Database(file, { fileMustExist: true, timeout: 5000 });
  try {
    db.pragma("secure_delete = ON");
    try {
      checkKey(db, oldKey);
    } catch (err) {
      if (err instanceof KeyMismatchError) throw new RotationError("ENCRYPTION_KEY (the current key) is not the key this database was sealed with; nothing was changed");
      throw err;
    }
    if (db.prepare("SELECT value FROM meta WHERE key = 'data_keys'").get() === undefined) throw new RotationError("this database has no key record yet: start the bot once with the current key, then rotate");
    const keys = unlockKeys(db, oldKey);
    const from = createSealer(oldKey, keys);
    const to = createSealer(newKey, keys);
    const counts: Record<string, number> = {};
    db.transaction(() => {
      for (const [table, column] of SEALED_COLUMNS) {
        const rows = db.prepare(`SELECT rowid AS id, "${column}" AS v FROM "${table}" WHERE "${column}" LIKE 'v1:%'`).all() as Array<{ id: number; v: string }>;
        const update = db.prepare(`UPDATE "${table}" SET "${column}" = ? WHERE rowid = ?`);
        for (const r of rows) {
          let plain: string;
          try {
            plain = from.open(r.v);
          } catch {
            throw new RotationError(`a value in ${table}.${column} cannot be opened with the current key; nothing was changed`);
          }
          update.run(to.seal(plain), r.id);
        }
        counts[`${table}.${column}`] = rows.length;
      }
      // "My reports" finds a reporter's reports by a keyed hash of the address: computed again.
      const relays = db.prepare("SELECT report_id, handle_enc FROM relays").all() as Array<{ report_id: string; handle_enc: string }>;
      const rehash = db.prepare("UPDATE relays SET handle_hash = ? WHERE report_id = ?");
      for (const r of relays) rehash.run(to.hash(to.open(r.handle_enc)), r.report_id);
      db.prepare("UPDATE meta SET value = ? WHERE key = 'key_check'").run(keyCheck(newKey));
      db.prepare("UPDATE meta SET value = ? WHERE key = 'data_keys'").run(sealKeys(keys, newKey));
      db.prepare("INSERT INTO audit_log (at, actor, action, report_id, result) VALUES (?, 'system', 'key_rotate', NULL, 'ok')").run(at.toISOString());
    })();
    db.pragma("wal_checkpoint(TRUNCATE)");
    return counts;
  } finally {
    db.close();
  }
}
