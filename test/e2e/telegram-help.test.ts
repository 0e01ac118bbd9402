import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTranslator } from "../../src/core/i18n.ts";
import { sensitiveTermsIn } from "../support/sensitive-terms.ts";
import { buttonsOf, pressLabel, startHarness, type Harness } from "../support/harness.ts";

let h: Harness;
let chatSeq = 2000;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h.stop();
});

/** A chat that has chosen Russian and a country, at the main menu. */
async function readyChat(country: "Казахстан" | "Кыргызстан" = "Казахстан"): Promise<number> {
  const chat = chatSeq++;
  h.emu.sendText(chat, "/start", { languageCode: "ru" });
  await h.emu.waitForSent(chat, 0, 2);
  pressLabel(h.emu, chat, "Русский");
  await h.emu.waitForSent(chat, 2, 1);
  pressLabel(h.emu, chat, new RegExp(country));
  await h.emu.waitForSent(chat, 3, 1);
  return chat;
}

describe("telegram: help near me", () => {
  it("asks for the location with Telegram's request-location button beside the exit button", async () => {
    const chat = await readyChat();
    const n = h.emu.sent(chat).length;
    pressLabel(h.emu, chat, "📍 Помощь рядом");
    const [ask, choose] = await h.emu.waitForSent(chat, n, 2);
    const kb = ask!.payload.reply_markup.keyboard.flat();
    expect(kb).toEqual([{ text: "📍 Отправить место", request_location: true }, { text: "✕ Выйти" }]);
    expect(buttonsOf(choose!.payload)).toContain("🗺 Выбрать область");
  });

  it.each([
    ["Almaty", 43.24, 76.89, "Алматы", "kz-almaty-city"],
    ["Bishkek", 42.87, 74.59, "Бишкек", "kg-bishkek"],
  ])("a location shared in %s → a map pin of the town and that city's centers first", async (_n, lat, lon, town) => {
    const chat = await readyChat();
    const n = h.emu.sent(chat).length;
    h.emu.sendLocation(chat, lat, lon);
    const [pin, list] = await h.emu.waitForSent(chat, n, 2);
    expect(pin!.method).toBe("sendVenue");
    expect(pin!.payload.title).toBe(town);
    expect(pin!.payload.address).toContain("не адрес");
    // The pin restores the plain exit keyboard.
    expect(pin!.payload.reply_markup.keyboard.flat()).toEqual([{ text: "✕ Выйти" }]);
    const entries = list!.text!.split("\n\n").filter((b) => /^\d+\. /.test(b));
    expect(entries.length).toBe(3);
    // The city's own centers first (no distance shown inside the town), then others by distance.
    const where = entries.map((e) => e.split("\n")[1]!);
    expect(where[0]).toBe(town);
    expect(where[1]).toBe(town);
    const kms = where.map((w) => (w === town ? 0 : Number(/, (\d+) км$/.exec(w)?.[1])));
    expect(kms).toEqual([...kms].sort((a, b) => a - b));
    expect(list!.text).toMatch(/В любое время: .*111/);
    expect(list!.payload.protect_content).toBe(true);
    expect(buttonsOf(list!.payload)).toContain("Показать ещё");
  });

  it("when the map pin fails, the list of services and its buttons still go out", async () => {
    const chat = await readyChat();
    h.emu.fail(
      "sendVenue",
      { error_code: 400, description: "Bad Request: VENUE_INVALID" },
      1,
      (p) => Number(p.chat_id) === chat,
    );
    const n = h.emu.sent(chat).length;
    h.emu.sendLocation(chat, 43.24, 76.89);
    const [list] = await h.emu.waitForSent(chat, n, 1);
    expect(list!.text).toMatch(/^Алматы/m);
    expect(list!.text).toMatch(/В любое время: .*111/);
    expect(buttonsOf(list!.payload)).toContain("Показать ещё");
    expect(h.logs.some((l) => l.includes("telegram.pin_failed"))).toBe(true);
  });

  it.each(["Шымкент", "Shymkent"])("typing %s lists the centers of Shymkent", async (typed) => {
    const chat = await readyChat();
    const n = h.emu.sent(chat).length;
    h.emu.sendText(chat, typed);
    const msgs = await h.emu.waitForSent(chat, n, 2);
    const list = msgs.at(-1)!;
    expect(list.text).toMatch(/^Шымкент и рядом:/);
    expect(list.text).toContain("1. ");
    const firstThree = list.text!.split("\n\n").filter((b) => /^\d+\. /.test(b));
    for (const e of firstThree) expect(e).toContain("\nШымкент");
    // Centers without a published phone send people to the national line, never to an unverified number.
    expect(list.text).toContain("Телефон не опубликован: позвоните на 111");
  });

  it("shows more results on request, and the region picker pages through all regions", async () => {
    const chat = await readyChat();
    let n = h.emu.sent(chat).length;
    h.emu.sendText(chat, "Алматы");
    await h.emu.waitForSent(chat, n, 2);
    n = h.emu.sent(chat).length;
    pressLabel(h.emu, chat, "Показать ещё");
    const [more] = await h.emu.waitForSent(chat, n, 1);
    expect(more!.text).toMatch(/\(4–6\)/);
    expect(more!.text).toContain("4. ");

    n = h.emu.sent(chat).length;
    pressLabel(h.emu, chat, "🗺 Выбрать область");
    const [page1] = await h.emu.waitForSent(chat, n, 1);
    expect(page1!.text).toContain("(1/3)");
    expect(buttonsOf(page1!.payload).slice(0, 3)).toEqual(["Астана", "Алматы", "Шымкент"]);
    n = h.emu.sent(chat).length;
    pressLabel(h.emu, chat, "Дальше ▶");
    await h.emu.waitForSent(chat, n, 1);
    n = h.emu.sent(chat).length;
    pressLabel(h.emu, chat, "Дальше ▶");
    const [page3] = await h.emu.waitForSent(chat, n, 1);
    expect(page3!.text).toContain("(3/3)");
    n = h.emu.sent(chat).length;
    pressLabel(h.emu, chat, "Туркестанская область");
    const [towns] = await h.emu.waitForSent(chat, n, 1);
    expect(buttonsOf(towns!.payload)[0]).toBe("Туркестан");
    n = h.emu.sent(chat).length;
    pressLabel(h.emu, chat, "Туркестан");
    const got = await h.emu.waitForSent(chat, n, 2);
    expect(got.at(-1)!.text).toMatch(/^Туркестан и рядом:/);
  });
});

describe("telegram: numbers", () => {
  it("danger now: the country's emergency numbers and trust lines, protected", async () => {
    const chat = await readyChat("Кыргызстан");
    const n = h.emu.sent(chat).length;
    pressLabel(h.emu, chat, "🆘 Опасно сейчас");
    const [msg] = await h.emu.waitForSent(chat, n, 1);
    expect(msg!.text).toContain("102 — милиция");
    expect(msg!.text).toContain("103 — скорая помощь");
    expect(msg!.text).toContain("111 — детская линия доверия, принимает и взрослых, круглосуточно");
    expect(msg!.payload.protect_content).toBe(true);
    // Short numbers are marked so Telegram offers to call them.
    const marked = (msg!.payload.entities as Array<{ type: string; offset: number; length: number }>).map((e) =>
      msg!.text!.slice(e.offset, e.offset + e.length),
    );
    expect(marked).toEqual(["102", "103", "112", "111"]);
  });

  it("the hotline card is one plain copyable block", async () => {
    const chat = await readyChat();
    const n = h.emu.sent(chat).length;
    pressLabel(h.emu, chat, "📇 Карточка с номерами");
    const [card] = await h.emu.waitForSent(chat, n, 2);
    expect(card!.text).toBe(
      [
        "Полезные номера — Казахстан",
        "112 — служба спасения",
        "102 — полиция",
        "103 — скорая помощь",
        "111 — справочная линия, круглосуточно",
        "150 — детская и молодёжная линия, часы работы уточняются",
      ].join("\n"),
    );
    // Copyable and unprotected, so neutral all through: nothing of what the numbers are for beyond the
    // emergency services' own names (review §6).
    const services = new Set(["полици", "милици", "спасени", "полиция", "милиция"]);
    for (const l of ["ru", "kk", "ky"] as const) {
      const c = createTranslator().fixed(l);
      const lines = [
        "kz_nat_112",
        "kz_nat_102",
        "kz_nat_103",
        "kz_nat_111",
        "kz_nat_150",
        "kg_nat_102",
        "kg_nat_103",
        "kg_nat_112",
        "kg_nat_111",
      ]
        .map((k) => c(`card.about.${k}`))
        .join("\n");
      expect(
        sensitiveTermsIn(lines).filter((t) => !services.has(t)),
        l,
      ).toEqual([]);
    }
    expect(sensitiveTermsIn(card!.text!).filter((t) => !services.has(t))).toEqual([]);
    expect(card!.payload.protect_content).toBe(false);
    expect(card!.payload.parse_mode).toBeUndefined();
  });
});
