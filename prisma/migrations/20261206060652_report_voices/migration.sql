-- Voice notes in a report, and media given up on (issue 26). Written by hand as two added columns:
-- Prisma's diff rebuilds the whole table for the same result.
ALTER TABLE "reports" ADD COLUMN "voices" INTEGER NOT NULL DEFAULT 0;
ALTER TABLE "reports" ADD COLUMN "media_missing" INTEGER NOT NULL DEFAULT 0;
