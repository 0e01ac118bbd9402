/**
 * One key, checked; backups sealed; rotation (issue 14). What an operator who
 * restarts with the wrong key, restores last night's file, or rotates a leaked
 * key would run into.
 */
import { execFile } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import Database from "better-sqlite3";
import { distTool } from "../support/dist.ts";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { createTranslator } from "../../src/core/i18n.ts";
import { makeAddress } from "../../src/core/types.ts";
import { backupDatabase, BackupKeyError, countRows, purgeSetAside, verifyBackup } from "../../src/db/backup.ts";
import { DatabaseStartError, prepareDatabaseFile } from "../../src/db/open.ts";
import { projectRoot } from "../../src/paths.ts";
import { createLogger } from "../../src/logger.ts";
import { startApp } from "../../src/app.ts";
import { chatAtMenu, pressLabel, startHarness, stepper, tempDir, type Harness } from "../support/harness.ts";
import { seedReport } from "../support/reports.ts";
import { prismaOf } from "../support/prisma.ts";

const run = promisify(execFile);
const KEY = Buffer.alloc(32, 21).toString("base64");
const OTHER = Buffer.alloc(32, 22).toString("base64");
const STAFF = -1002001;

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

/** The bytes of the database and its log, to show a refused start wrote nothing. */
const fingerprint = (file: string) =>
  ["", "-wal"]
    .map((ext) =>
      fs.existsSync(file + ext)
        ? crypto
            .createHash("sha256")
            .update(fs.readFileSync(file + ext))
            .digest("hex")
        : "none",
    )
    .join(",");

async function withReports(dir = tempDir()) {
  h = await startHarness({ dir, env: { ENCRYPTION_KEY: KEY, ADMIN_CHAT_ID: String(STAFF) } });
  const seeded = [];
  for (let i = 0; i < 3; i++)
    seeded.push(
      await seedReport(h.app.reports, makeAddress("telegram", 8100 + i), STAFF, { text: `Текст обращения номер ${i}` }),
    );
  await h.app.reports.saveDraft(
    makeAddress("telegram", 8200),
    { step: "text", about: "self", kinds: ["physical"], text: "черновик" } as never,
    new Date(),
  );
  return seeded;
}

const tool = (script: string, args: string[], env: Record<string, string>) =>
  run(process.execPath, [distTool(script), ...args], {
    cwd: projectRoot,
    env: { PATH: process.env.PATH ?? "", HOME: tempDir("qorgau-home-"), ...env },
  }).then(
    (r) => ({ code: 0, out: r.stdout + r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
  );

describe("one key per database (issue 14)", () => {
  it("a start with another key is refused with one clear line and leaves the database byte for byte as it was", async () => {
    const dir = tempDir();
    await withReports(dir);
    await h!.stop();
    h = undefined;
    const file = path.join(dir, "qorgau.db");
    const before = fingerprint(file);
    const config = loadConfig({
      BOT_TOKEN: "123456:AAtest-token-for-the-key-check_00000",
      TELEGRAM_API_ROOT: "http://127.0.0.1:9",
      DATABASE_URL: `file:${file}`,
      ENCRYPTION_KEY: OTHER,
      SYNC_BOT_PROFILE: "false",
    });
    const logger = createLogger({ level: "error", write: () => undefined });
    const err = await startApp(config, logger, { jobs: false }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DatabaseStartError);
    expect((err as Error).message).toMatch(
      /ENCRYPTION_KEY is not the key this database was sealed with; nothing was changed/,
    );
    expect((err as Error).message).toContain("npm run key:rotate");
    expect(fingerprint(file)).toBe(before);
  });

  it("a database from before key check values: a wrong key is caught by a sealed value it cannot open", async () => {
    const dir = tempDir();
    await withReports(dir);
    await h!.stop();
    h = undefined;
    const file = path.join(dir, "qorgau.db");
    const raw = new Database(file);
    raw.exec("DELETE FROM meta");
    raw.close();
    const config = loadConfig({
      BOT_TOKEN: "123456:AAtest-token-for-the-key-check_00000",
      TELEGRAM_API_ROOT: "http://127.0.0.1:9",
      DATABASE_URL: `file:${file}`,
      ENCRYPTION_KEY: OTHER,
      SYNC_BOT_PROFILE: "false",
    });
    await expect(
      startApp(config, createLogger({ level: "error", write: () => undefined }), { jobs: false }),
    ).rejects.toThrow(/not the key this database was sealed with/);
  });

  it("without ENCRYPTION_KEY outside production: a key is made once outside the database folder (0600), said once, and used from then on; an old key beside the database moves there", async () => {
    const dir = tempDir();
    const keyFile = path.join(tempDir("qorgau-home-"), ".qorgau", "encryption.key");
    const old = crypto.randomBytes(32).toString("base64");
    fs.writeFileSync(path.join(dir, "dev-encryption.key"), old);
    const prev = process.env.QORGAU_DEV_KEY_FILE;
    process.env.QORGAU_DEV_KEY_FILE = keyFile;
    const said: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((s: string) => (said.push(String(s)), true)) as typeof process.stderr.write;
    try {
      h = await startHarness({ dir, env: { ENCRYPTION_KEY: "" } });
      const seeded = await seedReport(h.app.reports, makeAddress("telegram", 8301), -1);
      await h.restart();
      expect((await h.app.reports.byId(seeded.id))!.text).toBe("Соседку бьют.");
    } finally {
      process.stderr.write = write;
      if (prev === undefined) delete process.env.QORGAU_DEV_KEY_FILE;
      else process.env.QORGAU_DEV_KEY_FILE = prev;
    }
    expect(fs.readFileSync(keyFile, "utf8")).toBe(old);
    expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(fs.existsSync(path.join(dir, "dev-encryption.key"))).toBe(false);
    const lines = said
      .join("")
      .split("\n")
      .filter((l) => l.includes(keyFile));
    expect(lines).toHaveLength(1);
    expect(said.join("")).toContain("Back it up apart from the database");
  });

  it("in production the key must come from the environment", () => {
    expect(() => loadConfig({ BOT_TOKEN: "1:x", NODE_ENV: "production" })).toThrow(/ENCRYPTION_KEY is missing/);
  });
});

describe("sealed backups and db:restore (D4, issue 14)", () => {
  it("a backup is sealed, carries no sessions, message ids or drafts, and restores with integrity ok and the same counts", async () => {
    const seeded = await withReports();
    const dir = path.join(tempDir(), "backups");
    const key = Buffer.from(KEY, "base64");
    let last = backupDatabase(h!.dbFile, dir, new Date("2026-11-20T03:30:00Z"), 7, key);
    for (let d = 21; d <= 28; d++) last = backupDatabase(h!.dbFile, dir, new Date(`2026-11-${d}T03:30:00Z`), 7, key);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith(".qbak"))).toHaveLength(7);
    expect(fs.statSync(last.file).mode & 0o777).toBe(0o600);
    // No plain copy is left anywhere beside it or the database.
    expect(fs.readdirSync(path.dirname(h!.dbFile)).filter((f) => f.includes("backup-"))).toEqual([]);
    const bytes = fs.readFileSync(last.file);
    expect(bytes.includes(Buffer.from("SQLite format 3"))).toBe(false);
    expect(bytes.includes(Buffer.from(seeded[0]!.code))).toBe(false);
    expect(last.counts.reports).toBe(3);
    const check = verifyBackup(last.file, tempDir(), key);
    expect(check).toEqual({ integrity: "ok", counts: countRows(h!.dbFile) });
    // Who was talking to the bot is not in it.
    const scratch = path.join(tempDir(), "plain.db");
    const { decryptBackup } = await import("../../src/db/backup.ts");
    decryptBackup(last.file, scratch, key);
    const db = new Database(scratch, { readonly: true });
    expect(
      ["sessions", "tracked_messages", "report_drafts"].map(
        (t) => (db.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n,
      ),
    ).toEqual([0, 0, 0]);
    db.close();
    expect(countRows(h!.dbFile).reports).toBe(3);
  });

  it("a backup opened with another key, or changed by one byte, is refused", async () => {
    await withReports();
    const file = backupDatabase(h!.dbFile, path.join(tempDir(), "b"), new Date(), 7, Buffer.from(KEY, "base64")).file;
    expect(() => verifyBackup(file, tempDir(), Buffer.from(OTHER, "base64"))).toThrow(BackupKeyError);
    const bytes = fs.readFileSync(file);
    bytes[bytes.length - 100]! ^= 1;
    fs.writeFileSync(file, bytes);
    const scratch = tempDir();
    expect(() => verifyBackup(file, scratch, Buffer.from(KEY, "base64"))).toThrow(/changed or is incomplete/);
    expect(fs.readdirSync(scratch)).toEqual([]);
  });

  it("npm run db:restore puts a backup back, keeps the replaced database aside, and refuses another key or a running bot", async () => {
    const dir = tempDir();
    const seeded = await withReports(dir);
    const file = path.join(dir, "qorgau.db");
    const backup = backupDatabase(file, path.join(dir, "backups"), new Date(), 7, Buffer.from(KEY, "base64")).file;
    const env = { DATABASE_URL: `file:${file}`, ENCRYPTION_KEY: KEY };
    const busy = await tool("db-restore.ts", [backup], env);
    expect(busy.code).toBe(1);
    expect(busy.out).toMatch(/db:restore: .*(running|lock)/i);
    // After the backup: a report that the restore will take back.
    await seedReport(h!.app.reports, makeAddress("telegram", 8400), STAFF);
    await h!.stop();
    h = undefined;
    const wrong = await tool("db-restore.ts", [backup], { ...env, ENCRYPTION_KEY: OTHER });
    expect(wrong.code).toBe(1);
    expect(wrong.out).toContain("sealed with another ENCRYPTION_KEY");
    const ok = await tool("db-restore.ts", [backup], env);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/integrity ok; reports 3/);
    expect(fs.readdirSync(dir).some((f) => f.startsWith("qorgau.db.before-restore-"))).toBe(true);
    // The backup is from before any exit, yet the restore cannot know that: every chat's reports are locked.
    expect(ok.out).toContain("locked as after a quick exit");
    expect(ok.out).toMatch(/kept as .*before-restore-.* for 7 days/);
    h = await startHarness({ dir, env: { ENCRYPTION_KEY: KEY, ADMIN_CHAT_ID: String(STAFF) } });
    expect(countRows(file).reports).toBe(3);
    expect((await h.app.reports.byId(seeded[2]!.id))!.text).toBe("Текст обращения номер 2");
    for (const r of seeded) expect((await h.app.reports.relayInfo(r.id))!.lockedAt).not.toBeNull();
    // «📂 Мои обращения» in her chat lists nothing and asks for the case word.
    const chat = 8101;
    await chatAtMenu(h.emu, chat);
    const step = stepper(h.emu, chat);
    const [mine] = await step(() => pressLabel(h!.emu, chat, "📂 Мои обращения"));
    expect(mine!.payload.text).toContain(createTranslator().t("ru", "report.mineLocked"));
    expect(mine!.payload.text).not.toContain(seeded[1]!.code);
    // The replaced database leaves after its days, not before.
    const aside = path.join(
      dir,
      fs.readdirSync(dir).find((f) => f.startsWith("qorgau.db.before-restore-"))!,
    );
    expect(purgeSetAside(file, 7, new Date(Date.now() + 6 * 86_400_000))).toEqual([]);
    expect(fs.existsSync(aside)).toBe(true);
    expect(purgeSetAside(file, 7, new Date(Date.now() + 8 * 86_400_000))).toEqual([path.basename(aside)]);
    expect(fs.existsSync(aside)).toBe(false);
    expect(fs.existsSync(file)).toBe(true);
  }, 90_000);
});

describe("npm run key:rotate", () => {
  it("makes the new key itself and saves it in a 0600 file before re-sealing: every report, reply and queued card stays readable under it, «My reports» still finds them, the old key is refused by name", async () => {
    const dir = tempDir();
    const seeded = await withReports(dir);
    await h!.app.reports.addMessage(
      seeded[0]!.id,
      "out",
      "Мы получили, позвоните нам.",
      new Date(),
      { actor: "staff:1", action: "reply", reportId: seeded[0]!.id, result: "ok" },
      () => [],
    );
    await h!.stop();
    h = undefined;
    const file = path.join(dir, "qorgau.db");
    const keyFile = path.join(tempDir("qorgau-keys-"), "new.key");
    const env = { DATABASE_URL: `file:${file}`, ENCRYPTION_KEY: KEY };
    const res = await tool("key-rotate.ts", ["--out", keyFile], env);
    expect(res.out).toContain("Re-sealed");
    expect(res.out).toContain(`The new key is in ${keyFile}`);
    expect(res.code).toBe(0);
    expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
    const newKey = fs.readFileSync(keyFile, "utf8").trim();
    expect(Buffer.from(newKey, "base64")).toHaveLength(32);

    h = await startHarness({ dir, env: { ENCRYPTION_KEY: newKey, ADMIN_CHAT_ID: String(STAFF) } });
    for (const [i, r] of seeded.entries()) {
      expect((await h.app.reports.byId(r.id))!.text).toBe(`Текст обращения номер ${i}`);
      expect(await h.app.reports.relayAddress(r.id)).toBe(makeAddress("telegram", 8100 + i));
      expect((await h.app.reports.ofAddress(makeAddress("telegram", 8100 + i))).map((x) => x.id)).toEqual([r.id]);
    }
    expect((await h.app.reports.messages(seeded[0]!.id)).map((m) => m.body)).toEqual(["Мы получили, позвоните нам."]);
    expect(await h.app.reports.getDraft(makeAddress("telegram", 8200))).toMatchObject({ text: "черновик" });
    expect(await prismaOf(h.app.db).outbox.count({ where: { status: "dead" } })).toBe(0);
    await h.stop();
    h = undefined;
    // The old key is refused, and the refusal names the file that holds the key that opens it.
    expect(() => prepareDatabaseFile(file, Buffer.from(KEY, "base64"))).toThrow(`saved in ${keyFile}`);
    const again = await tool("key-rotate.ts", [], env);
    expect(again.code).toBe(1);
    expect(again.out).toContain("nothing was changed");
    // A word it does not know (a mistyped --print, say) is refused before anything happens.
    const typo = await tool("key-rotate.ts", ["print"], { ...env, ENCRYPTION_KEY: newKey });
    expect(typo.code).toBe(1);
    expect(typo.out).toContain("usage: npm run key:rotate");
    // --print shows the key once, before re-sealing, and writes no file.
    const printed = await tool("key-rotate.ts", ["--print"], { ...env, ENCRYPTION_KEY: newKey });
    expect(printed.code).toBe(0);
    const shown = /shown only now.*\n([A-Za-z0-9+/=]{44})\n/.exec(printed.out)![1]!;
    expect(() => prepareDatabaseFile(file, Buffer.from(shown, "base64"))).not.toThrow();
  }, 90_000);

  it("killed at any step, the file is opened by exactly one key, and a start with the other names it", async () => {
    const dir = tempDir();
    await withReports(dir);
    await h!.stop();
    h = undefined;
    const file = path.join(dir, "qorgau.db");
    let current = Buffer.from(KEY, "base64");
    for (const [step, rotated] of [
      ["rotate_marked", false],
      ["rotate_key_saved", false],
      ["rotate_mid", false],
      ["rotate_committed", true],
    ] as const) {
      const keyFile = path.join(tempDir("qorgau-keys-"), `${step}.key`);
      const res = await tool("key-rotate.ts", ["--out", keyFile], {
        DATABASE_URL: `file:${file}`,
        ENCRYPTION_KEY: current.toString("base64"),
        QORGAU_CRASH_AT: step,
      });
      expect(res.code, `${step} was killed`).not.toBe(0);
      expect(res.out).not.toContain("Re-sealed");
      const saved = fs.existsSync(keyFile) ? Buffer.from(fs.readFileSync(keyFile, "utf8").trim(), "base64") : null;
      expect(saved === null, `${step}: the new key is saved before re-sealing`).toBe(step === "rotate_marked");
      const opens = (key: Buffer) => {
        try {
          prepareDatabaseFile(file, key);
          return "ok";
        } catch (err) {
          return (err as Error).message;
        }
      };
      if (rotated) {
        expect(opens(saved!)).toBe("ok");
        expect(opens(current)).toContain(`saved in ${keyFile}`);
        current = saved!;
      } else {
        expect(opens(current)).toBe("ok");
        if (saved)
          expect(opens(saved)).toContain("did not finish, so the database is still sealed with the key from before it");
      }
    }
    // After all of it the reports are whole under the one key that opens the file.
    h = await startHarness({ dir, env: { ENCRYPTION_KEY: current.toString("base64"), ADMIN_CHAT_ID: String(STAFF) } });
    expect((await h.app.reports.ofAddress(makeAddress("telegram", 8101)))[0]!.text).toBe("Текст обращения номер 1");
  }, 90_000);
});
