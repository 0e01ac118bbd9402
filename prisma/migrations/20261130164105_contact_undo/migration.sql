-- AlterTable
ALTER TABLE "reports" ADD COLUMN "contact_before" TEXT;

