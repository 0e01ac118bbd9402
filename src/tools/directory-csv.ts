/**
 * `npm run directory:export -- FILE.csv` and `npm run directory:import -- FILE.csv [--apply]`:
 * the directory as a spreadsheet for the associations (issue 16). An import is a dry run unless
 * --apply is given: it prints every change it would make and every row it refuses, with the row
 * number and the reason; with a refused row, --apply writes nothing. Applied changes carry the file's name as their source; a new number waits
 * for a supervisor's confirmation in the staff group, as one typed in chat does. The bot may run
 * meanwhile: it reads the directory again within a minute.
 */
import fs from "node:fs";
import path from "node:path";
import { DatabaseStartError, openDatabase } from "../db/open.ts";
import { createDirectoryStore } from "../db/directory.ts";
import { projectRoot } from "../paths.ts";
import { databaseFileFromUrl } from "../db/url.ts";
import { keyFromEnv, KeySourceError } from "../keys.ts";
import { createTranslator } from "../core/i18n.ts";
import { loadSeed } from "../core/directory/search.ts";
import { decodeSpreadsheet, describePlan, MAX_CSV_BYTES, planImport, toCsv } from "../core/directory/csv.ts";

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const envFile = path.join(projectRoot, ".env");
  if (fs.existsSync(envFile)) process.loadEnvFile(envFile);
  const [command, file, ...rest] = argv;
  const out = (line: string) => process.stdout.write(`${line}\n`);
  try {
    if ((command !== "export" && command !== "import") || !file)
      throw new UsageError(
        "usage: npm run directory:export -- FILE.csv | npm run directory:import -- FILE.csv [--apply]",
      );
    const apply = rest.includes("--apply");
    const dbFile = databaseFileFromUrl(process.env.DATABASE_URL);
    const db = await openDatabase(dbFile, keyFromEnv(process.env));
    try {
      const store = createDirectoryStore(db);
      const seed = loadSeed();
      // As the bot does at start: a database made by an older version gets the file's entries first.
      await store.syncSeed(seed.entries, new Date());
      const entries = await store.all();
      if (command === "export") {
        const waiting = new Map<string, string[]>();
        for (const e of entries) {
          const p = (await store.pendingOf(e.id)).filter((c) => c.field === "phones");
          if (p.length) waiting.set(e.id, p[0]!.after as string[]);
        }
        fs.writeFileSync(file, toCsv(entries, waiting));
        out(
          `Wrote ${entries.length} services to ${file}. Edit status, phones, hours, address or services, or add rows; then: npm run directory:import -- ${file}`,
        );
        return 0;
      }
      if (!fs.existsSync(file)) throw new UsageError(`there is no file ${file}`);
      if (fs.statSync(file).size > MAX_CSV_BYTES)
        throw new UsageError(
          `${file} is larger than ${MAX_CSV_BYTES / 1024 / 1024} MB; the directory is far smaller: is it the right file?`,
        );
      const decoded = decodeSpreadsheet(fs.readFileSync(file));
      if ("error" in decoded) throw new UsageError(`${file}: ${decoded.error}`);
      const plan = planImport(decoded.text, entries, seed.places, createTranslator());
      for (const line of describePlan(plan)) out(line);
      const counts = `${plan.changes.length} change(s), ${plan.added.length} new service(s), ${plan.refused.length} row(s) refused`;
      if (!apply) {
        out(`Dry run: ${counts}. Nothing was written; to write, run again with --apply.`);
        return 0;
      }
      // All or nothing: a half-applied spreadsheet is harder to reason about than a refused one.
      if (plan.refused.length) {
        out(`Nothing was written: ${plan.refused.length} row(s) refused. Correct or remove them, then run again.`);
        return 1;
      }
      const name = path.basename(file);
      const source = `file: ${name}`;
      const by = `file:${name}`;
      const at = new Date();
      for (const a of plan.added) await store.create(a.entry, source, by, at);
      for (const c of plan.changes)
        await store.change({ entryId: c.entryId, field: c.field, after: c.after, source, by }, at);
      const waiting =
        plan.changes.filter((c) => c.waits).length + plan.added.filter((a) => a.entry.phones.length).length;
      out(
        `Written: ${counts}.${waiting ? ` ${waiting} change(s) wait for a supervisor's confirmation in the staff group; the bot posts them within a minute.` : ""}`,
      );
      return 0;
    } finally {
      await db.close();
    }
  } catch (err) {
    if (err instanceof UsageError || err instanceof KeySourceError || err instanceof DatabaseStartError) {
      process.stderr.write(`directory: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}

process.exitCode = await main(process.argv.slice(2));
