-- AlterTable
ALTER TABLE "sessions" ADD COLUMN "handle_enc" TEXT;

-- AlterTable
ALTER TABLE "exit_pending" ADD COLUMN "handle_enc" TEXT;

-- AlterTable
ALTER TABLE "expiring_messages" ADD COLUMN "handle_enc" TEXT;

-- CreateTable
CREATE TABLE "meta" (
    "key" TEXT NOT NULL PRIMARY KEY,
    "value" TEXT NOT NULL
);

