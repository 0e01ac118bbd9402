-- AlterTable
ALTER TABLE "reports" ADD COLUMN "request" TEXT;

