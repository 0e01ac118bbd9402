import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { DatabaseStartError, openDatabase, verifyPragmas, type OpenedDatabase } from "../../src/db/open.ts";
import { MIGRATIONS_DIR } from "../../src/db/migrate.ts";
import { tempDir } from "../support/harness.ts";

let db: OpenedDatabase | undefined;
afterEach(async () => {
  await db?.close();
  db = undefined;
});

describe("database start-up (D1, D5)", () => {
  it("sets and reads back busy_timeout, WAL, synchronous=FULL, foreign keys and secure_delete", async () => {
    db = await openDatabase(path.join(tempDir(), "a.db"));
    expect(await verifyPragmas(db.prisma)).toEqual({ busy_timeout: "5000", synchronous: "2", foreign_keys: "1", secure_delete: "1", journal_mode: "wal" });
  });

  it("applies migrations once, in a way prisma migrate recognises", async () => {
    const file = path.join(tempDir(), "b.db");
    db = await openDatabase(file);
    const all = fs.readdirSync(MIGRATIONS_DIR, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
    expect(all.length).toBeGreaterThanOrEqual(3);
    expect(db.applied).toEqual(all);
    await db.close();
    db = await openDatabase(file);
    expect(db.applied).toEqual([]);
    const raw = new Database(file, { readonly: true });
    const rows = raw.prepare("SELECT migration_name, finished_at FROM _prisma_migrations").all() as Array<{ migration_name: string; finished_at: string }>;
    raw.close();
    expect(rows.map((r) => r.migration_name)).toEqual(all);
    expect(rows[0]!.finished_at).toBeTruthy();
  });

  it("refuses a damaged file and does not replace it with an empty one", async () => {
    const file = path.join(tempDir(), "c.db");
    fs.writeFileSync(file, Buffer.concat([Buffer.from("SQLite format 3\0"), Buffer.alloc(4096, 0x5a)]));
    const before = fs.readFileSync(file);
    await expect(openDatabase(file)).rejects.toBeInstanceOf(DatabaseStartError);
    await expect(openDatabase(file)).rejects.toThrow(/damaged|integrity|restore/);
    expect(fs.readFileSync(file).equals(before)).toBe(true);
  });
});
