import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { BotApiEmulator } from "../../src/playground/fakes/bot-api-emulator.ts";
import { tempDir } from "../support/harness.ts";
import { projectRoot } from "../../src/paths.ts";
import { killAllBots, startBotProcess } from "../support/process.ts";

let emu: BotApiEmulator | undefined;
afterEach(async () => {
  killAllBots();
  await emu?.stop();
  emu = undefined;
});

describe("the bot as a process", () => {
  it("a second instance on the same database refuses to start; SIGTERM lets the update in flight finish and exits 0 (T2, R5)", async () => {
    emu = await new BotApiEmulator().start();
    const dbFile = path.join(tempDir(), "proc.db");
    const env = {
      BOT_TOKEN: emu.token,
      TELEGRAM_API_ROOT: emu.apiRoot,
      DATABASE_URL: `file:${dbFile}`,
      SYNC_BOT_PROFILE: "false",
    };
    const first = startBotProcess(env);
    // Started: it has asked who it is and begun to poll.
    const hello = await emu.waitFor(
      () => emu!.calls.find((c) => c.method === "getMe"),
      30_000,
      "the first bot to start",
    );
    await emu.waitFor(() => emu!.lastPollAt >= hello.at, 30_000, "the first bot polling");

    const second = startBotProcess(env);
    expect((await second.exited).code).toBe(2);
    expect(second.output()).toContain("another Qorgau");

    // An update whose answer is slow is in flight when SIGTERM arrives.
    emu.delay("sendMessage", 1500, 1, (p) => Number(p.chat_id) === 4242);
    emu.sendText(4242, "/start");
    await emu.waitFor(
      () => emu!.calls.some((c) => c.method === "sendMessage" && Number(c.payload.chat_id) === 4242),
      10_000,
      "the slow send",
    );
    first.child.kill("SIGTERM");
    expect((await first.exited).code).toBe(0);
    // The handler finished: both the welcome and the language choice went out.
    expect(emu.sent(4242)).toHaveLength(2);
  }, 90_000);

  it("a 409 on getUpdates (the token polled elsewhere): one clear line, an orderly stop, exit 2, and the next start works (T2, issue 15)", async () => {
    emu = await new BotApiEmulator().start();
    const dbFile = path.join(tempDir(), "conflict.db");
    const env = {
      BOT_TOKEN: emu.token,
      TELEGRAM_API_ROOT: emu.apiRoot,
      DATABASE_URL: `file:${dbFile}`,
      SYNC_BOT_PROFILE: "false",
    };
    const bot = startBotProcess(env);
    await emu.waitFor(() => emu!.calls.some((c) => c.method === "getMe"), 30_000, "the bot to start");
    emu.sendText(4300, "/start");
    await emu.waitForSent(4300, 0, 2, 10_000);
    emu.fail("getUpdates", {
      error_code: 409,
      description: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
    });
    // The poll under way returns with this update; the next poll gets the 409. The update is still answered.
    emu.sendText(4301, "/start");
    const { code } = await bot.exited;
    expect(code).toBe(2);
    const out = bot.output();
    expect(out.match(/Qorgau is stopping: Telegram answered 409 Conflict/g)).toHaveLength(1);
    // No stack trace, no runner dump, no token.
    expect(out).not.toMatch(/\n\s+at |ERROR ERROR|grammY runner|Unhandled/);
    expect(out).not.toContain(emu.token);
    expect(emu.sent(4301)).toHaveLength(2);
    // It stopped in order: the lock was released, and the next start works.
    const again = startBotProcess(env);
    emu.sendText(4302, "/start");
    await emu.waitForSent(4302, 0, 2, 30_000);
    again.child.kill("SIGTERM");
    expect((await again.exited).code).toBe(0);
  }, 90_000);

  it("a webhook left set by webhook mode: polling mode deletes it and starts (issue 15)", async () => {
    emu = await new BotApiEmulator().start();
    emu.webhookUrl = "https://example.invalid/hook";
    const dbFile = path.join(tempDir(), "webhook-left.db");
    startBotProcess({
      BOT_TOKEN: emu.token,
      TELEGRAM_API_ROOT: emu.apiRoot,
      DATABASE_URL: `file:${dbFile}`,
      SYNC_BOT_PROFILE: "false",
    });
    emu.sendText(4400, "/start");
    await emu.waitForSent(4400, 0, 2, 30_000);
    expect(emu.webhookUrl).toBeNull();
    // The updates Telegram held were kept (T4).
    expect(emu.callsOf("deleteWebhook").map((c) => c.payload.drop_pending_updates)).toEqual([false]);
  }, 90_000);

  // Root ignores file modes: the service user is played by "nobody" when the tests run as root,
  // which needs the project readable by others (every folder above it searchable).
  const serviceUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : undefined;
  const othersCanRun = projectRoot
    .split(path.sep)
    .every((_, i, parts) => (fs.statSync(parts.slice(0, i + 1).join(path.sep) || path.sep).mode & 0o001) !== 0);

  it.skipIf(serviceUser && !othersCanRun)(
    "a database file the service user cannot write, or a folder it cannot create, is refused at start with a line naming DATABASE_URL or BACKUP_DIR (issue 15)",
    async () => {
      emu = await new BotApiEmulator().start();
      const dir = tempDir();
      fs.chmodSync(dir, 0o777);
      const dbFile = path.join(dir, "readonly.db");
      fs.writeFileSync(dbFile, "");
      fs.chmodSync(dbFile, 0o444);
      const base = {
        BOT_TOKEN: emu.token,
        TELEGRAM_API_ROOT: emu.apiRoot,
        SYNC_BOT_PROFILE: "false",
        ENCRYPTION_KEY: Buffer.alloc(32, 5).toString("base64"),
        BACKUP_DIR: path.join(dir, "backups"),
      };
      const ro = startBotProcess({ ...base, DATABASE_URL: `file:${dbFile}` }, serviceUser);
      expect((await ro.exited).code).toBe(1);
      expect(ro.output()).toMatch(
        /Qorgau did not start: DATABASE_URL: the database file .*readonly\.db cannot be written \(SQLITE_READONLY\)/,
      );
      expect(ro.output()).not.toMatch(/\n\s+at /);

      const locked = tempDir();
      fs.chmodSync(locked, 0o555);
      const nofolder = startBotProcess(
        { ...base, DATABASE_URL: `file:${path.join(locked, "sub", "q.db")}` },
        serviceUser,
      );
      expect((await nofolder.exited).code).toBe(1);
      expect(nofolder.output()).toMatch(
        /Qorgau did not start: DATABASE_URL: cannot create the folder .*sub \((EACCES|EROFS)\)/,
      );
      // The same for the backups' folder, named by its own variable.
      const nobackups = startBotProcess(
        { ...base, DATABASE_URL: `file:${path.join(dir, "ok.db")}`, BACKUP_DIR: path.join(locked, "backups") },
        serviceUser,
      );
      expect((await nobackups.exited).code).toBe(1);
      expect(nobackups.output()).toMatch(
        /Qorgau did not start: BACKUP_DIR: cannot write the backup folder .*backups \((EACCES|EROFS)\)/,
      );
      expect(emu.calls.filter((c) => c.method === "getUpdates")).toEqual([]);
    },
    90_000,
  );

  it("npm run whatsapp:link names the library's own reason when the browser cannot start, and exits 1 (issue 15)", async () => {
    const dir = tempDir("qorgau-walink-");
    const { spawnSync } = await import("node:child_process");
    const run = spawnSync(
      process.execPath,
      ["--import", "tsx", path.join(projectRoot, "src", "channels", "whatsapp", "link.ts")],
      {
        cwd: projectRoot,
        env: {
          PATH: process.env.PATH ?? "",
          HOME: dir,
          WA_DATA_DIR: path.join(dir, "wa"),
          CHROME_PATH: path.join(dir, "no-chromium"),
        },
        encoding: "utf8",
        timeout: 60_000,
      },
    );
    expect(run.status).toBe(1);
    expect(run.stdout + run.stderr).toContain(
      "WhatsApp did not start: Error: Browser was not found at the configured executablePath",
    );
    expect(run.stdout + run.stderr).not.toMatch(/\n\s+at /);
  }, 90_000);

  it("a Bot API root that refuses connections is named at once, with the network error (issue 15)", async () => {
    const dbFile = path.join(tempDir(), "refused.db");
    const bot = startBotProcess({
      BOT_TOKEN: "123456789:AAEmulatorTokenForTestsOnly_0123456",
      TELEGRAM_API_ROOT: "http://127.0.0.1:1",
      DATABASE_URL: `file:${dbFile}`,
      SYNC_BOT_PROFILE: "false",
    });
    const { code } = await bot.exited;
    expect(code).toBe(1);
    // Named with the network's own error, not "no answer within 20 s" after waiting that long.
    expect(bot.output()).toContain(
      "Qorgau did not start: cannot reach the Bot API at http://127.0.0.1:1 (ECONNREFUSED): check TELEGRAM_API_ROOT and the network",
    );
    expect(bot.output()).not.toContain("within 20 s");
  }, 90_000);

  it.skipIf(serviceUser && !othersCanRun)(
    "a production install (dev and optional packages left out), started as the README's service: a user who cannot write the project, NODE_ENV=production; WhatsApp then says what to install (issue 15)",
    async () => {
      const { execFileSync, spawn } = await import("node:child_process");
      // The project as a fresh clone has it, its packages pruned as `npm ci --omit=dev --omit=optional`
      // would install them (hard links keep the copy instant).
      const copy = tempDir("qorgau-prod-");
      const files = execFileSync("git", ["ls-files", "-z"], { cwd: projectRoot, encoding: "utf8" })
        .split("\0")
        .filter(Boolean);
      for (const f of files) {
        fs.mkdirSync(path.dirname(path.join(copy, f)), { recursive: true });
        fs.copyFileSync(path.join(projectRoot, f), path.join(copy, f));
      }
      try {
        execFileSync("cp", ["-al", path.join(projectRoot, "node_modules"), path.join(copy, "node_modules")], {
          stdio: "ignore",
        });
      } catch {
        execFileSync("cp", ["-r", path.join(projectRoot, "node_modules"), path.join(copy, "node_modules")]); // another filesystem
      }
      execFileSync(
        "npm",
        ["prune", "--omit=dev", "--omit=optional", "--offline", "--no-audit", "--no-fund", "--ignore-scripts"],
        { cwd: copy, stdio: "ignore" },
      );
      // What `npm ci` runs after installing: the Prisma client and the build, with production packages only.
      execFileSync("npm", ["run", "postinstall", "--silent"], { cwd: copy, stdio: "ignore" });
      expect(fs.existsSync(path.join(copy, "node_modules", "typescript"))).toBe(false);
      expect(fs.existsSync(path.join(copy, "node_modules", "whatsapp-web.js"))).toBe(false);

      // The project folder is root's; the service writes only its own folder (systemd's StateDirectory).
      fs.chmodSync(copy, 0o755);
      const state = tempDir("qorgau-state-");
      fs.chmodSync(state, 0o777);
      emu = await new BotApiEmulator().start();
      const env = {
        PATH: process.env.PATH ?? "",
        HOME: state,
        BOT_TOKEN: emu.token,
        TELEGRAM_API_ROOT: emu.apiRoot,
        DATABASE_URL: `file:${path.join(state, "qorgau.db")}`,
        BACKUP_DIR: path.join(state, "backups"),
        SYNC_BOT_PROFILE: "false",
        NODE_ENV: "production",
        ENCRYPTION_KEY: Buffer.alloc(32, 2).toString("base64"),
      };
      const child = spawn("npm", ["start", "--silent"], {
        cwd: copy,
        env,
        stdio: ["ignore", "pipe", "pipe"],
        ...(serviceUser ?? {}),
      });
      let out = "";
      child.stdout!.on("data", (d) => (out += d));
      child.stderr!.on("data", (d) => (out += d));
      const exited = new Promise<number | null>((r) => child.on("exit", (c) => r(c)));
      try {
        emu.sendText(4700, "/start");
        await emu.waitForSent(4700, 0, 2, 30_000);
      } catch (err) {
        throw new Error(`${(err as Error).message}\n${out.slice(-2000)}`);
      }
      child.kill("SIGTERM");
      // As the service user any write to the project folder (a rebuild into dist/) would have failed the start.
      expect(await exited).toBe(0);
      expect(fs.existsSync(path.join(state, "qorgau.db"))).toBe(true);

      const wa = spawn("npm", ["start", "--silent"], {
        cwd: copy,
        env: {
          ...env,
          WHATSAPP_ENABLED: "true",
          WA_DATA_DIR: path.join(state, "wa"),
          DATABASE_URL: `file:${path.join(state, "q2.db")}`,
        },
        stdio: ["ignore", "pipe", "pipe"],
        ...(serviceUser ?? {}),
      });
      let waOut = "";
      wa.stdout!.on("data", (d) => (waOut += d));
      wa.stderr!.on("data", (d) => (waOut += d));
      const waCode = await new Promise<number | null>((r) => wa.on("exit", (c) => r(c)));
      expect(waCode).toBe(1);
      expect(waOut).toContain("the optional package whatsapp-web.js is not installed");
    },
    90_000,
  );
});
