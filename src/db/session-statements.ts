/** The prepared statements of the chat store: sessions, tracked message ids, exits, timed deletions, update ids. */
import type { HotDb } from "./hot.ts";

export function prepareSessionStatements(db: HotDb) {
  return {
    getSession: db.prepare("SELECT * FROM sessions WHERE chat = ?"),
    upsertSession: db.prepare(
      `INSERT INTO sessions (chat, handle_enc, locale, country, state, auto_erase_minutes, limits_shown, last_seen_at, created_at)
       VALUES (@chat, @handle, @locale, @country, @state, @auto, @limits, @seen, @created)
       ON CONFLICT(chat) DO UPDATE SET handle_enc = excluded.handle_enc, locale = excluded.locale, country = excluded.country, state = excluded.state,
         auto_erase_minutes = excluded.auto_erase_minutes, limits_shown = excluded.limits_shown, last_seen_at = excluded.last_seen_at`,
    ),
    track: db.prepare(
      "INSERT OR IGNORE INTO tracked_messages (chat, message_id, from_bot, sent_at) VALUES (?, ?, ?, ?)",
    ),
    tracked: db.prepare("SELECT message_id, from_bot, sent_at FROM tracked_messages WHERE chat = ? ORDER BY sent_at"),
    // A new exit on a chat whose wipe is still being retried merges into it: the cover stays owed if
    // it was, and the chat's tracked ids (the conversation since) are to be taken again.
    markExit: db.prepare(
      `INSERT INTO exit_pending (chat, handle_enc, locale, cover, attempts, next_at, ids_taken, created_at) VALUES (?, ?, ?, ?, 0, NULL, 0, ?)
       ON CONFLICT(chat) DO UPDATE SET locale = excluded.locale, cover = max(cover, excluded.cover), attempts = 0, next_at = NULL, ids_taken = 0`,
    ),
    lateExit: db.prepare(
      "INSERT INTO exit_pending (chat, handle_enc, locale, cover, attempts, next_at, ids_taken, created_at) VALUES (?, ?, ?, 0, 0, NULL, 1, ?) ON CONFLICT(chat) DO NOTHING",
    ),
    takeTracked: db.prepare(
      "INSERT OR IGNORE INTO exit_deletes (chat, message_id, from_bot, sent_at) SELECT chat, message_id, from_bot, sent_at FROM tracked_messages WHERE chat = ?",
    ),
    addExitId: db.prepare(
      "INSERT OR IGNORE INTO exit_deletes (chat, message_id, from_bot, sent_at) VALUES (?, ?, ?, ?)",
    ),
    backlog: db.prepare("SELECT message_id, from_bot, sent_at FROM exit_deletes WHERE chat = ? ORDER BY sent_at"),
    forgetExitIds: db.prepare(
      "DELETE FROM exit_deletes WHERE chat = ? AND message_id IN (SELECT value FROM json_each(?))",
    ),
    forgetTracked: db.prepare(
      "DELETE FROM tracked_messages WHERE chat = ? AND message_id IN (SELECT value FROM json_each(?))",
    ),
    taken: db.prepare("UPDATE exit_pending SET ids_taken = 1 WHERE chat = ?"),
    exitRetry: db.prepare("UPDATE exit_pending SET cover = ?, attempts = ?, next_at = ? WHERE chat = ?"),
    coverSent: db.prepare("UPDATE exit_pending SET cover = 0 WHERE chat = ?"),
    finishExit: db.prepare(
      "DELETE FROM exit_pending WHERE chat = ? AND ids_taken = 1 AND NOT EXISTS (SELECT 1 FROM exit_deletes WHERE chat = ?)",
    ),
    hasExit: db.prepare("SELECT 1 FROM exit_pending WHERE chat = ?").pluck(),
    pendingExits: db.prepare(
      "SELECT handle_enc, locale, cover, attempts, next_at, ids_taken FROM exit_pending ORDER BY created_at",
    ),
    wipeSession: db.prepare("DELETE FROM sessions WHERE chat = ?"),
    wipeTracked: db.prepare("DELETE FROM tracked_messages WHERE chat = ?"),
    wipeExpiring: db.prepare("DELETE FROM expiring_messages WHERE chat = ?"),
    autoErase: db.prepare(
      "SELECT handle_enc, locale, auto_erase_minutes, last_seen_at FROM sessions WHERE auto_erase_minutes IS NOT NULL",
    ),
    purgeSessions: db.prepare("DELETE FROM sessions WHERE last_seen_at < ?"),
    purgeTracked: db.prepare("DELETE FROM tracked_messages WHERE sent_at < ?"),
    purgeExitIds: db.prepare("DELETE FROM exit_deletes WHERE sent_at < ?"),
    // A timed deletion's message was shown at most a few hours before its time: past the window after this.
    purgeExpiring: db.prepare("DELETE FROM expiring_messages WHERE delete_at < ?"),
    purgeUpdates: db.prepare("DELETE FROM processed_updates WHERE at < ?"),
    firstSeen: db.prepare("INSERT OR IGNORE INTO processed_updates (key, at) VALUES (?, ?)"),
    schedule: db.prepare("INSERT INTO expiring_messages (chat, handle_enc, message_id, delete_at) VALUES (?, ?, ?, ?)"),
    due: db.prepare(
      "SELECT chat, handle_enc, message_id FROM expiring_messages WHERE delete_at <= ? ORDER BY id LIMIT 1000",
    ),
    doneDelete: db.prepare("DELETE FROM expiring_messages WHERE chat = ? AND message_id = ?"),
    laterDelete: db.prepare("UPDATE expiring_messages SET delete_at = ? WHERE chat = ? AND message_id = ?"),
    countSource: db.prepare(
      "INSERT INTO campaign_counts (day, source, n) VALUES (?, ?, 1) ON CONFLICT(day, source) DO UPDATE SET n = n + 1",
    ),
    sourceCounts: db.prepare(
      "SELECT source, sum(n) AS n FROM campaign_counts WHERE day >= ? AND day < ? GROUP BY source ORDER BY n DESC, source",
    ),
  };
}
