-- CreateTable
CREATE TABLE "directory_entries" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "data" TEXT NOT NULL,
    "seed" TEXT,
    "status" TEXT NOT NULL DEFAULT 'open',
    "checked_at" DATETIME,
    "updated_at" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "directory_changes" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "entry_id" TEXT NOT NULL,
    "field" TEXT NOT NULL,
    "before" TEXT,
    "after" TEXT,
    "source" TEXT NOT NULL,
    "by" TEXT NOT NULL,
    "by_name" TEXT,
    "state" TEXT NOT NULL,
    "decided_by" TEXT,
    "decided_at" DATETIME,
    "posted_at" DATETIME,
    "at" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "directory_prompts" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "chat_id" BIGINT NOT NULL,
    "message_id" INTEGER,
    "user_id" BIGINT NOT NULL,
    "entry_id" TEXT NOT NULL,
    "field" TEXT NOT NULL,
    "value" TEXT,
    "at" DATETIME NOT NULL
);

-- CreateIndex
CREATE INDEX "directory_changes_entry_id_at_idx" ON "directory_changes"("entry_id", "at");

-- CreateIndex
CREATE INDEX "directory_changes_state_idx" ON "directory_changes"("state");

-- CreateIndex
CREATE INDEX "directory_prompts_chat_id_message_id_idx" ON "directory_prompts"("chat_id", "message_id");

