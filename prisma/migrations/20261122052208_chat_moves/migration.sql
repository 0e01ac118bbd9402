-- CreateTable
CREATE TABLE "chat_moves" (
    "from_id" BIGINT NOT NULL PRIMARY KEY,
    "to_id" BIGINT NOT NULL,
    "at" DATETIME NOT NULL
);

