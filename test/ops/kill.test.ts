import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { BotApiEmulator } from "../../src/playground/fakes/bot-api-emulator.ts";
import { countRows, pressLabel, tempDir } from "../support/harness.ts";
import { killAllBots, startBotProcess } from "../support/process.ts";

const STAFF = -1007770001;
let emu: BotApiEmulator | undefined;
afterEach(async () => {
  killAllBots();
  await emu?.stop();
  emu = undefined;
});

async function setup() {
  emu = await new BotApiEmulator().start();
  emu.protectedChats.add(STAFF);
  const dbFile = path.join(tempDir(), "kill.db");
  const env = {
    BOT_TOKEN: emu.token,
    TELEGRAM_API_ROOT: emu.apiRoot,
    DATABASE_URL: `file:${dbFile}`,
    SYNC_BOT_PROFILE: "false",
    ADMIN_CHAT_ID: String(STAFF),
    ENCRYPTION_KEY: Buffer.alloc(32, 1).toString("base64"),
    GROUP_MESSAGES_PER_MINUTE: "6000",
  };
  return { emu, dbFile, env };
}

/** The new process asked who it is (getMe) and then began to poll: it is answering from now on. */
async function started(e: BotApiEmulator, getMeBefore: number) {
  const hello = await e.waitFor(() => e.calls.filter((c) => c.method === "getMe")[getMeBefore], 30_000, "bot start");
  await e.waitFor(() => e.lastPollAt >= hello.at, 30_000, "the bot polling");
}

/** Walks a chat to the report review screen. */
async function toReview(e: BotApiEmulator, chat: number, stopAfterKinds = false) {
  const step = async (act: () => unknown, n = 1) => {
    const before = e.sent(chat).length;
    act();
    await e.waitForSent(chat, before, n, 10_000);
  };
  await step(() => e.sendText(chat, "/start"), 2);
  await step(() => pressLabel(e, chat, "Русский"));
  await step(() => pressLabel(e, chat, /Казахстан/));
  await step(() => pressLabel(e, chat, "✍ Рассказать, что случилось"));
  await step(() => pressLabel(e, chat, "Понятно, дальше"));
  await step(() => pressLabel(e, chat, "С другим взрослым"));
  await step(() => pressLabel(e, chat, /Угрожают/));
  if (stopAfterKinds) return;
  await step(() => pressLabel(e, chat, "Готово ✔"));
  await step(() => pressLabel(e, chat, "Нет"));
  await step(() => pressLabel(e, chat, "Пропустить"));
  await step(() => e.sendText(chat, "Текст для проверки PROBE-1"));
  await step(() => pressLabel(e, chat, "Дальше"));
  await step(() => pressLabel(e, chat, "Нет, не связываться"));
  await step(() => pressLabel(e, chat, "Пропустить"));
}

const count = countRows;

describe("killed at the worst moment, nothing is lost (issue 5: R1, R7, S2, D4)", () => {
  it("between the commit and the confirmation: after restart the report exists once and the confirmation and card come once", async () => {
    const { emu, dbFile, env } = await setup();
    const bot = startBotProcess({ ...env, QORGAU_CRASH_AT: "after_commit_before_confirm" });
    await started(emu, 0);
    const chat = 9101;
    await toReview(emu, chat);
    pressLabel(emu, chat, "📨 Отправить");
    expect((await bot.exited).signal).toBe("SIGKILL");
    expect(count(dbFile, "SELECT count(*) AS n FROM reports")).toBe(1);
    expect(emu.sent(chat).some((m) => m.text?.startsWith("Получено."))).toBe(false);

    startBotProcess(env);
    await started(emu, 1);
    await emu.waitFor(() => emu.sent(chat).some((m) => m.text?.startsWith("Получено.")), 15_000, "confirmation");
    await emu.waitFor(() => emu.sent(STAFF).some((m) => m.text?.includes("PROBE-1")), 15_000, "card");
    // Everything queued is marked sent: nothing is left to go out a second time.
    await emu.waitFor(
      () => count(dbFile, "SELECT count(*) AS n FROM outbox WHERE status != 'sent'") === 0,
      15_000,
      "the outbox settled",
    );
    expect(emu.sent(chat).filter((m) => m.text?.startsWith("Получено."))).toHaveLength(1);
    expect(emu.sent(STAFF).filter((m) => m.text?.includes("PROBE-1"))).toHaveLength(1);
    expect(count(dbFile, "SELECT count(*) AS n FROM reports")).toBe(1);
  }, 90_000);

  it("after the card went out but before it was marked: after restart it is not sent twice", async () => {
    const { emu, dbFile, env } = await setup();
    const bot = startBotProcess({ ...env, QORGAU_CRASH_AT: "mid_outbox" });
    await started(emu, 0);
    const chat = 9102;
    await toReview(emu, chat);
    pressLabel(emu, chat, "📨 Отправить");
    expect((await bot.exited).signal).toBe("SIGKILL");
    expect(emu.sent(STAFF).filter((m) => m.text?.includes("PROBE-1"))).toHaveLength(1);
    startBotProcess(env);
    await started(emu, 1);
    await emu.waitFor(
      () => count(dbFile, "SELECT count(*) AS n FROM outbox WHERE kind = 'card' AND status = 'sent'") === 1,
      15_000,
      "card marked",
    );
    expect(emu.sent(STAFF).filter((m) => m.text?.includes("PROBE-1"))).toHaveLength(1);
  }, 90_000);

  it("in the middle of a report: after restart the draft can be resumed (R7)", async () => {
    const { emu, env } = await setup();
    const bot = startBotProcess({ ...env, QORGAU_CRASH_AT: "after_draft_step" });
    await started(emu, 0);
    const chat = 9103;
    await toReview(emu, chat, true);
    pressLabel(emu, chat, "Готово ✔");
    expect((await bot.exited).signal).toBe("SIGKILL");
    startBotProcess(env);
    await started(emu, 1);
    const before = emu.sent(chat).length;
    emu.sendText(chat, "/report");
    const [offer] = await emu.waitForSent(chat, before, 1, 10_000);
    expect(offer!.text).toBe("У вас есть незаконченное обращение. Продолжить с того же места?");
    pressLabel(emu, chat, "Продолжить");
    const [resumed] = await emu.waitForSent(chat, before + 1, 1, 10_000);
    expect(resumed!.text).toBe("Кому-то опасно прямо сейчас?");
  }, 90_000);

  it("in the middle of a quick exit: after restart the rest is deleted and the cover comes once, without a new /exit (S2)", async () => {
    const { emu, dbFile, env } = await setup();
    const first = startBotProcess(env);
    await started(emu, 0);
    const chat = 9104;
    emu.sendText(chat, "/start");
    await emu.waitForSent(chat, 0, 2);
    first.child.kill("SIGTERM");
    await first.exited;
    // 150 messages in the chat, so the wipe needs two batches.
    const db = new Database(dbFile);
    const ins = db.prepare("INSERT INTO tracked_messages (chat, message_id, from_bot, sent_at) VALUES (?, ?, 1, ?)");
    for (let i = 0; i < 150; i++)
      ins.run(
        `telegram:${chat}`,
        String(emu.seedMessage(chat, true, 3600_000)),
        new Date(Date.now() - 3600_000).toISOString(),
      );
    db.close();

    const killed = startBotProcess({ ...env, QORGAU_CRASH_AT: "mid_exit" });
    await started(emu, 1);
    emu.sendText(chat, "/exit");
    expect((await killed.exited).signal).toBe("SIGKILL");
    expect(emu.visible(chat).length).toBeGreaterThan(1);

    startBotProcess(env);
    await started(emu, 2);
    await emu.waitFor(() => emu.visible(chat).length === 1, 15_000, "the rest deleted");
    await emu.waitFor(() => count(dbFile, "SELECT count(*) AS n FROM exit_pending") === 0, 15_000, "the wipe finished");
    const covers = emu.sent(chat).filter((m) => m.text === "Список покупок: хлеб, молоко, яблоки.");
    expect(covers).toHaveLength(1);
    expect(count(dbFile, "SELECT count(*) AS n FROM tracked_messages")).toBe(0);
    expect(count(dbFile, "SELECT count(*) AS n FROM exit_pending")).toBe(0);
  }, 90_000);
});
