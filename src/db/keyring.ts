/**
 * One key per database, checked (P1, D1). The database records the key check
 * value of ENCRYPTION_KEY on its first start, with its data keys sealed under
 * that key. A start with another key is refused before anything is written:
 * with the wrong key every queued card, draft and report text would be
 * unreadable, and the old code marked them dead without a word.
 *
 * Addresses kept in clear by older versions are turned into chat keys here,
 * once, in one transaction, before any other connection opens.
 */
import type Database from "better-sqlite3";
import { createSealer, firstDataKeys, keyCheck, type DataKeys, type Sealer } from "../core/safety/sealer.ts";

export class KeyMismatchError extends Error {
  override name = "KeyMismatchError";
}

export const WRONG_KEY =
  "ENCRYPTION_KEY is not the key this database was sealed with; nothing was changed. Start with the key the database was made with (see the README, «Keys»), or re-seal it with  npm run key:rotate";

const tableExists = (db: Database.Database, name: string) =>
  db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
const meta = (db: Database.Database, key: string) =>
  tableExists(db, "meta")
    ? ((db.prepare("SELECT value FROM meta WHERE key = ?").pluck().get(key) as string | undefined) ?? null)
    : null;

/**
 * What key:rotate records before it starts (meta `key_rotation`): the check values of the key it
 * rotates from and to, and where it saved the new key. No secret: enough for a start with the
 * wrong key to name the right one, whether the rotation finished or was cut off.
 */
export interface RotationRecord {
  from: string;
  to: string;
  /** The file the new key was written to; null when it was printed instead. */
  file: string | null;
  at: string;
}

export function rotationRecord(db: Database.Database): RotationRecord | null {
  const raw = meta(db, "key_rotation");
  try {
    return raw ? (JSON.parse(raw) as RotationRecord) : null;
  } catch {
    return null;
  }
}

/** The refusal of a key that does not open this database, naming the key that does. */
function wrongKey(db: Database.Database, recorded: string, given: string): string {
  const r = rotationRecord(db);
  const where = (x: RotationRecord) => (x.file ? `saved in ${x.file}` : "printed by key:rotate");
  if (r && recorded === r.to) {
    return `ENCRYPTION_KEY is the key from before \`npm run key:rotate\` (${r.at}); nothing was changed. The database is sealed with the new key, ${where(r)} (check value ${r.to}): set ENCRYPTION_KEY to it and start again.`;
  }
  if (r && given === r.to && recorded === r.from) {
    return `\`npm run key:rotate\` (${r.at}) did not finish, so the database is still sealed with the key from before it (check value ${r.from}); nothing was changed. Set ENCRYPTION_KEY back to that key and run key:rotate again.`;
  }
  return `${WRONG_KEY} (this database's key has check value ${recorded}; the key given has ${given})`;
}

/**
 * Before migrations: refuses a key that does not match the recorded check value, or, on a database
 * from before check values, one that cannot open a sealed value it holds.
 */
export function checkKey(db: Database.Database, key: Buffer): void {
  const recorded = meta(db, "key_check");
  if (recorded !== null) {
    if (recorded !== keyCheck(key)) throw new KeyMismatchError(wrongKey(db, recorded, keyCheck(key)));
    return;
  }
  const sealer = createSealer(key);
  const samples: Array<[string, string]> = [
    ["reports", "text_enc"],
    ["relays", "handle_enc"],
    ["outbox", "payload_enc"],
    ["report_drafts", "data_enc"],
  ];
  for (const [table, column] of samples) {
    if (!tableExists(db, table)) continue;
    const v = db.prepare(`SELECT "${column}" FROM "${table}" WHERE "${column}" IS NOT NULL LIMIT 1`).pluck().get() as
      string | undefined;
    if (v === undefined) continue;
    try {
      sealer.open(v);
    } catch {
      throw new KeyMismatchError(WRONG_KEY);
    }
  }
}

const KEY_NAMES = ["stableEnc", "stableIv", "chat", "sign"] as const;
const encodeKeys = (k: DataKeys) =>
  JSON.stringify(Object.fromEntries(KEY_NAMES.map((n) => [n, k[n].toString("base64")])));
const decodeKeys = (s: string): DataKeys => {
  const o = JSON.parse(s) as Record<string, string>;
  return Object.fromEntries(KEY_NAMES.map((n) => [n, Buffer.from(o[n]!, "base64")])) as unknown as DataKeys;
};

/** Reads (or, on the first start, records) the check value and the data keys. After migrations. */
export function unlockKeys(db: Database.Database, key: Buffer): DataKeys {
  const outer = createSealer(key);
  const sealed = meta(db, "data_keys");
  if (sealed !== null) {
    try {
      return decodeKeys(outer.open(sealed));
    } catch {
      throw new KeyMismatchError(WRONG_KEY);
    }
  }
  const keys = firstDataKeys(key);
  db.transaction(() => {
    db.prepare(
      "INSERT INTO meta (key, value) VALUES ('key_check', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    ).run(keyCheck(key));
    db.prepare("INSERT INTO meta (key, value) VALUES ('data_keys', ?)").run(outer.seal(encodeKeys(keys)));
  })();
  return keys;
}

/** The data keys sealed under another key (rotation). */
export function sealKeys(keys: DataKeys, key: Buffer): string {
  return createSealer(key).seal(encodeKeys(keys));
}

const CLEAR = "(chat LIKE 'telegram:%' OR chat LIKE 'whatsapp:%')";

/**
 * Rows an older version keyed by the address in clear get their chat key; rows that need the
 * address to reach the chat (a wipe, a timed deletion, auto-erase) keep it sealed. Dialog states
 * are sealed, and the old ones, which held distances, are dropped. One transaction; a no-op after.
 */
export function hideAddresses(db: Database.Database, sealer: Sealer): number {
  let changed = 0;
  db.transaction(() => {
    const rekey = (table: string, sealHandle: boolean) => {
      const rows = db.prepare(`SELECT DISTINCT chat FROM "${table}" WHERE ${CLEAR}`).pluck().all() as string[];
      for (const chat of rows) {
        const set = sealHandle ? ", handle_enc = @handle" : "";
        changed += db
          .prepare(`UPDATE OR REPLACE "${table}" SET chat = @key${set} WHERE chat = @chat`)
          .run({ key: sealer.chatKey(chat), chat, ...(sealHandle ? { handle: sealer.seal(chat) } : {}) }).changes;
      }
    };
    // Sessions keep their place (locale, country); the old clear state is dropped, a new one is sealed.
    const sessions = db.prepare(`SELECT chat, auto_erase_minutes FROM sessions WHERE ${CLEAR}`).all() as Array<{
      chat: string;
      auto_erase_minutes: number | null;
    }>;
    for (const s of sessions) {
      changed += db
        .prepare("UPDATE OR REPLACE sessions SET chat = ?, state = '{}', handle_enc = ? WHERE chat = ?")
        .run(sealer.chatKey(s.chat), s.auto_erase_minutes === null ? null : sealer.seal(s.chat), s.chat).changes;
    }
    rekey("tracked_messages", false);
    rekey("exit_deletes", false);
    rekey("exit_pending", true);
    rekey("expiring_messages", true);
    rekey("report_drafts", false);
  })();
  return changed;
}
