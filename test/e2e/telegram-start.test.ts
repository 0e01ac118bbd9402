import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { buttonsOf, chatAtMenu, pressLabel, startHarness, stepper, type Harness } from "../support/harness.ts";

let h: Harness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await h.stop();
});

describe("telegram: /start → language → menu", () => {
  it("greets calmly with both countries' numbers and the exit hint, then offers the language", async () => {
    const chat = 1001;
    h.emu.sendText(chat, "/start", { languageCode: "kk" });
    const [welcome, lang] = await h.emu.waitForSent(chat, 0, 2);
    expect(welcome!.text).toContain("112");
    expect(welcome!.text).toContain("111");
    expect(welcome!.text).toContain("/exit");
    // The persistent exit button is on the keyboard from the very first message.
    expect(welcome!.payload.reply_markup.keyboard.flat().map((b: { text: string }) => b.text)).toContain("✕ Шығу");
    expect(welcome!.payload.reply_markup.is_persistent).toBe(true);
    // Preselected from Telegram's language code: Kazakh first.
    expect(buttonsOf(lang!.payload)[0]).toBe("Қазақша");

    pressLabel(h.emu, chat, "Кыргызча");
    const [menu] = await h.emu.waitForSent(chat, 2, 1);
    expect(menu!.text).toContain("Макул, кыргызча сүйлөшөбүз.");
    expect(buttonsOf(menu!.payload)).toContain("🆘 Азыр коркунучтуу");
    expect(h.emu.callsOf("answerCallbackQuery")).toHaveLength(1);
  });
});

describe("telegram: a restart keeps the conversation", () => {
  it("after a stop and a start, the last screen's buttons still work, in the language chosen", async () => {
    await h.stop();
    // Screens wait a minute in memory here: only the stop writes them.
    h = await startHarness({ start: { sessionWriteMs: 60_000 } });
    const { emu } = h;
    const chat = 1002;
    const step = stepper(emu, chat);
    await chatAtMenu(emu, chat);
    await step(() => pressLabel(emu, chat, "☎ Телефоны доверия"));
    await h.restart();
    const [card] = await step(() => pressLabel(emu, chat, "📇 Карточка с номерами"));
    expect(card!.text).toContain("Полезные номера — Казахстан");
  });
});

describe("telegram: start-up problems are explained", () => {
  it("a token the Bot API rejects stops the bot with a clear message", async () => {
    const { BotApiEmulator } = await import("../../src/playground/fakes/bot-api-emulator.ts");
    const { loadConfig } = await import("../../src/config.ts");
    const { startApp } = await import("../../src/app.ts");
    const { createLogger } = await import("../../src/logger.ts");
    const path = await import("node:path");
    const { tempDir } = await import("../support/harness.ts");
    const emu = await new BotApiEmulator().start();
    try {
      const config = loadConfig({
        BOT_TOKEN: "111111111:AAWrongWrongWrongWrongWrongWrong00",
        TELEGRAM_API_ROOT: emu.apiRoot,
        DATABASE_URL: `file:${path.join(tempDir(), "x.db")}`,
        ENCRYPTION_KEY: Buffer.alloc(32, 3).toString("base64"),
      });
      await expect(startApp(config, createLogger({ write: () => undefined }), { jobs: false })).rejects.toThrow(
        "Telegram rejected BOT_TOKEN",
      );
    } finally {
      await emu.stop();
    }
  });
});

describe("telegram: an operator who follows .env.example", () => {
  it(".env.example copied as it is, with a token, the API root and a key, starts and answers (no proxy set by example)", async () => {
    const fs = await import("node:fs");
    const path = await import("node:path");
    const { parseEnv } = await import("node:util");
    const { BotApiEmulator } = await import("../../src/playground/fakes/bot-api-emulator.ts");
    const { loadConfig } = await import("../../src/config.ts");
    const { startApp } = await import("../../src/app.ts");
    const { createLogger } = await import("../../src/logger.ts");
    const { projectRoot } = await import("../../src/paths.ts");
    const { tempDir } = await import("../support/harness.ts");
    const example = parseEnv(fs.readFileSync(path.join(projectRoot, ".env.example"), "utf8")) as Record<string, string>;
    expect(example.TELEGRAM_PROXY ?? "").toBe("");
    const emu = await new BotApiEmulator().start();
    const dir = tempDir();
    const filled = {
      ...example,
      BOT_TOKEN: emu.token,
      TELEGRAM_API_ROOT: emu.apiRoot,
      ENCRYPTION_KEY: Buffer.alloc(32, 9).toString("base64"),
      // Only so that the test writes nothing into the checkout; the values are the example's own otherwise.
      DATABASE_URL: `file:${path.join(dir, "qorgau.db")}`,
      BACKUP_DIR: path.join(dir, "backups"),
    };
    const app = await startApp(loadConfig(filled), createLogger({ write: () => undefined }), {
      jobs: false,
      onStopped: () => undefined,
    });
    try {
      emu.sendText(4242, "/start", { languageCode: "ru" });
      const [welcome] = await emu.waitForSent(4242, 0, 2);
      expect(welcome!.text).toContain("112");
    } finally {
      await app.stop();
      await emu.stop();
    }
  });
});
