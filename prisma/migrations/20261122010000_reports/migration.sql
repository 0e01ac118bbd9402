-- CreateTable
CREATE TABLE "reports" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "code" TEXT NOT NULL,
    "channel" TEXT NOT NULL,
    "locale" TEXT NOT NULL,
    "country" TEXT,
    "region_id" TEXT,
    "about" TEXT NOT NULL,
    "kinds" TEXT NOT NULL,
    "urgent" BOOLEAN NOT NULL,
    "high_risk" BOOLEAN NOT NULL,
    "risk_answers" TEXT,
    "text_enc" TEXT,
    "contact" TEXT NOT NULL,
    "case_word_hash" TEXT,
    "status" TEXT NOT NULL DEFAULT 'new',
    "taken_by" BIGINT,
    "taken_by_name" TEXT,
    "referred_to" TEXT,
    "outcome" TEXT,
    "staff_chat_id" BIGINT NOT NULL,
    "card_message_id" INTEGER,
    "ping_count" INTEGER NOT NULL DEFAULT 0,
    "last_ping_at" DATETIME,
    "created_at" DATETIME NOT NULL,
    "updated_at" DATETIME NOT NULL,
    "taken_at" DATETIME,
    "closed_at" DATETIME,
    "text_purged_at" DATETIME
);

-- CreateTable
CREATE TABLE "relays" (
    "report_id" TEXT NOT NULL PRIMARY KEY,
    "handle_enc" TEXT NOT NULL,
    "handle_hash" TEXT NOT NULL,
    "held_since" DATETIME,
    "last_inbound_at" DATETIME NOT NULL,
    "created_at" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "report_messages" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "report_id" TEXT NOT NULL,
    "direction" TEXT NOT NULL,
    "body_enc" TEXT NOT NULL,
    "read_at" DATETIME,
    "created_at" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "staff_threads" (
    "chat_id" BIGINT NOT NULL,
    "message_id" INTEGER NOT NULL,
    "report_id" TEXT NOT NULL,
    "created_at" DATETIME NOT NULL,

    PRIMARY KEY ("chat_id", "message_id")
);

-- CreateTable
CREATE TABLE "outbox" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "dedupe_key" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "target" TEXT NOT NULL,
    "report_id" TEXT,
    "payload_enc" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" DATETIME NOT NULL,
    "last_error" TEXT,
    "sent_message_id" INTEGER,
    "created_at" DATETIME NOT NULL,
    "sent_at" DATETIME
);

-- CreateTable
CREATE TABLE "audit_log" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "at" DATETIME NOT NULL,
    "actor" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "report_id" TEXT,
    "result" TEXT NOT NULL
);

-- CreateTable
CREATE TABLE "report_drafts" (
    "chat" TEXT NOT NULL PRIMARY KEY,
    "data_enc" TEXT NOT NULL,
    "updated_at" DATETIME NOT NULL
);

-- RedefineTables (the chat key column is renamed from "address" to "chat", P1)
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_sessions" (
    "chat" TEXT NOT NULL PRIMARY KEY,
    "locale" TEXT,
    "country" TEXT,
    "state" TEXT NOT NULL DEFAULT '{}',
    "auto_erase_minutes" INTEGER,
    "limits_shown" BOOLEAN NOT NULL DEFAULT false,
    "last_seen_at" DATETIME NOT NULL,
    "created_at" DATETIME NOT NULL
);
INSERT INTO "new_sessions" ("chat", "auto_erase_minutes", "country", "created_at", "last_seen_at", "locale", "state") SELECT "address", "auto_erase_minutes", "country", "created_at", "last_seen_at", "locale", "state" FROM "sessions";
DROP TABLE "sessions";
ALTER TABLE "new_sessions" RENAME TO "sessions";
CREATE INDEX "sessions_last_seen_at_idx" ON "sessions"("last_seen_at");
CREATE TABLE "new_tracked_messages" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "chat" TEXT NOT NULL,
    "message_id" TEXT NOT NULL,
    "from_bot" BOOLEAN NOT NULL,
    "sent_at" DATETIME NOT NULL
);
INSERT INTO "new_tracked_messages" ("chat", "from_bot", "id", "message_id", "sent_at") SELECT "address", "from_bot", "id", "message_id", "sent_at" FROM "tracked_messages";
DROP TABLE "tracked_messages";
ALTER TABLE "new_tracked_messages" RENAME TO "tracked_messages";
CREATE INDEX "tracked_messages_sent_at_idx" ON "tracked_messages"("sent_at");
CREATE UNIQUE INDEX "tracked_messages_chat_message_id_key" ON "tracked_messages"("chat", "message_id");
CREATE TABLE "new_exit_pending" (
    "chat" TEXT NOT NULL PRIMARY KEY,
    "locale" TEXT NOT NULL,
    "cover" BOOLEAN NOT NULL,
    "created_at" DATETIME NOT NULL
);
INSERT INTO "new_exit_pending" ("chat", "cover", "created_at", "locale") SELECT "address", "cover", "created_at", "locale" FROM "exit_pending";
DROP TABLE "exit_pending";
ALTER TABLE "new_exit_pending" RENAME TO "exit_pending";
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

-- CreateIndex
CREATE UNIQUE INDEX "reports_code_key" ON "reports"("code");

-- CreateIndex
CREATE INDEX "reports_status_urgent_created_at_idx" ON "reports"("status", "urgent", "created_at");

-- CreateIndex
CREATE INDEX "relays_handle_hash_idx" ON "relays"("handle_hash");

-- CreateIndex
CREATE INDEX "report_messages_report_id_idx" ON "report_messages"("report_id");

-- CreateIndex
CREATE UNIQUE INDEX "outbox_dedupe_key_key" ON "outbox"("dedupe_key");

-- CreateIndex
CREATE INDEX "outbox_status_next_attempt_at_idx" ON "outbox"("status", "next_attempt_at");

-- CreateIndex
CREATE INDEX "audit_log_at_idx" ON "audit_log"("at");

-- The audit log is append-only (ST5): no row is ever changed, and only rows
-- older than a year (the audit retention) can be deleted.
CREATE TRIGGER "audit_log_no_update" BEFORE UPDATE ON "audit_log"
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER "audit_log_keep_one_year" BEFORE DELETE ON "audit_log"
WHEN julianday(OLD."at") > julianday('now', '-365 days')
BEGIN
    SELECT RAISE(ABORT, 'audit_log rows are kept for 365 days');
END;
