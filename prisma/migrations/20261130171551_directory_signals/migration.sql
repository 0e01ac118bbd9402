-- CreateTable
CREATE TABLE "directory_signals" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "entry_id" TEXT NOT NULL,
    "at" DATETIME NOT NULL
);

-- CreateIndex
CREATE INDEX "directory_signals_entry_id_at_idx" ON "directory_signals"("entry_id", "at");

