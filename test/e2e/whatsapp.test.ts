import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { menuNumber, parseWa } from "../../src/channels/whatsapp/parse.ts";
import { createWhatsAppClient, ensureSessionDir, WhatsAppSetupError } from "../../src/channels/whatsapp/client.ts";
import { projectRoot } from "../../src/paths.ts";
import { FakeWaClient } from "../../src/playground/fakes/fake-whatsapp.ts";
import { startHarness, type Harness, approvedStaff } from "../support/harness.ts";
import type { StartOptions } from "../../src/app.ts";
import { prismaOf } from "../support/prisma.ts";

const STAFF = -1005550001;
const KEY = Buffer.alloc(32, 6).toString("base64");
let h: Harness | undefined;
let wa: FakeWaClient;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

async function waHarness(
  env: Record<string, string> = {},
  prepare?: (wa: FakeWaClient) => void,
  start: Partial<StartOptions> = {},
) {
  wa = new FakeWaClient();
  prepare?.(wa);
  h = await startHarness({
    env: {
      WHATSAPP_ENABLED: "true",
      WA_SEND_DELAY_MS: "0",
      WA_DATA_DIR: path.join(os.tmpdir(), "qorgau-wa-test"),
      TELEGRAM_HANDLE: "@qorgau_test_bot",
      ADMIN_CHAT_ID: String(STAFF),
      ENCRYPTION_KEY: KEY,
      GROUP_MESSAGES_PER_MINUTE: "6000",
      ...env,
    },
    setup: (emu) => emu.protectedChats.add(STAFF),
    start: {
      whatsappClient: {
        client: wa,
        makeLocation: (lat, lon, name, address) => ({ kind: "location", lat, lon, name, address }),
      },
      ...start,
    },
  });
  return h;
}

/** Sends a message as the person and returns what the bot answered. */
async function say(jid: string, text: string, count = 1) {
  const before = wa.count(jid);
  wa.text(jid, text);
  return (await wa.waitFor(jid, before, count)).map((m) => m.text ?? `[pin ${(m.content as { name: string }).name}]`);
}

describe("whatsapp: campaign codes (issue 17)", () => {
  it("«#ky_KG_kg-osh-city_committee-balykchy» in a first message opens in Kyrgyz with Osh's services, and is counted like a Telegram link", async () => {
    await waHarness();
    const jid = "996700123456@c.us";
    const got = await say(jid, "Саламатсызбы #ky_KG_kg-osh-city_committee-balykchy", 3);
    expect(got[0]).toMatch(/^Саламатсызбы/);
    expect(got.join("\n")).not.toContain("1 — Кыргызча"); // no language question
    expect(got.at(-1)).toMatch(/^Ош/);
    expect(await prismaOf(h!.app.db).campaignCount.findMany()).toEqual([
      { day: new Date().toISOString().slice(0, 10), source: "committee-balykchy", n: 1 },
    ]);
    // Only a first message: later, the same words are ordinary text.
    await say(jid, "#ky_KG_kg-osh-city_committee-balykchy");
    expect((await prismaOf(h!.app.db).campaignCount.findFirst())!.n).toBe(1);
  });
});

describe("whatsapp: the same help, by numbers and by words (issue 4)", () => {
  it("Kazakh by numbers: greeting, language, menu, help near me with a location, quick exit with 0", async () => {
    await waHarness();
    const jid = "77011234567@c.us";
    const [welcome, lang] = await say(jid, "Сәлем", 2);
    expect(welcome).toContain("Қазақстан: 112, 102, 103, 111");
    expect(lang).toContain("1 — Қазақша\n2 — Кыргызча\n3 — Русский");
    expect(lang).toContain("0 — шығу («тоқта»)");
    // How to clear the chat by hand is said before it is needed (decision 7).
    expect(welcome).toContain("«Чатты тазалау»");
    // W4: every menu says how to find help if WhatsApp goes away.
    expect(lang).toContain("WhatsApp істемесе: Telegram @qorgau_test_bot · 112, 102, 111");

    const [menu] = await say(jid, "1");
    expect(menu).toContain("1 — 🆘 Қазір қауіпті\n2 — 📍 Жақын жердегі көмек");
    const [ask, choose] = await say(jid, "2", 2);
    expect(ask).toContain("📎");
    expect(choose).toContain("1 — 🗺 Облысты таңдау");

    const before = wa.count(jid);
    wa.location(jid, 43.24, 76.89);
    const [pin, list] = await wa.waitFor(jid, before, 2);
    expect(pin!.content).toMatchObject({ kind: "location", name: "Алматы" });
    expect(list!.text).toMatch(/^Сізге ең жақындары:/);
    expect(list!.text).toContain("1. ");

    const botMessages = wa.sent.filter((s) => s.chatId === jid).map((s) => s.id);
    const incoming = [...wa.incoming];
    const [cover] = await say(jid, "0", 1);
    await h!.idle();
    // Only the bot's own messages are revoked for everyone; the person's are never touched (S7).
    const revoked = wa.sent.filter((s) => s.deletedFor === "everyone").map((s) => s.id);
    expect(revoked.sort()).toEqual(botMessages.sort());
    for (const id of incoming) expect(revoked).not.toContain(id);
    // Only the harmless cover is left: nothing says that something was hidden (decision 7).
    expect(cover).toBe("Сатып алу тізімі: нан, сүт, алма.");
    expect(wa.sent.filter((s) => s.chatId === jid && s.deletedFor === null).map((s) => s.text)).toEqual([cover]);
    await vi.waitFor(async () => expect(await prismaOf(h!.app.db).session.count()).toBe(0));
  });

  it("«3», «2» and «0» within 400 ms while sends are slow: nothing is answered after the cover, and only the cover is left (S6)", async () => {
    await waHarness({ WA_SEND_DELAY_MS: "300" });
    const jid = "77017770011@c.us";
    await say(jid, "Сәлем", 2);
    await say(jid, "3");
    await say(jid, "1");
    const before = wa.count(jid);
    wa.text(jid, "3");
    await new Promise((r) => setTimeout(r, 150));
    wa.text(jid, "2");
    await new Promise((r) => setTimeout(r, 150));
    wa.text(jid, "0");
    await vi.waitFor(() => expect(wa.textsTo(jid)).toContain("Список покупок: хлеб, молоко, яблоки."), {
      timeout: 5000,
    });
    // Let anything that was still queued run out.
    await h!.idle();
    const mine = wa.sent.filter((s) => s.chatId === jid);
    const coverAt = mine.findIndex((s) => s.text === "Список покупок: хлеб, молоко, яблоки.");
    expect(mine.slice(coverAt + 1)).toEqual([]);
    expect(mine.filter((s) => s.deletedFor === null).map((s) => s.text)).toEqual([
      "Список покупок: хлеб, молоко, яблоки.",
    ]);
    expect(mine.length).toBeGreaterThan(before);
  });

  it("Kyrgyz by words: «бир» chooses the first option, an option's words choose it, «токто» exits", async () => {
    await waHarness();
    const jid = "996555123456@c.us";
    const [, lang] = await say(jid, "Салам", 2);
    expect(lang!.split("\n").find((l) => l.startsWith("1 —"))).toBe("1 — Кыргызча");
    const [menu] = await say(jid, "бир");
    expect(menu).toContain("Макул, кыргызча сүйлөшөбүз.");
    const [lines] = await say(jid, "ишеним телефондору");
    expect(lines).toContain("Кайда чалса болот — Кыргызстан:");
    expect(lines).toContain("111 — балдардын ишеним линиясы");
    const [cover] = await say(jid, "Токто", 1);
    expect(cover).toBe("Сатып алуу тизмеси: нан, сүт, алма.");
    await h!.idle();
    expect(wa.sent.filter((s) => s.chatId === jid && s.deletedFor === null).map((s) => s.text)).toEqual([cover]);
  });

  it("Russian by words: «один», a country by name, «опасно сейчас», and a typed town", async () => {
    await waHarness();
    const jid = "79161234567@c.us";
    await say(jid, "привет", 2);
    const [country] = await say(jid, "один");
    expect(country).toContain("1 — 🇰🇿 Казахстан\n2 — 🇰🇬 Кыргызстан");
    await say(jid, "Кыргызстан");
    const [danger] = await say(jid, "опасно сейчас");
    expect(danger).toContain("102 — милиция");
    const got = await say(jid, "Бишкек", 2);
    expect(got[1]).toMatch(/^Бишкек и рядом:/);
  });

  it("media, voice, stickers get a kind reply; groups and status broadcasts are ignored", async () => {
    await waHarness();
    const jid = "77019998877@c.us";
    await say(jid, "привет", 2);
    await say(jid, "3");
    await say(jid, "1");
    const [voice] = await (async () => {
      const b = wa.count(jid);
      wa.media(jid, "ptt");
      return (await wa.waitFor(jid, b, 1)).map((m) => m.text!);
    })();
    // Reports are taken here: a voice is offered one, where voices are heard (issue 26).
    expect(voice).toContain("Голосовые я принимаю внутри обращения");
    expect(voice).toMatch(/1 — ✍ Рассказать, что случилось/);
    const b = wa.count(jid);
    wa.media(jid, "sticker");
    const [sticker] = (await wa.waitFor(jid, b, 1)).map((m) => m.text!);
    expect(sticker).toContain("Фото, голосовые и стикеры здесь я не читаю.");
    const before = wa.sent.length;
    wa.group("120363000000000000@g.us", "/start");
    wa.status("hello");
    await h!.idle();
    expect(wa.sent.length).toBe(before);
  });

  it("a report from WhatsApp reaches the Telegram staff group, and the staff reply comes back to WhatsApp", async () => {
    await waHarness();
    const { emu } = h!;
    await approvedStaff(h!, STAFF, 41);
    const jid = "77017776655@c.us";
    await say(jid, "привет", 2);
    await say(jid, "3"); // Русский
    await say(jid, "1"); // Казахстан
    await say(jid, "рассказать, что случилось"); // the menu entry by its words
    await say(jid, "1"); // understood
    await say(jid, "2"); // another adult
    await say(jid, "5"); // threats
    await say(jid, "6"); // done (no "child neglect" option for an adult)
    await say(jid, "2"); // no danger now
    await say(jid, "Шымкент");
    await say(jid, "Соседа запугивает муж, слышны угрозы.");
    await say(jid, "1"); // no photos or voices: «Дальше»
    await say(jid, "2"); // contact any time
    await say(jid, "малина"); // the case word, required when staff may write back
    // Send: the confirmation, then the menu. Waiting for both, so the menu cannot be taken later for the knock.
    const got = await say(jid, "1", 2);
    expect(got[0]).toMatch(/^Получено\. Код вашего обращения: \S{4}-\S{4}/);
    expect(got[1]).toMatch(/^Чем помочь\?/);
    const card = await emu.waitFor(
      () => emu.sent(STAFF).find((m) => m.text?.includes("Соседа запугивает")),
      5000,
      "card",
    );
    expect(card.text).toContain("Где: Шымкент");
    expect(JSON.stringify(emu.calls)).not.toContain("77017776655");

    const data = (card.payload.reply_markup.inline_keyboard as Array<Array<{ callback_data: string }>>)[0]![0]!
      .callback_data;
    emu.press(STAFF, card.id, data, { id: 41 });
    await emu.waitFor(() => emu.textOf(STAFF, card.id)?.includes("взял(а)"), 5000, "taken");
    const before = wa.count(jid);
    emu.groupMessage(STAFF, 41, "Мы на связи. Чем помочь?", card.id);
    const [knock] = await wa.waitFor(jid, before, 1);
    // The whole knock is the neutral line and its one choice: no exit line, no numbers, no Telegram
    // handle for an expanded notification to show.
    expect(knock!.text).toBe("У вас новое сообщение.\n\n1 — Прочитать");
    expect(knock!.text).not.toMatch(/[Нн]ажмите/);
    expect(knock!.text).toContain("1 — Прочитать");
    expect(knock!.text).not.toContain("Чем помочь");
    const [content] = await say(jid, "1");
    expect(content).toMatch(/Сотрудник центра · \d\d\.\d\d \d\d:\d\d:\nМы на связи. Чем помочь\?/);

    // The WhatsApp number is nowhere in the database in clear.
    await prismaOf(h!.app.db).$queryRawUnsafe("PRAGMA wal_checkpoint(TRUNCATE)");
    const raw = Buffer.concat([
      fs.readFileSync(h!.dbFile),
      fs.existsSync(`${h!.dbFile}-wal`) ? fs.readFileSync(`${h!.dbFile}-wal`) : Buffer.alloc(0),
    ]);
    expect(raw.includes(Buffer.from("77017776655"))).toBe(false);
    expect(raw.includes(Buffer.from("7017776655"))).toBe(false);
  });
});

describe("whatsapp: parsing and setup", () => {
  it.each([
    ["1", 1],
    ["1️⃣", 1],
    [" 2. ", 2],
    ["один", 1],
    ["бір", 1],
    ["бир", 1],
    ["bir", 1],
    ["екі", 2],
    ["эки", 2],
    ["0", 0],
    ["привет", null],
  ])("%j is %j", (text, n) => {
    expect(menuNumber(text)).toBe(n);
  });

  it("0 is the exit; own messages, groups and statuses are ignored", () => {
    const base = { fromMe: false, type: "chat", id: { _serialized: "x" } };
    expect(parseWa({ ...base, from: "7701@c.us", body: "0" })).toEqual({ type: "command", command: "exit", args: "" });
    expect(parseWa({ ...base, from: "7701@c.us", body: "стоп" })).toEqual({ type: "text", text: "стоп" });
    expect(parseWa({ ...base, fromMe: true, from: "7701@c.us", body: "1" })).toBeNull();
    expect(parseWa({ ...base, from: "1203@g.us", body: "1" })).toBeNull();
    expect(parseWa({ ...base, from: "status@broadcast", body: "1", isStatus: true })).toBeNull();
    expect(
      parseWa({
        ...base,
        from: "7701@c.us",
        type: "location",
        body: "",
        location: { latitude: "43.2", longitude: "76.9" },
      }),
    ).toEqual({ type: "location", lat: 43.2, lon: 76.9 });
  });

  it("the session folder must be outside the project and private (W3)", () => {
    expect(() => ensureSessionDir(path.join(projectRoot, "data", "wa"))).toThrow(WhatsAppSetupError);
    const loose = fs.mkdtempSync(path.join(os.tmpdir(), "wa-loose-"));
    fs.chmodSync(loose, 0o755);
    expect(() => ensureSessionDir(loose)).toThrow(/chmod 700/);
    const fresh = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "wa-ok-")), "session");
    ensureSessionDir(fresh);
    expect(fs.statSync(fresh).mode & 0o777).toBe(0o700);
    expect(fs.readFileSync(path.join(projectRoot, ".gitignore"), "utf8")).toContain(".wwebjs_auth");
  });

  it("the real whatsapp-web.js Client is built with the project's options, without connecting", async () => {
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "wa-real-")), "session");
    const { client, makeLocation } = await createWhatsAppClient({
      whatsappDataDir: dir,
      chromePath: "/usr/bin/chromium",
    });
    const wwebjs = (await import("whatsapp-web.js")) as unknown as { default: typeof import("whatsapp-web.js") };
    const real = client as unknown as InstanceType<typeof wwebjs.default.Client> & {
      options: { puppeteer: { executablePath: string; headless: boolean }; authStrategy: { dataPath: string } };
    };
    expect(real).toBeInstanceOf(wwebjs.default.Client);
    expect(real.options.puppeteer.executablePath).toBe("/usr/bin/chromium");
    expect(real.options.puppeteer.headless).toBe(true);
    expect(real.options.authStrategy).toBeInstanceOf(wwebjs.default.LocalAuth);
    expect(path.resolve(real.options.authStrategy.dataPath)).toBe(path.resolve(dir));
    expect(makeLocation(43.2, 76.9, "Алматы", "центр")).toBeInstanceOf(wwebjs.default.Location);
    for (const m of ["on", "sendMessage", "getMessageById", "initialize", "destroy"])
      expect(typeof (real as unknown as Record<string, unknown>)[m]).toBe("function");
  });
});

describe("whatsapp in its own lane (decision 8, issue 15)", () => {
  it("WhatsApp that will not start, then loses its login: Telegram keeps answering, staff hear it once per outage, health shows it", async () => {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const fatal: string[] = [];
    await waHarness(
      { HEALTH_PORT: String(port) },
      (w) => (w.failInits = [new Error("Browser was not found at the configured executablePath (/usr/bin/chromium)")]),
      { whatsappReconnectDelaysMs: [300], onFatal: (r) => fatal.push(r) },
    );
    const { emu } = h!;
    const health = async () =>
      (await fetch(`http://127.0.0.1:${port}/health`)).json() as Promise<Record<string, unknown>>;
    expect(await health()).toMatchObject({ status: "ok", telegram: "running", whatsapp: "reconnecting" });
    emu.sendText(5101, "/start");
    await emu.waitForSent(5101, 0, 2);
    const notices = () => emu.sent(STAFF).filter((m) => m.text?.includes("WhatsApp-канал бота не работает"));
    await emu.waitFor(() => notices().length === 1, 5000, "the staff notice");
    expect(notices()[0]!.text).toContain("(start_failed)");
    // The library's own reason is in the log.
    expect(h!.logs.some((l) => l.includes("Browser was not found"))).toBe(true);
    // It comes back by itself.
    await vi.waitFor(async () => expect(await health()).toMatchObject({ whatsapp: "connected" }), { timeout: 3000 });
    // Later the login is refused: a new outage, one more notice; Telegram still answers.
    wa.emit("auth_failure", "restore session failed");
    emu.sendText(5102, "/start");
    await emu.waitForSent(5102, 0, 2);
    await emu.waitFor(() => notices().length === 2, 5000, "the second notice");
    expect(notices()[1]!.text).toContain("(auth_failure)");
    await h!.app.outbox.drain();
    expect(notices()).toHaveLength(2);
    expect(fatal).toEqual([]);
  });

  it("with WhatsApp as the only channel, its failure ends the process for a restart, with the reason", async () => {
    const fatal: string[] = [];
    await waHarness({ TELEGRAM_ENABLED: "false" }, (w) => (w.failInits = [new Error("net::ERR_NAME_NOT_RESOLVED")]), {
      onFatal: (r) => fatal.push(r),
      whatsappReconnectDelaysMs: [10_000],
    });
    await vi.waitFor(() => expect(fatal).toEqual(["start_failed"]));
    expect(h!.logs.some((l) => l.includes("net::ERR_NAME_NOT_RESOLVED"))).toBe(true);
  });
});
