/**
 * WhatsApp says what is true on WhatsApp (issue 13, decision 7): no screen
 * names a Telegram button, setting or promise, and WhatsApp's own notices get
 * no answer, also after a quick exit.
 */
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOCALES, type Locale } from "../../src/config.ts";
import { createTranslator } from "../../src/core/i18n.ts";
import { FakeWaClient } from "../../src/playground/fakes/fake-whatsapp.ts";
import { startHarness, type Harness } from "../support/harness.ts";

const tr = createTranslator();
let h: Harness;
let wa: FakeWaClient;
beforeAll(async () => {
  wa = new FakeWaClient();
  h = await startHarness({
    env: {
      WHATSAPP_ENABLED: "true",
      WA_SEND_DELAY_MS: "0",
      WA_DATA_DIR: path.join(os.tmpdir(), "qorgau-wa-honest"),
      TELEGRAM_HANDLE: "@qorgau_test_bot",
      ADMIN_CHAT_ID: "-1005550009",
      ENCRYPTION_KEY: Buffer.alloc(32, 8).toString("base64"),
    },
    setup: (emu) => emu.protectedChats.add(-1005550009),
    start: {
      whatsappClient: {
        client: wa,
        makeLocation: (lat, lon, name, address) => ({ kind: "location", lat, lon, name, address }),
      },
    },
  });
});
afterAll(async () => {
  await h.stop();
});

/** Sends as the person and returns every message the bot answered with, once it has handled the message. */
async function exchange(jid: string, text: string): Promise<string[]> {
  const before = wa.count(jid);
  wa.text(jid, text);
  await h.app.whatsapp!.idle();
  expect(wa.count(jid), `an answer to «${text}»`).toBeGreaterThan(before);
  return wa.sent
    .filter((s) => s.chatId === jid)
    .slice(before)
    .map((s) => s.text ?? "");
}
const optionCount = (text: string) => text.split("\n").filter((l) => /^\d{1,2} — /.test(l)).length;

/** Words that only make sense on Telegram: its buttons, its settings, its promise to erase both sides. */
function telegramWords(l: Locale): RegExp[] {
  const own = {
    ru: [/кнопк/i, /нажмите/i, /внизу/i, /48 час/i, /код-пароль/i],
    kk: [/түйме/i, /төмендегі/i, /48 сағат/i, /құпия код/i],
    ky: [/баскыч/i, /төмөндөгү/i, /48 саат/i, /купуя код/i],
  }[l];
  const labels = [tr.t(l, "common.exitButton"), tr.t(l, "near.locationButton")].map(
    (x) => new RegExp(x.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")),
  );
  return [...own, ...labels, /\/exit/, /Telegram/i];
}

describe("whatsapp: every screen is free of Telegram words", () => {
  it.each(LOCALES)(
    "in %s, the menu, two levels below it, and a whole report",
    async (l) => {
      const jid = `7701${LOCALES.indexOf(l)}000${LOCALES.indexOf(l)}1@c.us`;
      const texts: string[] = [];
      texts.push(...(await exchange(jid, "/start")));
      // The language list puts the phone's likely language first; pick by name to be sure.
      texts.push(...(await exchange(jid, tr.t(l, "language.name"))));
      if (l === "ru") texts.push(...(await exchange(jid, "1")));
      const menu = (await exchange(jid, "/menu")).at(-1)!;
      texts.push(menu);
      for (let i = 1; i <= optionCount(menu); i++) {
        await exchange(jid, "/menu");
        const first = await exchange(jid, String(i));
        texts.push(...first);
        const n = Math.min(optionCount(first.at(-1) ?? ""), 8);
        for (let j = 1; j <= n; j++) {
          await exchange(jid, "/menu");
          await exchange(jid, String(i));
          texts.push(...(await exchange(jid, String(j))));
        }
      }
      // A whole report, by numbers and words: about someone else, threats, no danger, a town, a text, contact, case word.
      await exchange(jid, "/menu");
      const report = String(
        menu.split("\n").findIndex((x) => x.includes(tr.t(l, "menu.report"))) >= 0
          ? menu
              .split("\n")
              .filter((x) => /^\d{1,2} — /.test(x))
              .findIndex((x) => x.includes(tr.t(l, "menu.report"))) + 1
          : 5,
      );
      const limits = await exchange(jid, report);
      texts.push(...limits);
      // The limits of erasing come first once per chat; the crawl may have shown them already.
      if (limits.join("").includes(tr.t(l, "report.understood"))) texts.push(...(await exchange(jid, "1")));
      for (const step of ["2", "5", "6", "2", "Шымкент", "Соседку бьют третий день.", "1", "2", "подсолнух"])
        texts.push(...(await exchange(jid, step)));
      const sent = await exchange(jid, "1");
      texts.push(...sent);
      expect(sent.join("\n")).toMatch(new RegExp(tr.t(l, "report.received", { code: "" }).slice(0, 8)));
      expect(texts.length).toBeGreaterThan(40);

      const footerless = texts.map((t) =>
        t
          .split("\n")
          .filter((line) => !line.includes("@qorgau_test_bot"))
          .join("\n"),
      );
      const found = footerless.flatMap((t) =>
        telegramWords(l)
          .filter((re) => re.test(t))
          .map((re) => `${re} in «${t.slice(0, 80)}»`),
      );
      expect(found).toEqual([]);
      // Photos and voices are offered in WhatsApp's words (issue 26).
      expect(footerless.join("\n")).toContain(tr.t(l, "report.askPhotos_whatsapp", { max: 5, voices: 3 }));
    },
    90_000,
  );
});

describe("whatsapp: its own notices are not a person writing", () => {
  const notices = [
    "e2e_notification",
    "notification_template",
    "notification",
    "call_log",
    "protocol",
    "revoked",
    "gp2",
    "group_notification",
    "ciphertext",
    "reaction",
    "unknown",
    "broadcast_notification",
  ];

  it("no answer to any notice, before or after a quick exit (S6)", async () => {
    const jid = "77019990011@c.us";
    const fresh = wa.count(jid);
    for (const type of notices) wa.media(jid, type);
    // Every notice was handled, and none answered: not even a first-contact welcome.
    await h.app.whatsapp!.idle();
    expect(wa.count(jid)).toBe(fresh);
    await exchange(jid, "Сәлем");
    await exchange(jid, "1");
    const cover = await exchange(jid, "0");
    expect(cover).toEqual([tr.t("kk", "exit.cover")]);
    const after = wa.count(jid);
    for (const type of notices) wa.media(jid, type);
    await h.app.whatsapp!.idle();
    expect(wa.count(jid)).toBe(after);
    // A photo or a voice note is a person writing: that is answered.
    expect((await exchange(jid, "0 ")).length).toBeGreaterThanOrEqual(0);
    wa.media(jid, "ptt");
    await wa.waitFor(jid, wa.count(jid), 1);
  });
});
