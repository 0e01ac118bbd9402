-- DropIndex
DROP INDEX "outbox_status_next_attempt_at_idx";

-- CreateIndex
CREATE INDEX "outbox_status_target_next_attempt_at_idx" ON "outbox"("status", "target", "next_attempt_at");

