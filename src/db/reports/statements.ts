/** The prepared statements of the reporter's path and the outbox, on the message connection. */
import type { HotDb } from "../hot.ts";

/**
 * A photo or a voice note delivered or given up on leaves no reference behind: its sealed file id or
 * WhatsApp message id is blanked in the same write (issue 26).
 */
const FORGET_MEDIA =
  "payload_enc = CASE WHEN kind IN ('to_staff_photo', 'to_staff_voice') THEN '' ELSE payload_enc END";

export function prepareReportStatements(hot: HotDb) {
  // The due rows of the targets between two others (a pass leaves out the paced ones: `due` in
  // outbox.ts), read as a range of the index by target, so a staff group's long queue is not read
  // while the group waits for its turn. Urgent, then high-risk cards go before everything else due
  // (a flood of junk reports must not hold a real urgent card behind it for half an hour);
  // otherwise in the order written. A card whose report is gone comes last.
  const dueRows = (range: string) =>
    hot.prepare(
      `SELECT o.id, o.kind, o.target, o.payload_enc, o.attempts,
         CASE WHEN o.kind = 'card' THEN coalesce((SELECT r.urgent * 2 + r.high_risk FROM reports r WHERE r.id = o.report_id), -1) ELSE 0 END AS rank
       FROM outbox o INDEXED BY outbox_status_target_next_attempt_at_idx
       WHERE o.status = 'pending' AND ${range} AND o.next_attempt_at <= @now
       ORDER BY rank DESC, o.id LIMIT @limit`,
    );
  return {
    report: hot.prepare("SELECT * FROM reports WHERE id = ?"),
    reportByCode: hot.prepare("SELECT * FROM reports WHERE code = ?"),
    sentFrom: hot.prepare("SELECT count(*) FROM relays WHERE handle_hash = ? AND created_at >= ?").pluck(),
    reportsOf: hot.prepare(
      "SELECT r.* FROM reports r JOIN relays l ON l.report_id = r.id WHERE l.handle_hash = ? ORDER BY r.created_at DESC",
    ),
    openReports: hot.prepare(
      `SELECT * FROM reports WHERE status != 'closed' AND (@all OR staff_chat_id IN (SELECT value FROM json_each(@chats)))
       ORDER BY urgent DESC, high_risk DESC, created_at ASC LIMIT 50`,
    ),
    insertReport: hot.prepare(
      `INSERT INTO reports (id, code, channel, locale, country, region_id, about, kinds, urgent, high_risk, risk_answers, text_enc, photos, voices, contact, case_word_hash, staff_chat_id, request, created_at, updated_at)
       VALUES (@id, @code, @channel, @locale, @country, @regionId, @about, @kinds, @urgent, @highRisk, @riskAnswers, @textEnc, @photos, @voices, @contact, @caseWordHash, @staffChatId, @request, @at, @at)`,
    ),
    insertRelay: hot.prepare(
      "INSERT INTO relays (report_id, handle_enc, handle_hash, last_inbound_at, created_at) VALUES (?, ?, ?, ?, ?)",
    ),
    queue: hot.prepare(
      `INSERT INTO outbox (dedupe_key, kind, target, report_id, payload_enc, next_attempt_at, created_at)
       VALUES (@dedupeKey, @kind, @target, @reportId, @payloadEnc, @nextAttemptAt, @createdAt) ON CONFLICT(dedupe_key) DO NOTHING`,
    ),
    audit: hot.prepare("INSERT INTO audit_log (at, actor, action, report_id, result) VALUES (?, ?, ?, ?, ?)"),
    relaysOf: hot.prepare("SELECT report_id, held_since, locked_at FROM relays WHERE handle_hash = ?"),
    relay: hot.prepare("SELECT handle_enc, held_since, locked_at, last_inbound_at FROM relays WHERE report_id = ?"),
    // Quick exit and auto-erase hold the chat's relays and lock its reports (S6, decision 10).
    hold: hot.prepare("UPDATE relays SET held_since = ?, locked_at = coalesce(locked_at, ?) WHERE handle_hash = ?"),
    // Writing again lifts a hold, never a lock: a locked report waits for its case word.
    unhold: hot.prepare(
      "UPDATE relays SET held_since = NULL WHERE handle_hash = ? AND held_since IS NOT NULL AND locked_at IS NULL",
    ),
    unlock: hot.prepare(
      "UPDATE relays SET held_since = NULL, locked_at = NULL, last_inbound_at = ? WHERE report_id = ?",
    ),
    wordState: hot.prepare(
      "SELECT case_word_hash, word_failures, word_window_at, word_locked_until, others_checks, others_window_at, staff_chat_id FROM reports WHERE id = ?",
    ),
    wordOk: hot.prepare("UPDATE reports SET word_failures = 0, word_window_at = NULL WHERE id = ?"),
    ownerTry: hot.prepare("UPDATE reports SET word_failures = ?, word_window_at = ? WHERE id = ?"),
    ownerLock: hot.prepare("UPDATE reports SET word_locked_until = ? WHERE id = ?"),
    othersTry: hot.prepare("UPDATE reports SET others_checks = ?, others_window_at = ? WHERE id = ?"),
    relayHash: hot.prepare("SELECT handle_hash FROM relays WHERE report_id = ?").pluck(),
    release: hot.prepare(
      "UPDATE outbox SET status = 'pending', next_attempt_at = ? WHERE status = 'held' AND report_id = ?",
    ),
    draft: hot.prepare("SELECT data_enc, updated_at FROM report_drafts WHERE chat = ?"),
    saveDraft: hot.prepare(
      "INSERT INTO report_drafts (chat, data_enc, updated_at) VALUES (?, ?, ?) ON CONFLICT(chat) DO UPDATE SET data_enc = excluded.data_enc, updated_at = excluded.updated_at",
    ),
    deleteDraft: hot.prepare("DELETE FROM report_drafts WHERE chat = ?"),
    purgeDrafts: hot.prepare("DELETE FROM report_drafts WHERE updated_at < ?"),
    verified: hot.prepare("UPDATE relays SET last_inbound_at = ? WHERE report_id = ?"),
    purgeRelays: hot.prepare("DELETE FROM relays WHERE report_id IN (SELECT value FROM json_each(?))"),
    dueBetween: dueRows("o.target > @after AND o.target < @before"),
    dueAfter: dueRows("o.target > @after"),
    byKey: hot.prepare(
      "SELECT id, kind, target, payload_enc, attempts FROM outbox WHERE status = 'pending' AND dedupe_key = ?",
    ),
    byKeys: hot.prepare(
      "SELECT id, kind, target, payload_enc, attempts FROM outbox WHERE status = 'pending' AND dedupe_key IN (SELECT value FROM json_each(?)) ORDER BY id",
    ),
    isPending: hot.prepare("SELECT 1 FROM outbox WHERE id = ? AND status = 'pending'").pluck(),
    sent: hot.prepare(
      `UPDATE outbox SET status = 'sent', sent_message_id = ?, sent_at = ?, attempts = attempts + 1, ${FORGET_MEDIA} WHERE id = ?`,
    ),
    retry: hot.prepare("UPDATE outbox SET next_attempt_at = ?, last_error = ?, attempts = attempts + 1 WHERE id = ?"),
    dead: hot.prepare(
      `UPDATE outbox SET status = 'dead', last_error = ?, attempts = attempts + 1, ${FORGET_MEDIA} WHERE id = ?`,
    ),
    held: hot.prepare("UPDATE outbox SET status = 'held' WHERE id = ?"),
    heldHashes: hot.prepare("SELECT DISTINCT handle_hash FROM relays WHERE held_since IS NOT NULL").pluck(),
  };
}
