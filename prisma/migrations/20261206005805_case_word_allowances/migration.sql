-- Case-word tries from chats other than the reporter's own, counted apart from hers.
ALTER TABLE "reports" ADD COLUMN "others_checks" INTEGER NOT NULL DEFAULT 0;
ALTER TABLE "reports" ADD COLUMN "others_window_at" DATETIME;
