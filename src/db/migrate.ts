/**
 * Applies prisma/migrations/* in order, in process, at start. Rows are written
 * to Prisma's own _prisma_migrations table with the same checksum, so
 * `prisma migrate deploy` and `prisma migrate status` agree with what ran here.
 */
import { sqlDate } from "./dates.ts";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type Database from "better-sqlite3";
import { projectRoot } from "../paths.ts";

export const MIGRATIONS_DIR = path.join(projectRoot, "prisma", "migrations");

export function applyMigrations(db: Database.Database, dir = MIGRATIONS_DIR): string[] {
  db.exec(`CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id" TEXT PRIMARY KEY NOT NULL, "checksum" TEXT NOT NULL, "finished_at" DATETIME,
    "migration_name" TEXT NOT NULL, "logs" TEXT, "rolled_back_at" DATETIME,
    "started_at" DATETIME NOT NULL DEFAULT current_timestamp, "applied_steps_count" INTEGER UNSIGNED NOT NULL DEFAULT 0)`);
  const done = new Map(
    (
      db
        .prepare(
          `SELECT migration_name, checksum FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
        )
        .all() as Array<{ migration_name: string; checksum: string }>
    ).map((r) => [r.migration_name, r.checksum]),
  );
  const names = fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
  const applied: string[] = [];
  for (const name of names) {
    const sql = fs.readFileSync(path.join(dir, name, "migration.sql"), "utf8");
    const checksum = crypto.createHash("sha256").update(sql).digest("hex");
    const known = done.get(name);
    if (known) {
      if (known !== checksum)
        throw new Error(`migration ${name} was changed after it was applied; add a new migration instead`);
      continue;
    }
    const started = sqlDate(new Date());
    db.transaction(() => {
      db.exec(sql);
      db.prepare(
        `INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, started_at, applied_steps_count) VALUES (?, ?, ?, ?, ?, 1)`,
      ).run(crypto.randomUUID(), checksum, sqlDate(new Date()), name, started);
    })();
    applied.push(name);
  }
  return applied;
}
