import net from "node:net";
import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { acquireLock, InstanceLockError } from "../../src/db/lock.ts";
import { projectRoot } from "../../src/paths.ts";
import { startHarness, tempDir, type Harness } from "../support/harness.ts";
import { spawn, type ChildProcess } from "node:child_process";

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

describe("file modes under the service unit's UMask=0077", () => {
  it("the database, its log, its folder and a backup are readable by the service user only", async () => {
    const { BotApiEmulator } = await import("../../src/playground/fakes/bot-api-emulator.ts");
    const { killAllBots, startBotProcess } = await import("../support/process.ts");
    const emu = await new BotApiEmulator().start();
    try {
      const state = path.join(tempDir(), "state");
      const db = path.join(state, "qorgau.db");
      const backups = path.join(state, "backups");
      // A backup every second, so the test need not wait for the night.
      // Stopped in `finally` whatever happens: a bot left behind backing up every second would load the machine.
      const bot = startBotProcess(
        {
          BOT_TOKEN: emu.token,
          TELEGRAM_API_ROOT: emu.apiRoot,
          DATABASE_URL: `file:${db}`,
          BACKUP_DIR: backups,
          BACKUP_CRON: "* * * * * *",
          SYNC_BOT_PROFILE: "false",
        },
        undefined,
        { umask: "0077" },
      );
      emu.sendText(5151, "/start", { languageCode: "ru" });
      await emu.waitForSent(5151, 0, 2, 30_000).catch((e: Error) => {
        throw new Error(`${e.message}: ${bot.output()}`);
      });
      await emu.waitFor(
        () => (fs.existsSync(backups) && fs.readdirSync(backups).some((f) => f.endsWith(".qbak"))) || undefined,
        10_000,
        "a backup",
      );
      const mode = (p: string) => (fs.statSync(p).mode & 0o777).toString(8);
      const backup = path.join(
        backups,
        fs.readdirSync(backups).find((f) => f.endsWith(".qbak"))!,
      );
      expect({
        folder: mode(state),
        db: mode(db),
        wal: mode(`${db}-wal`),
        backups: mode(backups),
        backup: mode(backup),
      }).toEqual({ folder: "700", db: "600", wal: "600", backups: "700", backup: "600" });
      bot.child.kill("SIGTERM");
      await bot.exited;
    } finally {
      killAllBots();
      await emu.stop();
    }
  }, 90_000);
});

describe("one instance per database (T2)", () => {
  it("a DATABASE_URL in a folder that does not exist yet: the folder is made and the bot answers", async () => {
    const dir = path.join(tempDir(), "not", "yet");
    const fresh = await startHarness({ dir });
    try {
      fresh.emu.sendText(9191, "/start", { languageCode: "ru" });
      await fresh.emu.waitForSent(9191, 0, 2);
      expect(fs.existsSync(path.join(dir, "qorgau.db"))).toBe(true);
    } finally {
      await fresh.stop();
    }
  });

  it("the lock is the kernel's: refused while a process holds it, free the moment that process is killed; a pid left in the file means nothing (T2)", async () => {
    const db = path.join(tempDir(), "lock.db");
    // An earlier version's pid file naming a live process that is not Qorgau (after a reboot, say).
    const stranger = spawn("sleep", ["5"]);
    fs.writeFileSync(`${db}.lock`, String(stranger.pid));
    const release = acquireLock(db);
    expect(() => acquireLock(db)).toThrow(InstanceLockError);
    release();
    stranger.kill("SIGKILL");
    // Another process holds it, then dies without a word.
    const holder = holdIn(db);
    await holder.held;
    expect(() => acquireLock(db)).toThrow(InstanceLockError);
    holder.child.kill("SIGKILL");
    await new Promise((r) => holder.child.on("exit", r));
    acquireLock(db)();
  });

  it("of four processes starting at once on one database, exactly one gets the lock", async () => {
    const db = path.join(tempDir(), "race.db");
    const four = Array.from({ length: 4 }, () => holdIn(db));
    const results = await Promise.all(
      four.map((h) =>
        h.held.then(
          () => "held",
          () => "refused",
        ),
      ),
    );
    for (const h of four) h.child.kill("SIGKILL");
    expect(results.filter((r) => r === "held")).toHaveLength(1);
    expect(results.filter((r) => r === "refused")).toHaveLength(3);
  });
});

const holders: ChildProcess[] = [];
afterEach(() => {
  for (const c of holders.splice(0)) c.kill("SIGKILL");
});

/**
 * A separate process that takes the lock with the project's own code and keeps it. It drops the
 * release function and collects its garbage at once: the lock must hold all the same (a connection
 * nothing refers to is closed by the collector, and its file lock with it).
 */
function holdIn(db: string) {
  const script =
    "import('./src/db/lock.ts').then((m) => { m.acquireLock(process.argv[1]); gc(); gc(); console.log('held'); setInterval(() => gc(), 20); }, () => process.exit(3)).catch(() => process.exit(3))";
  const child = spawn(process.execPath, ["--expose-gc", "--import", "tsx", "-e", script, db], {
    cwd: projectRoot,
    stdio: ["ignore", "pipe", "pipe"],
  });
  holders.push(child);
  const held = new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", (d) => String(d).includes("held") && resolve());
    child.on("exit", () => reject(new Error("refused")));
  });
  held.catch(() => undefined);
  return { child, held };
}

describe("webhook mode (T1) and health", () => {
  it("401 without or with a wrong secret, nothing processed; the right secret is processed; a duplicate update once", async () => {
    // Ports the system just handed out as free (a random pick could meet a busy ephemeral port).
    const port = await freePort();
    const healthPort = await freePort();
    const secret = "s".repeat(40);
    h = await startHarness({
      env: {
        WEBHOOK_URL: "https://bot.example.org/hook",
        WEBHOOK_SECRET: secret,
        WEBHOOK_PORT: String(port),
        HEALTH_PORT: String(healthPort),
      },
    });
    const set = h.emu.callsOf("setWebhook")[0]!;
    expect(set.payload).toMatchObject({
      url: "https://bot.example.org/hook",
      secret_token: secret,
      drop_pending_updates: false,
    });
    expect(set.payload.allowed_updates).toEqual(["message", "callback_query", "chat_member", "my_chat_member"]);
    const update = (id: number) => ({
      update_id: id,
      message: {
        message_id: 1,
        date: Math.floor(Date.now() / 1000),
        chat: { id: 5151, type: "private", first_name: "T" },
        from: { id: 5151, is_bot: false, first_name: "T" },
        text: "/start",
        entities: [{ type: "bot_command", offset: 0, length: 6 }],
      },
    });
    const post = (body: unknown, token?: string) =>
      fetch(`http://127.0.0.1:${port}/`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(token ? { "X-Telegram-Bot-Api-Secret-Token": token } : {}) },
        body: JSON.stringify(body),
      });
    expect((await post(update(1))).status).toBe(401);
    expect((await post(update(2), "wrong")).status).toBe(401);
    expect(h.emu.callsOf("sendMessage", 5151)).toHaveLength(0);
    expect((await post(update(3), secret)).status).toBe(200);
    await h.emu.waitFor(() => h!.emu.callsOf("sendMessage", 5151).length === 2, 5000, "answer");
    expect((await post(update(3), secret)).status).toBe(200);
    await h.app.telegram!.idle();
    expect(h.emu.callsOf("sendMessage", 5151)).toHaveLength(2);

    const health = await fetch(`http://127.0.0.1:${healthPort}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({
      status: "ok",
      db: "ok",
      outbox_pending: 0,
      telegram: "running",
      whatsapp: "off",
    });
  });

  it("listens on loopback by default; a 2 MB body with the right secret gets 413 before it is read, and the bot goes on (issue 14)", async () => {
    const port = await freePort();
    const secret = "s".repeat(40);
    h = await startHarness({
      env: { WEBHOOK_URL: "https://bot.example.org/hook", WEBHOOK_SECRET: secret, WEBHOOK_PORT: String(port) },
    });
    expect(h.app.telegram!.webhookAddress()).toEqual({ host: "127.0.0.1", port });
    const big = JSON.stringify({
      update_id: 9,
      message: { message_id: 1, date: 1, chat: { id: 5252, type: "private" }, text: "x".repeat(2 * 1024 * 1024) },
    });
    const res = await fetch(`http://127.0.0.1:${port}/`, {
      method: "POST",
      headers: { "content-type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret },
      body: big,
    }).catch((e: unknown) => e);
    // Refused with 413 (or the connection closed while the client was still sending): never processed.
    if (res instanceof Response) expect(res.status).toBe(413);
    expect(h.logs.some((l) => l.includes("telegram.webhook_too_large"))).toBe(true);
    // Still alive: a normal update is answered.
    const update = {
      update_id: 10,
      message: {
        message_id: 2,
        date: Math.floor(Date.now() / 1000),
        chat: { id: 5252, type: "private", first_name: "T" },
        from: { id: 5252, is_bot: false, first_name: "T" },
        text: "/start",
        entities: [{ type: "bot_command", offset: 0, length: 6 }],
      },
    };
    const ok = await fetch(`http://127.0.0.1:${port}/`, {
      method: "POST",
      headers: { "content-type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret },
      body: JSON.stringify(update),
    });
    expect(ok.status).toBe(200);
    await h.emu.waitFor(() => h!.emu.callsOf("sendMessage", 5252).length === 2, 5000, "answer");
  });

  it("refuses a webhook without HTTPS or with a short secret", async () => {
    const { loadConfig } = await import("../../src/config.ts");
    expect(() =>
      loadConfig({
        BOT_TOKEN: "123456789:AAExampleExampleExampleExample12",
        WEBHOOK_URL: "http://x.org/h",
        WEBHOOK_SECRET: "short",
      }),
    ).toThrow(/https:\/\/.*\n.*WEBHOOK_SECRET/s);
  });
});
