-- Written by hand: Prisma's schema cannot say WITHOUT ROWID (see prisma/schema.prisma).
-- tracked_messages and processed_updates take a row on nearly every message (S2, R1), and their
-- rows are small. Keyed by their primary key alone, without a row number, an insert writes two
-- b-trees instead of three: about a quarter fewer pages to the log and its checkpoints, and less
-- CPU, for every message (bench/README.md). The rows are copied as they are.

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_tracked_messages" (
    "chat" TEXT NOT NULL,
    "message_id" TEXT NOT NULL,
    "from_bot" BOOLEAN NOT NULL,
    "sent_at" DATETIME NOT NULL,

    PRIMARY KEY ("chat", "message_id")
) WITHOUT ROWID;
INSERT INTO "new_tracked_messages" ("chat", "from_bot", "message_id", "sent_at") SELECT "chat", "from_bot", "message_id", "sent_at" FROM "tracked_messages";
DROP TABLE "tracked_messages";
ALTER TABLE "new_tracked_messages" RENAME TO "tracked_messages";
CREATE INDEX "tracked_messages_sent_at_idx" ON "tracked_messages"("sent_at");
CREATE TABLE "new_processed_updates" (
    "key" TEXT NOT NULL PRIMARY KEY,
    "at" DATETIME NOT NULL
) WITHOUT ROWID;
INSERT INTO "new_processed_updates" ("key", "at") SELECT "key", "at" FROM "processed_updates";
DROP TABLE "processed_updates";
ALTER TABLE "new_processed_updates" RENAME TO "processed_updates";
CREATE INDEX "processed_updates_at_idx" ON "processed_updates"("at");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;
