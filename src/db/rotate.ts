/**
 * Key rotation (`npm run key:rotate`): every value sealed under the old
 * ENCRYPTION_KEY is opened and sealed again under the new one, the reporters'
 * address hashes are computed again, and the data keys are re-sealed, all in
 * one transaction: a rotation that fails changes nothing. The bot must be
 * stopped (the instance lock is held throughout). The rotation is recorded in
 * `meta` before it starts, so a start with either key afterwards is told which
 * key opens the file.
 */
import { sqlDate } from "./dates.ts";
import Database from "better-sqlite3";
import { createSealer, keyCheck } from "../core/safety/sealer.ts";
import { checkKey, KeyMismatchError, sealKeys, unlockKeys, type RotationRecord } from "./keyring.ts";
import { crashPoint } from "../crash-points.ts";

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

/**
 * Re-seals `file` from `oldKey` to `newKey`. `save` puts the new key where the operator will find it
 * (a file, or the terminal); it runs after the rotation is recorded and before anything is
 * re-sealed, so at every point one named key opens the file (keyring.ts names it at the next start).
 */
export function rotateKey(
  file: string,
  oldKey: Buffer,
  newKey: Buffer,
  save: () => string | null,
  at = new Date(),
): Record<string, number> {
  if (oldKey.equals(newKey)) throw new RotationError("the new key is the key in use");
  const db = new Database(file, { fileMustExist: true, timeout: 5000 });
  try {
    db.pragma("secure_delete = ON");
    try {
      checkKey(db, oldKey);
    } catch (err) {
      if (err instanceof KeyMismatchError)
        throw new RotationError(
          `ENCRYPTION_KEY (the current key) does not open this database; nothing was changed. ${err.message}`,
        );
      throw err;
    }
    if (db.prepare("SELECT value FROM meta WHERE key = 'data_keys'").get() === undefined)
      throw new RotationError(
        "this database has no key record yet: start the bot once with the current key, then rotate",
      );
    const keys = unlockKeys(db, oldKey);
    const record = (r: RotationRecord) =>
      db
        .prepare(
          "INSERT INTO meta (key, value) VALUES ('key_rotation', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        )
        .run(JSON.stringify(r));
    // Recorded first, on its own, so that a rotation cut off anywhere after is recognised.
    const marker: RotationRecord = { from: keyCheck(oldKey), to: keyCheck(newKey), file: null, at: at.toISOString() };
    record(marker);
    crashPoint("rotate_marked");
    const saved = save();
    if (saved) record({ ...marker, file: saved });
    crashPoint("rotate_key_saved");
    const from = createSealer(oldKey, keys);
    const to = createSealer(newKey, keys);
    const counts: Record<string, number> = {};
    db.transaction(() => {
      for (const [table, column] of SEALED_COLUMNS) {
        const rows = db
          .prepare(`SELECT rowid AS id, "${column}" AS v FROM "${table}" WHERE "${column}" LIKE 'v1:%'`)
          .all() as Array<{ id: number; v: string }>;
        const update = db.prepare(`UPDATE "${table}" SET "${column}" = ? WHERE rowid = ?`);
        for (const r of rows) {
          let plain: string;
          try {
            plain = from.open(r.v);
          } catch {
            throw new RotationError(
              `a value in ${table}.${column} cannot be opened with the current key; nothing was changed`,
            );
          }
          update.run(to.seal(plain), r.id);
        }
        counts[`${table}.${column}`] = rows.length;
      }
      // "My reports" finds a reporter's reports by a keyed hash of the address: computed again.
      const relays = db.prepare("SELECT report_id, handle_enc FROM relays").all() as Array<{
        report_id: string;
        handle_enc: string;
      }>;
      const rehash = db.prepare("UPDATE relays SET handle_hash = ? WHERE report_id = ?");
      for (const r of relays) rehash.run(to.hash(to.open(r.handle_enc)), r.report_id);
      db.prepare("UPDATE meta SET value = ? WHERE key = 'key_check'").run(keyCheck(newKey));
      db.prepare("UPDATE meta SET value = ? WHERE key = 'data_keys'").run(sealKeys(keys, newKey));
      db.prepare(
        "INSERT INTO audit_log (at, actor, action, report_id, result) VALUES (?, 'system', 'key_rotate', NULL, 'ok')",
      ).run(sqlDate(at));
      crashPoint("rotate_mid");
    })();
    crashPoint("rotate_committed");
    db.pragma("wal_checkpoint(TRUNCATE)");
    return counts;
  } finally {
    db.close();
  }
}
