-- CreateTable
CREATE TABLE "staff_members" (
    "chat_id" BIGINT NOT NULL,
    "user_id" BIGINT NOT NULL,
    "name" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "decided_by" BIGINT,
    "at" DATETIME NOT NULL,

    PRIMARY KEY ("chat_id", "user_id")
);

