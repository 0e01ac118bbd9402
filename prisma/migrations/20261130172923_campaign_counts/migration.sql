-- CreateTable
CREATE TABLE "campaign_counts" (
    "day" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "n" INTEGER NOT NULL,

    PRIMARY KEY ("day", "source")
);

