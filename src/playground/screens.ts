/**
 * Every screen, composed, for the reviewers' page (issue 17). The real dialog
 * core is walked from the menu by its options, in each language and on each
 * channel (a recording channel, a real SQLite file in a temporary folder), and
 * each screen is kept as the person sees it, Telegram's buttons and
 * WhatsApp's numbered text, with the locale keys that made it. The same path
 * of option ids is replayed in every language, so a screen stands beside
 * itself in Kazakh, Kyrgyz and Russian.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startApp } from "../app.ts";
import { LOCALES, loadConfig, type Locale } from "../config.ts";
import type { Channel } from "../core/channel.ts";
import type { T, Translator } from "../core/i18n.ts";
import { makeAddress, type ChannelName, type Input, type Screen } from "../core/types.ts";
import { createLogger } from "../logger.ts";
import { renderWa } from "../channels/whatsapp/render.ts";

export interface ShownScreen {
  /** Telegram: the messages, and the buttons under the last text. */
  telegram: { texts: string[]; buttons: string[] } | null;
  /** WhatsApp: the messages as sent (numbered menu, exit line, footer). */
  whatsapp: string[] | null;
}
export interface CrawledScreen {
  /** Option ids from the menu; empty for the menu itself. */
  path: string[];
  /** The labels of the path, in Russian, for a heading. */
  trail: string[];
  keys: string[];
  byLang: Record<Locale, ShownScreen>;
}

/** How deep from the menu, and how many screens in all: enough for every screen kind, not every region. */
const DEPTH = 10;
const MAX_SCREENS = 80;
/** Options not followed: the way back, the exit (shown once at the end), pages of long lists, and choices that only change a value. */
const SKIP = /^(menu|exit|more|regions:\d+|r:cancel|r:send)$|^(lang|erase):/;
/** Of a list of places, one is followed: every region's screen looks the same. */
const ONE_OF = /^(region|town|near:country|r:kind|r:risk|r:contact|r:wcountry):/;

class RecordingChannel implements Channel {
  readonly canDeleteUserMessages: boolean;
  screens: Array<{ screen: Screen; locale: Locale }> = [];
  private n = 1;
  constructor(readonly name: ChannelName) {
    this.canDeleteUserMessages = name === "telegram";
  }
  async send(_chat: string, screen: Screen, locale: Locale) {
    this.screens.push({ screen, locale });
    return screen.messages.map(() => ({ id: String(this.n++), at: new Date() }));
  }
  async deleteMessages(_chat: string, refs: Array<{ id: string }>) {
    return { done: refs.map((r) => r.id), retry: [] };
  }
  async sendCover(_chat: string, text: string) {
    this.screens.push({ screen: { messages: [{ kind: "text", text }] }, locale: "ru" });
  }
}

/** A translator that notes every key asked for. */
function recording(tr: Translator, used: Set<string>): Translator {
  const note =
    (f: T): T =>
    (key, vars) => {
      used.add(key);
      return f(key, vars);
    };
  return {
    ...tr,
    t: (l, key, vars) => {
      used.add(key);
      return tr.t(l, key, vars);
    },
    fixed: (l) => note(tr.fixed(l)),
    forChannel: (l, ch) => note(tr.forChannel(l, ch)),
  };
}

async function walker(channel: ChannelName, locale: Locale, dir: string) {
  const used = new Set<string>();
  const rec = new RecordingChannel(channel);
  // The app as the service builds it, with recording channels in the adapters' place: a staff group
  // is configured so reports are offered, and nothing reaches Telegram.
  const config = loadConfig({
    BOT_TOKEN: "123456:screen-crawler-recording-channel",
    DATABASE_URL: `file:${path.join(dir, `${channel}-${locale}.db`)}`,
    ENCRYPTION_KEY: crypto.randomBytes(32).toString("base64"),
    SYNC_BOT_PROFILE: "false",
    ADMIN_CHAT_ID: "-1001000000001",
    STAFF_LOCALE: locale,
    REPORTS_PER_DAY: "1000",
    CHAT_UPDATES_PER_MINUTE: "1000000",
  });
  let base!: Translator;
  const app = await startApp(config, createLogger({ level: "error", write: () => undefined }), {
    jobs: false,
    channels: { telegram: channel === "telegram" ? rec : new RecordingChannel("telegram"), [channel]: rec },
    translator: (made) => {
      base = made;
      return recording(made, used);
    },
  });
  const { dialog, store } = app;
  let chat = 1;
  let msg = 1;
  const address = () => makeAddress(channel, chat);
  const send = async (input: Input) => {
    await dialog.handle({ address: address(), input, messageId: String(msg++), languageHint: locale });
  };
  const press = async (id: string): Promise<boolean> => {
    const state = (await store.getSession(address()))?.state;
    const i = state?.options.findIndex((o) => o.id === id) ?? -1;
    if (!state || i < 0) return false;
    await send({ type: "option", token: `${state.nonce}.${i}` });
    return true;
  };
  /** A new chat at the menu, in this language (Kazakhstan for Russian). */
  const fresh = async () => {
    chat++;
    await send({ type: "command", command: "start", args: "" });
    await press(`lang:${locale}`);
    await press("country:KZ");
  };
  /** The screen after following `path` from the menu, with the keys that made it; null where the path does not exist in this language. */
  const visit = async (
    p: string[],
  ): Promise<{ shown: ShownScreen; keys: string[]; options: Array<{ id: string; label: string }> } | null> => {
    await fresh();
    for (const id of p.slice(0, -1)) if (!(await press(id))) return null;
    const before = rec.screens.length;
    used.clear();
    if (p.at(-1) === "exit") await send({ type: "command", command: "exit", args: "" });
    else if (p.length && !(await press(p.at(-1)!))) return null;
    if (!p.length) await send({ type: "command", command: "menu", args: "" });
    const sent = rec.screens.slice(before);
    const last = sent.at(-1)?.screen;
    if (!last) return null;
    const t = base.forChannel(locale, channel);
    const texts = sent.flatMap((s) => s.screen.messages.map((m) => (m.kind === "text" ? m.text : `📍 ${m.title}`)));
    const shown: ShownScreen =
      channel === "telegram"
        ? { telegram: { texts, buttons: (last.options ?? []).map((o) => o.label) }, whatsapp: null }
        : {
            telegram: null,
            whatsapp: sent.flatMap((s) =>
              renderWa(s.screen, {
                exitLine: t("whatsapp.exitLine"),
                reply: t("whatsapp.reply"),
                locationHint: t("whatsapp.locationHint"),
                footer: "",
              }).map((o) => (o.kind === "text" ? o.text.trim() : `📍 ${o.title}`)),
            ),
          };
    const state = (await store.getSession(address()))?.state;
    return { shown, keys: [...used], options: state?.options ?? [] };
  };
  return { visit, close: () => app.stop() };
}

/** Walks every screen within reach of the menu in every language and on both channels. */
export async function crawlScreens(): Promise<CrawledScreen[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "qorgau-screens-"));
  try {
    const walkers = new Map<string, Awaited<ReturnType<typeof walker>>>();
    for (const ch of ["telegram", "whatsapp"] as const)
      for (const l of LOCALES) walkers.set(`${ch}:${l}`, await walker(ch, l, dir));
    const ru = walkers.get("telegram:ru")!;
    const out: CrawledScreen[] = [];
    const seen = new Set<string>();
    const queue: Array<{ path: string[]; trail: string[] }> = [{ path: [], trail: [] }];
    while (queue.length && out.length < MAX_SCREENS) {
      const { path: p, trail } = queue.shift()!;
      const first = await ru.visit(p);
      if (!first) continue;
      // Labels too: a ticked choice is a new screen, and the way on to "done".
      const sig = `${first.shown.telegram!.texts.join("|").slice(0, 200)}#${first.options.map((o) => `${o.id}=${o.label}`).join(",")}`;
      if (seen.has(sig)) continue;
      seen.add(sig);
      const byLang = {} as Record<Locale, ShownScreen>;
      const keys = new Set(first.keys);
      for (const l of LOCALES) {
        const tg = l === "ru" ? first : await walkers.get(`telegram:${l}`)!.visit(p);
        const wa = await walkers.get(`whatsapp:${l}`)!.visit(p);
        for (const k of [...(tg?.keys ?? []), ...(wa?.keys ?? [])]) keys.add(k);
        byLang[l] = { telegram: tg?.shown.telegram ?? null, whatsapp: wa?.shown.whatsapp ?? null };
      }
      out.push({ path: p, trail, keys: [...keys].sort(), byLang });
      if (p.length < DEPTH) {
        const places = first.options.filter((o) => ONE_OF.test(o.id)).slice(0, 1);
        const next = [...first.options.filter((o) => !SKIP.test(o.id) && !ONE_OF.test(o.id)), ...places];
        for (const o of next.slice(0, 10)) queue.push({ path: [...p, o.id], trail: [...trail, o.label] });
      }
    }
    // The quick exit, last: what is left in the chat.
    const exit = {} as Record<Locale, ShownScreen>;
    const keys = new Set<string>();
    for (const l of LOCALES) {
      const tg = await walkers.get(`telegram:${l}`)!.visit(["exit"]);
      const wa = await walkers.get(`whatsapp:${l}`)!.visit(["exit"]);
      for (const k of [...(tg?.keys ?? []), ...(wa?.keys ?? [])]) keys.add(k);
      exit[l] = { telegram: tg?.shown.telegram ?? null, whatsapp: wa?.shown.whatsapp ?? null };
    }
    out.push({ path: ["exit"], trail: ["✕"], keys: [...keys].sort(), byLang: exit });
    for (const w of walkers.values()) await w.close();
    return out;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
