-- CreateTable
CREATE TABLE "processed_updates" (
    "key" TEXT NOT NULL PRIMARY KEY,
    "at" DATETIME NOT NULL
);

-- CreateIndex
CREATE INDEX "processed_updates_at_idx" ON "processed_updates"("at");

