-- DropIndex
DROP INDEX "sessions_last_seen_at_idx";

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_tracked_messages" (
    "chat" TEXT NOT NULL,
    "message_id" TEXT NOT NULL,
    "from_bot" BOOLEAN NOT NULL,
    "sent_at" DATETIME NOT NULL,

    PRIMARY KEY ("chat", "message_id")
);
INSERT INTO "new_tracked_messages" ("chat", "from_bot", "message_id", "sent_at") SELECT "chat", "from_bot", "message_id", "sent_at" FROM "tracked_messages";
DROP TABLE "tracked_messages";
ALTER TABLE "new_tracked_messages" RENAME TO "tracked_messages";
CREATE INDEX "tracked_messages_sent_at_idx" ON "tracked_messages"("sent_at");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;

