import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOCALES } from "../../src/config.ts";
import { createTranslator } from "../../src/core/i18n.ts";
import { profileTexts } from "../../src/channels/telegram/profile.ts";
import { buttonsOf, pressLabel, startHarness, type Harness } from "../support/harness.ts";
import { sensitiveTermsIn } from "../support/sensitive-terms.ts";

let h: Harness;
let chatSeq = 4000;
beforeAll(async () => {
  h = await startHarness({ env: { SYNC_BOT_PROFILE: "true" } });
});
afterAll(async () => {
  await h.stop();
});

async function readyChat(languageCode = "ru"): Promise<number> {
  const chat = chatSeq++;
  h.emu.sendText(chat, "/start", { languageCode });
  await h.emu.waitForSent(chat, 0, 2);
  pressLabel(h.emu, chat, "Русский");
  await h.emu.waitForSent(chat, 2, 1);
  pressLabel(h.emu, chat, /Казахстан/);
  await h.emu.waitForSent(chat, 3, 1);
  return chat;
}

describe("telegram: bad input gets a short kind reply and the menu", () => {
  const cases: Array<[string, (chat: number) => unknown, string]> = [
    ["a sticker", (c) => h.emu.sendSticker(c), "Фото, голосовые и стикеры здесь я не читаю."],
    ["a voice note", (c) => h.emu.sendVoice(c), "Фото, голосовые и стикеры здесь я не читаю."],
    ["a photo", (c) => h.emu.sendPhoto(c), "Фото, голосовые и стикеры здесь я не читаю."],
    ["a 5,000-character message", (c) => h.emu.sendText(c, "ы".repeat(5000)), "Сообщение очень длинное"],
    [
      "markup characters",
      (c) => h.emu.sendText(c, "<b>bold</b> *x* _y_ [z](http://a) ```code``` \u202e"),
      "Я лучше понимаю кнопки.",
    ],
    ["an unknown command", (c) => h.emu.sendText(c, "/admin"), "Такой команды нет."],
  ];
  it.each(cases)("%s", async (_name, send, reply) => {
    const chat = await readyChat();
    const n = h.emu.sent(chat).length;
    send(chat);
    const [msg] = await h.emu.waitForSent(chat, n, 1);
    expect(msg!.text).toContain(reply);
    expect(buttonsOf(msg!.payload)).toContain("📍 Помощь рядом");
    // Plain text only: nothing the user typed is ever parsed as markup.
    expect(msg!.payload.parse_mode).toBeUndefined();
  });

  it("a button from an old message is answered once and explained, and changes nothing", async () => {
    const chat = await readyChat();
    const oldMenu = h.emu.lastSent(chat)!;
    const data = (oldMenu.payload.reply_markup.inline_keyboard as Array<Array<{ callback_data: string }>>).flat()[0]!
      .callback_data;
    // A newer screen makes that menu stale.
    let n = h.emu.sent(chat).length;
    pressLabel(h.emu, chat, "☎ Телефоны доверия");
    await h.emu.waitForSent(chat, n, 1);
    n = h.emu.sent(chat).length;
    const answers = h.emu.callsOf("answerCallbackQuery").length;
    const qid = h.emu.press(chat, oldMenu.id, data);
    const [msg] = await h.emu.waitForSent(chat, n, 1);
    expect(msg!.text).toContain("Эта кнопка из старого сообщения.");
    const mine = h.emu.callsOf("answerCallbackQuery").filter((c) => c.payload.callback_query_id === qid);
    expect(mine).toHaveLength(1);
    expect(h.emu.callsOf("answerCallbackQuery").length).toBe(answers + 1);
  });

  it("a reply whose connection drops on the way is sent again, so the person still gets an answer", async () => {
    const chat = await readyChat();
    const n = h.emu.sent(chat).length;
    h.emu.drop("sendMessage", 1, (p) => Number(p.chat_id) === chat);
    pressLabel(h.emu, chat, "☎ Телефоны доверия");
    const [msg] = await h.emu.waitForSent(chat, n, 1);
    expect(msg!.text).toContain("111");
    expect(h.emu.sent(chat)).toHaveLength(n + 1); // once, not twice
  });

  it("group messages are not answered", async () => {
    const before = h.emu.calls.length;
    h.emu.userMessage(-100777, { text: "/start" }, {}, { chatType: "supergroup" });
    await h.idle();
    expect(h.emu.calls.slice(before).filter((c) => c.method.startsWith("send"))).toEqual([]);
  });
});

describe("telegram: logs hold no content, chat ids or token (P5)", () => {
  it("after a conversation full of a canary and a failing call", async () => {
    const chat = 777123456;
    h.emu.sendText(chat, "/start CANARY-7f3a", { languageCode: "ru" });
    await h.emu.waitForSent(chat, 0, 2);
    h.emu.fail(
      "sendMessage",
      { error_code: 400, description: "Bad Request: CANARY-7f3a can't parse" },
      1,
      (p) => Number(p.chat_id) === chat,
    );
    h.emu.sendText(chat, "меня зовут CANARY-7f3a, телефон +7 701 555 12 34");
    await h.emu.waitFor(() => h.logs.some((l) => l.includes("telegram.update_failed")), 5000, "the failure log");
    h.emu.sendText(chat, "CANARY-7f3a");
    await h.emu.waitForSent(chat, 2, 1);
    const all = h.logs.join("\n");
    expect(all).toContain('"error_code":400');
    expect(all).not.toContain("CANARY");
    expect(all).not.toContain(String(chat));
    expect(all).not.toContain("701 555");
    expect(all).not.toContain(h.emu.token);
    expect(all).not.toContain(h.emu.token.split(":")[1]);
  });
});

describe("telegram: the bot's profile is neutral (S3)", () => {
  it("name, descriptions and commands come from the locales, in every language", async () => {
    const tr = createTranslator();
    await h.emu.waitFor(() => h.emu.profile.ky?.short_description, 5000, "profile sync");
    for (const l of LOCALES) {
      const want = profileTexts(tr, l);
      expect(h.emu.profile[l]).toEqual({
        name: want.name,
        description: want.description,
        short_description: want.shortDescription,
      });
      const cmds = h.emu.callsOf("setMyCommands").find((c) => c.payload.language_code === l)!;
      expect(cmds.payload.commands).toEqual(want.commands);
    }
    expect(h.emu.profile[""]!.name).toBe("Заметки");
  });

  it("a refused rename does not stop the rest: every description and command list is still set, and the failure is logged once", async () => {
    const own = await startHarness({
      env: { SYNC_BOT_PROFILE: "true" },
      setup: (emu) =>
        emu.fail("setMyName", { error_code: 400, description: "Bad Request: bot name change is not allowed now" }, 100),
    });
    try {
      const tr = createTranslator();
      await own.emu.waitFor(
        () => own.emu.callsOf("setMyCommands").length === LOCALES.length + 1 || undefined,
        5000,
        "every command list",
      );
      for (const l of LOCALES) expect(own.emu.profile[l]?.description).toBe(profileTexts(tr, l).description);
      expect(own.emu.callsOf("setMyName").length).toBe(LOCALES.length + 1);
      await own.emu.waitFor(
        () => own.logs.some((x) => x.includes("telegram.profile_synced")) || undefined,
        5000,
        "the sync's end",
      );
      expect(
        own.logs.filter((x) => x.includes("telegram.profile_sync_failed") && x.includes("setMyName")),
      ).toHaveLength(1);
    } finally {
      await own.stop();
    }
  });

  it("no profile text, command, cover, exit label or knock contains a sensitive word (S3, S8)", () => {
    const tr = createTranslator();
    const found: string[] = [];
    for (const l of LOCALES) {
      const p = profileTexts(tr, l);
      // Proactive texts too: a knock may show on a locked screen (S8).
      const texts = [
        p.name,
        p.description,
        p.shortDescription,
        ...p.commands.map((c) => c.description),
        tr.t(l, "exit.cover"),
        tr.t(l, "common.exitButton"),
        tr.t(l, "report.knock_telegram"),
        tr.t(l, "report.knock_whatsapp"),
        tr.t(l, "report.read"),
      ];
      for (const t of texts) for (const w of sensitiveTermsIn(t)) found.push(`${l}: "${t}" has "${w}"`);
    }
    expect(found).toEqual([]);
  });

  it("the sensitive-word check does catch such words", () => {
    expect(sensitiveTermsIn("Кризисный центр")).toEqual(["кризис"]);
    expect(sensitiveTermsIn("Сенім телефоны")).toEqual(["сенім телефон"]);
  });
});
