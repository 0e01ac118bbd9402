-- AlterTable
ALTER TABLE "relays" ADD COLUMN "locked_at" DATETIME;

-- CreateTable
CREATE TABLE "exit_deletes" (
    "chat" TEXT NOT NULL,
    "message_id" TEXT NOT NULL,
    "from_bot" BOOLEAN NOT NULL,
    "sent_at" DATETIME NOT NULL,

    PRIMARY KEY ("chat", "message_id")
);

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_exit_pending" (
    "chat" TEXT NOT NULL PRIMARY KEY,
    "locale" TEXT NOT NULL,
    "cover" BOOLEAN NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_at" DATETIME,
    "ids_taken" BOOLEAN NOT NULL DEFAULT false,
    "created_at" DATETIME NOT NULL
);
INSERT INTO "new_exit_pending" ("chat", "cover", "created_at", "locale") SELECT "chat", "cover", "created_at", "locale" FROM "exit_pending";
DROP TABLE "exit_pending";
ALTER TABLE "new_exit_pending" RENAME TO "exit_pending";
CREATE TABLE "new_reports" (
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
    "photos" INTEGER NOT NULL DEFAULT 0,
    "text_enc" TEXT,
    "contact" TEXT NOT NULL,
    "case_word_hash" TEXT,
    "word_failures" INTEGER NOT NULL DEFAULT 0,
    "word_window_at" DATETIME,
    "word_locked_until" DATETIME,
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
INSERT INTO "new_reports" ("about", "card_message_id", "case_word_hash", "channel", "closed_at", "code", "contact", "country", "created_at", "high_risk", "id", "kinds", "last_ping_at", "locale", "outcome", "photos", "ping_count", "referred_to", "region_id", "risk_answers", "staff_chat_id", "status", "taken_at", "taken_by", "taken_by_name", "text_enc", "text_purged_at", "updated_at", "urgent") SELECT "about", "card_message_id", "case_word_hash", "channel", "closed_at", "code", "contact", "country", "created_at", "high_risk", "id", "kinds", "last_ping_at", "locale", "outcome", "photos", "ping_count", "referred_to", "region_id", "risk_answers", "staff_chat_id", "status", "taken_at", "taken_by", "taken_by_name", "text_enc", "text_purged_at", "updated_at", "urgent" FROM "reports";
DROP TABLE "reports";
ALTER TABLE "new_reports" RENAME TO "reports";
CREATE UNIQUE INDEX "reports_code_key" ON "reports"("code");
CREATE INDEX "reports_status_urgent_created_at_idx" ON "reports"("status", "urgent", "created_at");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

