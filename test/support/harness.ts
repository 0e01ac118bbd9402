/**
 * Starts the real app (grammY bot, Prisma on a temporary SQLite file) against
 * the local Bot API emulator. Shared by the end-to-end tests.
 */
import fs from "node:fs";
import Database from "better-sqlite3";
import os from "node:os";
import path from "node:path";
import { loadConfig, type Config } from "../../src/config.ts";
import { createLogger } from "../../src/logger.ts";
import { startApp, type App, type StartOptions } from "../../src/app.ts";
import { BotApiEmulator } from "../../src/playground/fakes/bot-api-emulator.ts";
import { TEST_KEY } from "./keys.ts";
import { prismaOf } from "./prisma.ts";

export interface Harness {
  emu: BotApiEmulator;
  app: App;
  config: Config;
  /** Stops the app (not the emulator) and starts a new one on the same database, as after a crash. */
  restart(): Promise<App>;
  logs: string[];
  /**
   * Resolves once the bot has received every update sent so far and handled them all: the honest
   * wait before asserting that something did *not* happen.
   */
  idle(): Promise<void>;
  dbFile: string;
  dir: string;
  stop(): Promise<void>;
}

/** The supervisor the harness configures by default (not a member of any group unless a test adds them). */
export const SUPERVISOR = 990001;

export function tempDir(prefix = "qorgau-test-"): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export async function startHarness(
  opts: {
    env?: Record<string, string>;
    now?: () => Date;
    dir?: string;
    setup?: (emu: BotApiEmulator) => void;
    start?: Partial<StartOptions>;
    emu?: BotApiEmulator;
  } = {},
): Promise<Harness> {
  // A restart keeps talking to the same "Telegram" (its update ids go on, as Telegram's do).
  const emu = opts.emu ?? (await new BotApiEmulator().start());
  opts.setup?.(emu);
  const dir = opts.dir ?? tempDir();
  const dbFile = path.join(dir, "qorgau.db");
  const config: Config = loadConfig({
    BOT_TOKEN: emu.token,
    TELEGRAM_API_ROOT: emu.apiRoot,
    DATABASE_URL: `file:${dbFile}`,
    SYNC_BOT_PROFILE: "false",
    ENCRYPTION_KEY: TEST_KEY.toString("base64"),
    // A supervisor who is not in the tests' groups: staff groups are configured, as they must be
    // (decision 11); tests of the roster name their own.
    STAFF_SUPERVISORS: String(SUPERVISOR),
    // Tests tap far faster than a person; the flood tests set the real limit.
    CHAT_UPDATES_PER_MINUTE: "1000000",
    ...opts.env,
  });
  const logs: string[] = [];
  const logger = createLogger({ level: "debug", secrets: [config.botToken], write: (l) => logs.push(l) });
  const h: Harness = {
    emu,
    app: await startApp(config, logger, { jobs: false, now: opts.now, onStopped: () => undefined, ...opts.start }),
    config,
    logs,
    dbFile,
    dir,
    async idle() {
      await emu.received();
      await h.app.telegram?.idle();
      await h.app.whatsapp?.idle();
    },
    async restart() {
      await h.app.stop();
      h.app = await startApp(config, logger, { jobs: false, now: opts.now, onStopped: () => undefined, ...opts.start });
      return h.app;
    },
    async stop() {
      await h.app.stop();
      await emu.stop();
    },
  };
  return h;
}

/** Presses the button with this label on the bot's last message with buttons in a chat. */
export function pressLabel(emu: BotApiEmulator, chatId: number, label: string | RegExp): string {
  const withKeyboard = [...emu.sent(chatId)].reverse().find((m) => m.payload.reply_markup?.inline_keyboard);
  if (!withKeyboard) throw new Error(`no message with buttons in chat ${chatId}`);
  const buttons = (
    withKeyboard.payload.reply_markup.inline_keyboard as Array<Array<{ text: string; callback_data: string }>>
  ).flat();
  const b = buttons.find((x) => (typeof label === "string" ? x.text === label : label.test(x.text)));
  if (!b) throw new Error(`no button ${label} among: ${buttons.map((x) => x.text).join(" | ")}`);
  return emu.press(chatId, withKeyboard.id, b.callback_data);
}

export function buttonsOf(payload: Record<string, any>): string[] {
  return ((payload.reply_markup?.inline_keyboard ?? []) as Array<Array<{ text: string }>>).flat().map((b) => b.text);
}

/** `step(act, n)`: does `act` in the chat and waits for the bot's next `n` messages there, which it returns. */
export function stepper(emu: BotApiEmulator, chat: number) {
  return async (act: () => unknown, n = 1) => {
    const before = emu.sent(chat).length;
    act();
    return emu.waitForSent(chat, before, n);
  };
}

/** A chat that started in Russian, chose Kazakhstan and sees the menu (four messages from the bot). */
export async function chatAtMenu(emu: BotApiEmulator, chat: number) {
  emu.sendText(chat, "/start", { languageCode: "ru" });
  await emu.waitForSent(chat, 0, 2);
  pressLabel(emu, chat, "Русский");
  await emu.waitForSent(chat, 2, 1);
  pressLabel(emu, chat, /Казахстан/);
  await emu.waitForSent(chat, 3, 1);
}

/** One number from the raw database file, read on a connection of its own (as another process would). */
export function countRows(file: string, sql: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare(sql).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

/**
 * A member of a staff group whom a supervisor approved (decision 11): what most tests of staff work
 * need. The roster tests approve through /staff instead.
 */
export async function approvedStaff(
  h: Harness,
  chatId: number,
  userId: number,
  name = `Staff${userId}`,
): Promise<void> {
  h.emu.setMember(chatId, userId, "member");
  const key = { chatId: BigInt(chatId), userId: BigInt(userId) };
  await prismaOf(h.app.db).staffMember.upsert({
    where: { chatId_userId: key },
    create: { ...key, name, status: "approved", at: new Date() },
    update: { status: "approved" },
  });
}
