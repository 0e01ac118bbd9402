/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The playground in a real browser (issue 17): Debian's Chromium driven by the
 * puppeteer that whatsapp-web.js brings, never a downloaded browser. A partner
 * clicks through a survivor's path to the quick exit, a neighbour's report that
 * staff take and answer, the language switch and the WhatsApp rendering; a
 * native reader opens the review page. Screenshots go to test-output/playground.
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "puppeteer-core";
import { projectRoot } from "../../src/paths.ts";
import { startPlayground, type Playground } from "../../src/playground/server.ts";
import { reviewKeys } from "../../src/playground/review.ts";
import { LOCALES } from "../../src/config.ts";

const CHROMIUM = process.env.CHROME_PATH ?? "/usr/bin/chromium";
/** CI installs Chromium and requires these tests (.ci/run sets it); elsewhere they wait for Chromium to be installed. */
const REQUIRED = process.env.QORGAU_BROWSER_TESTS === "1";
const HAVE = fs.existsSync(CHROMIUM);
if (!HAVE && !REQUIRED)
  process.stderr.write(
    `browser tests skipped: no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROME_PATH)\n`,
  );
const SHOTS = path.join(projectRoot, "test-output", "playground");

let pg: Playground;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  if (!HAVE && !REQUIRED) return;
  if (!HAVE)
    throw new Error(
      `the browser tests need Chromium at ${CHROMIUM} (apt-get install -y chromium; .ci/run installs it)`,
    );
  fs.mkdirSync(SHOTS, { recursive: true });
  const puppeteer = (await import("puppeteer-core")).default;
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  pg = await startPlayground({ lang: "ru" });
  page = await browser.newPage();
  await page.setViewport({ width: 1100, height: 900 });
  page.setDefaultTimeout(10_000);
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await pg?.stop();
});

const shot = (name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`) as `${string}.png` });

/** Waits until the bot is done answering and the page shows it all: a person waits for the answer before the next tap. */
async function settle() {
  for (let i = 0; i < 40; i++) {
    const a = await page.evaluate(() =>
      fetch("/api/state")
        .then((r) => r.json())
        .then((s: { changed: number }) => s.changed),
    );
    await new Promise((r) => setTimeout(r, 200));
    const b = await page.evaluate(() =>
      fetch("/api/state")
        .then((r) => r.json())
        .then((s: { changed: number }) => s.changed),
    );
    // `changed` is the page's own count of what it has drawn.
    if (a === b && (await page.evaluate("changed")) === b) return;
  }
}

/** Clicks the newest button with this text inside a box (inline buttons under messages, or the keyboard). */
async function click(box: string, label: string | RegExp) {
  await settle();
  const handle = await page
    .waitForFunction(
      (sel, src, flags) => {
        const re = new RegExp(src, flags);
        const all = [...document.querySelectorAll<HTMLButtonElement>(`${sel} button`)].filter((b) =>
          re.test(b.textContent ?? ""),
        );
        return all.at(-1) ?? null;
      },
      {},
      box,
      typeof label === "string" ? `^${label.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$` : label.source,
      typeof label === "string" ? "" : label.flags,
    )
    .catch(async (err: Error) => {
      // What the page showed instead: the screenshot says more than the timeout.
      await shot(
        `failed-${String(label)
          .replace(/[^\p{L}\p{N}]+/gu, "-")
          .slice(0, 40)}`,
      );
      throw new Error(`no button ${label} in ${box}: ${err.message}`);
    });
  await (handle as unknown as { click(): Promise<void> }).click();
}
/** Waits until the box's text matches. */
async function sees(box: string, what: string | RegExp, timeout = 10_000) {
  await page.waitForFunction(
    (sel, src, flags) => new RegExp(src, flags).test(document.querySelector(sel)?.textContent ?? ""),
    { timeout },
    box,
    typeof what === "string" ? what.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") : what.source,
    typeof what === "string" ? "" : what.flags,
  );
}
async function type(input: string, text: string) {
  await settle();
  await page.click(input);
  await page.type(input, text);
  await page.keyboard.press("Enter");
}
/** Does something and waits for the bot's next message in the box. */
async function step(box: string, act: () => Promise<unknown>) {
  const n = await page.$$eval(`${box} .msg:not(.me)`, (m) => m.length);
  await act();
  await page.waitForFunction((sel, k) => document.querySelectorAll(`${sel} .msg:not(.me)`).length > k, {}, box, n);
}
/** The Telegram phone from START to the menu, in Russian and Kazakhstan. */
async function toMenu() {
  // A new chat opens as Telegram shows it: empty, with one START button (issue 26).
  await settle();
  expect(await page.$eval("#tg-start", (b) => [b.textContent, getComputedStyle(b).display])).toEqual([
    "СТАРТ",
    "block",
  ]);
  await page.click("#tg-start");
  await click("#tg-messages", "Русский");
  await click("#tg-messages", /Казахстан/);
}
/** From START to the report's story step: about another adult, hitting, no danger now, Shymkent. */
async function toStory() {
  await toMenu();
  await click("#tg-messages", "✍ Рассказать, что случилось");
  await click("#tg-messages", "Понятно, дальше");
  await click("#tg-messages", "С другим взрослым");
  await click("#tg-messages", /Бьют/);
  await click("#tg-messages", "Готово ✔");
  await step("#tg-messages", () => click("#tg-messages", "Нет"));
  await step("#tg-messages", () => type("#tg-input", "Шымкент"));
}
const texts = (box: string) => page.$$eval(`${box} .msg`, (els) => els.map((e) => e.textContent ?? ""));

describe.skipIf(!HAVE && !REQUIRED)("the playground in Chromium (issue 17)", () => {
  it("a survivor: /start, language, country, help near Shymkent from a picked place, then quick exit empties the chat to the cover", async () => {
    await page.goto(pg.url);
    // The page's own words are in the chosen language too.
    expect(await page.$eval("#banner", (b) => b.textContent)).toContain("ПЕСОЧНИЦА");
    expect(await page.$eval("#who-survivor", (b) => b.textContent)).toBe("Пострадавший(-ая)");
    await toMenu();
    await click("#tg-messages", "📍 Помощь рядом");
    await sees("#tg-messages", "Чтобы найти помощь рядом");
    // The request-location button of the keyboard opens the place list; a town is picked.
    await click("#kb", "📍 Отправить место");
    await page.type("#places-search", "Шымкент");
    await click("#places-list", /^Шымкент · KZ$/);
    await sees("#tg-messages", "Кризисный центр «Комек»");
    expect(await page.$$eval("#tg-messages .venue", (v) => v.length)).toBeGreaterThan(0);
    await shot("1-survivor-results");

    await click("#kb", "✕ Выйти");
    await page.waitForFunction(() => {
      const msgs = [...document.querySelectorAll("#tg-messages .msg")].map((m) => m.textContent);
      return msgs.length === 1 && msgs[0] === "Список покупок: хлеб, молоко, яблоки.";
    });
    await shot("2-survivor-after-exit");
  }, 90_000);

  it("a neighbour's report reaches the staff group; staff take it and reply; the neighbour reads the reply", async () => {
    await page.goto(pg.url);
    await page.click("#who-neighbour");
    await toStory();
    await step("#tg-messages", () => type("#tg-input", "За стеной кричит соседка, слышны удары. PLAYGROUND-1"));
    await click("#tg-messages", "Дальше");
    await step("#tg-messages", () => click("#tg-messages", "Да, в любое время"));
    await type("#tg-input", "черника");
    await click("#tg-messages", "📨 Отправить");
    await sees("#tg-messages", /Получено\. Код вашего обращения: \S+/);
    const code = /Код вашего обращения: (\S+)/.exec((await texts("#tg-messages")).join("\n"))![1]!;
    await shot("3-neighbour-sent");

    // The staff side: the card, Take, Reply.
    await sees("#staff-messages", `Обращение ${code}`);
    await sees("#staff-messages", "PLAYGROUND-1");
    await click("#staff-messages", "✋ Взять");
    await sees("#staff-toast", `Вы взяли ${code}`);
    await click("#staff-messages", "💬 Ответить");
    await page.waitForFunction(() =>
      [...document.querySelectorAll("#staff-messages .msg")].at(-1)?.textContent?.includes("↩ ответить"),
    );
    const prompts = await page.$$("#staff-messages .msg .reply");
    await prompts.at(-1)!.click();
    await type("#staff-input", "Здравствуйте, это центр. Вам удобно поговорить завтра?");
    await sees("#staff-messages", /поставлен в очередь|отправлен/);
    await shot("4-staff-replied");

    await sees("#tg-messages", "У вас новое сообщение. Нажмите, чтобы прочитать.");
    await click("#tg-messages", "Прочитать");
    await sees("#tg-messages", "Здравствуйте, это центр. Вам удобно поговорить завтра?");
    await shot("5-neighbour-reads");
  }, 90_000);

  it("the language switch starts again in Kazakh, staff side included; the WhatsApp view shows numbered menus and «0» deletes the bot's messages", async () => {
    await page.goto(pg.url);
    await page.select("#lang", "kk");
    await page.waitForFunction(() => document.querySelectorAll("#tg-messages .msg").length === 0);
    expect(await page.$eval("#reset", (b) => b.textContent)).toBe("↺ Басынан");
    expect(await page.$eval("#tg-start", (b) => b.textContent)).toBe("БАСТАУ");
    await page.click("#tg-start");
    await sees("#tg-messages", "Сәлеметсіз бе. Мұнда бәрі жасырын.");
    await shot("6-kazakh");

    await page.click("#view-wa");
    await type("#wa-input", "Сәлем");
    await sees("#wa-messages", /1 — /);
    const before = await texts("#wa-messages");
    expect(before.some((t) => /(^|\n)1 — .+\n2 — /.test(t))).toBe(true);
    expect(before.some((t) => /(^|\n)0 — /.test(t))).toBe(true);
    await type("#wa-input", "0");
    await page.waitForFunction(() => [...document.querySelectorAll("#wa-messages .msg.deleted")].length > 0);
    await shot("7-whatsapp-after-exit");
  }, 90_000);

  it("a voice note and a photo from Telegram and from WhatsApp reach the staff group under their cards; English labels only the page (issue 26)", async () => {
    await page.goto(pg.url);
    await page.select("#lang", "ru");
    await page.waitForFunction(() => document.querySelectorAll("#tg-messages .msg").length === 0);
    await toStory();
    // Spoken, not typed; then a photo.
    await step("#tg-messages", async () => (await settle(), page.click("#tg-voice")));
    await sees("#tg-messages", "Голосовое добавлено (1 из 3).");
    await step("#tg-messages", async () => (await settle(), page.click("#tg-photo")));
    await sees("#tg-messages", "Фото добавлено (1 из 5).");
    await click("#tg-messages", "Дальше");
    await click("#tg-messages", "Нет, не связываться");
    await click("#tg-messages", "Пропустить");
    await click("#tg-messages", "📨 Отправить");
    await sees("#tg-messages", /Код вашего обращения: \S+/);
    const tgCode = /Код вашего обращения: (\S+)/.exec((await texts("#tg-messages")).join("\n"))![1]!;
    await sees("#staff-messages", `🎙 ▶ ━━━━━━ 🎙 ${tgCode}, голосовое 1/1`);
    await sees("#staff-messages", `🖼 📷 ${tgCode}, фото 1/1`);

    await page.click("#view-wa");
    for (const said of [
      "привет",
      "Русский",
      "Казахстан",
      "рассказать, что случилось",
      "1",
      "2",
      "5",
      "6",
      "2",
      "Шымкент",
    ])
      await step("#wa-messages", () => type("#wa-input", said));
    await step("#wa-messages", async () => (await settle(), page.click("#wa-voice")));
    await step("#wa-messages", async () => (await settle(), page.click("#wa-photo")));
    await sees("#wa-messages", "Фото добавлено (1 из 5).");
    for (const said of ["1", "1", "1"]) await step("#wa-messages", () => type("#wa-input", said));
    await type("#wa-input", "1");
    await sees("#wa-messages", /Код вашего обращения: \S+/);
    const waCode = /Код вашего обращения: (\S+)/.exec((await texts("#wa-messages")).join("\n"))![1]!;
    // Downloaded from WhatsApp by the bot, its EXIF removed, and sent to the group as a voice and a photo.
    await sees("#staff-messages", `🎙 ${waCode}, голосовое 1/1`, 20_000);
    await sees("#staff-messages", `📷 ${waCode}, фото 1/1`, 20_000);
    await shot("9-voices-and-photos");

    await page.select("#lang", "en");
    expect(await page.$eval("#banner", (b) => b.textContent)).toContain("PLAYGROUND");
    expect(await page.$eval("#reset", (b) => b.textContent)).toBe("↺ Reset");
    // The bot's conversation is untouched: English is the page's, not the bot's.
    expect((await texts("#staff-messages")).join("\n")).toContain(waCode);
  }, 120_000);

  it("the review page shows every locale key of every language exactly once, each with its key", async () => {
    await page.goto(`${pg.url}review`);
    const { keys } = reviewKeys();
    const cells = await page.$$eval("td.cell", (tds) =>
      tds.map((td) => `${(td as HTMLElement).dataset.lang} ${(td as HTMLElement).dataset.key}`),
    );
    expect(cells.length).toBe(keys.length * LOCALES.length);
    expect(new Set(cells).size).toBe(cells.length);
    for (const l of LOCALES)
      expect(
        cells
          .filter((c) => c.startsWith(`${l} `))
          .map((c) => c.slice(3))
          .sort(),
      ).toEqual([...keys].sort());
    expect(await page.$$eval("td.cell .missing", (m) => m.length)).toBe(0);
    // The composed screens: the menu and the quick exit stand beside themselves in the three languages, Telegram and WhatsApp.
    expect(await page.$$eval("tr.screen-row", (r) => r.length)).toBeGreaterThan(20);
    const menu = await page.$$eval("#screen-0 td.screen", (tds) => tds.map((td) => (td as HTMLElement).innerText));
    expect(menu).toHaveLength(3);
    expect(menu[0]).toContain(reviewKeys().texts.kk.get("menu.title")!);
    expect(menu[1]).toContain(reviewKeys().texts.ky.get("menu.title")!);
    expect(menu.every((m) => m.includes("Telegram") && m.includes("WhatsApp"))).toBe(true);
    const exit = await page.$$eval("tr.screen-row:last-child td.screen", (tds) =>
      tds.map((td) => (td as HTMLElement).innerText),
    );
    expect(exit[0]).toContain(reviewKeys().texts.kk.get("exit.cover")!);
    expect(await page.$eval("tr.screen-row:last-child th", (th) => th.textContent)).toContain("exit.cover");
    // A correction by key, downloadable.
    await page.type('textarea.fix[data-key="exit.cover"][data-lang="ky"]', "Сатып алуучу тизме");
    await sees("#fixed", "1 corrections");
    await shot("8-review");
  }, 90_000);
});
