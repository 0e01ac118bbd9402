-- CreateTable
CREATE TABLE "sessions" (
    "address" TEXT NOT NULL PRIMARY KEY,
    "locale" TEXT,
    "country" TEXT,
    "state" TEXT NOT NULL DEFAULT '{}',
    "auto_erase_minutes" INTEGER,
    "last_seen_at" DATETIME NOT NULL,
    "created_at" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "tracked_messages" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "address" TEXT NOT NULL,
    "message_id" TEXT NOT NULL,
    "from_bot" BOOLEAN NOT NULL,
    "sent_at" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "exit_pending" (
    "address" TEXT NOT NULL PRIMARY KEY,
    "locale" TEXT NOT NULL,
    "cover" BOOLEAN NOT NULL,
    "created_at" DATETIME NOT NULL
);

-- CreateIndex
CREATE INDEX "sessions_last_seen_at_idx" ON "sessions"("last_seen_at");

-- CreateIndex
CREATE INDEX "tracked_messages_sent_at_idx" ON "tracked_messages"("sent_at");

-- CreateIndex
CREATE UNIQUE INDEX "tracked_messages_address_message_id_key" ON "tracked_messages"("address", "message_id");

