/**
 * The app as src/app.ts builds it, with a recording fake channel in Telegram's place, on a
 * temporary SQLite file. For flow tests that need no HTTP.
 */
import { ChannelError } from "../../src/core/channel.ts";
import { TEST_KEY } from "./keys.ts";
import path from "node:path";
import type { Channel } from "../../src/core/channel.ts";
import { startApp } from "../../src/app.ts";
import type { Dialog } from "../../src/core/dialog.ts";
import type { Translator } from "../../src/core/i18n.ts";
import type { Directory } from "../../src/core/directory/search.ts";
import type { Store } from "../../src/core/store.ts";
import { makeAddress, type Input, type Screen, type TrackedRef } from "../../src/core/types.ts";
import type { OpenedDatabase } from "../../src/db/open.ts";
import { createLogger } from "../../src/logger.ts";
import { loadConfig, type Locale } from "../../src/config.ts";
import { tempDir } from "./harness.ts";

export interface Sent {
  chatId: string;
  screen: Screen;
  locale: Locale;
  ids: string[];
}

export class FakeChannel implements Channel {
  readonly name = "telegram" as const;
  readonly canDeleteUserMessages = true;
  sent: Sent[] = [];
  deleted: Array<{ chatId: string; ids: string[] }> = [];
  covers: Array<{ chatId: string; text: string }> = [];
  private next = 1000;
  /** The next send delivers this many messages, then fails with a flood wait of `seconds`. */
  private throttle: { after: number; seconds: number } | null = null;
  constructor(private readonly clock: () => Date = () => new Date()) {}
  throttleNext(after: number, seconds: number) {
    this.throttle = { after, seconds };
  }
  async send(chatId: string, screen: Screen, locale: Locale) {
    if (this.throttle) {
      const { after, seconds } = this.throttle;
      this.throttle = null;
      const ids = screen.messages.slice(0, after).map(() => String(this.next++));
      this.sent.push({
        chatId,
        screen: { ...screen, messages: screen.messages.slice(0, after), options: [] },
        locale,
        ids,
      });
      const err = new ChannelError("throttled", true, seconds, 429, "sendMessage");
      err.sent = ids.map((id) => ({ id, at: this.clock() }));
      throw err;
    }
    const ids = screen.messages.map(() => String(this.next++));
    this.sent.push({ chatId, screen, locale, ids });
    return ids.map((id) => ({ id, at: this.clock() }));
  }
  async deleteMessages(chatId: string, refs: TrackedRef[]) {
    this.deleted.push({ chatId, ids: refs.map((r) => r.id) });
    return { done: refs.map((r) => r.id), retry: [] };
  }
  async sendCover(chatId: string, text: string) {
    this.covers.push({ chatId, text });
  }
  last(): Sent {
    const s = this.sent.at(-1);
    if (!s) throw new Error("nothing sent");
    return s;
  }
  /** All text of the last screen, joined. */
  lastText(): string {
    return this.last()
      .screen.messages.map((m) => (m.kind === "text" ? m.text : `[pin ${m.title}]`))
      .join("\n");
  }
  lastLabels(): string[] {
    return (this.last().screen.options ?? []).map((o) => o.label);
  }
}

export interface CoreHarness {
  dialog: Dialog;
  channel: FakeChannel;
  store: Store;
  db: OpenedDatabase;
  translator: Translator;
  directory: Directory;
  logs: string[];
  now: { value: Date };
  /** Sends an input from a chat; returns what the bot sent in answer. */
  input(chat: number, input: Input, languageHint?: string): Promise<Sent[]>;
  text(chat: number, text: string, languageHint?: string): Promise<Sent[]>;
  /** Presses the option with this label (or id) on the chat's last screen. */
  press(chat: number, label: string): Promise<Sent[]>;
  close(): Promise<void>;
}

let counter = 1;

export async function createCoreHarness(): Promise<CoreHarness> {
  const logs: string[] = [];
  const now = { value: new Date("2026-11-25T10:00:00Z") };
  const channel = new FakeChannel(() => now.value);
  // The whole app as main.ts builds it, with the recording channel in Telegram's place and no staff groups.
  const config = loadConfig({
    BOT_TOKEN: "123456:core-harness-recording-channel",
    DATABASE_URL: `file:${path.join(tempDir(), "core.db")}`,
    ENCRYPTION_KEY: TEST_KEY.toString("base64"),
    SYNC_BOT_PROFILE: "false",
    CHAT_UPDATES_PER_MINUTE: "1000000",
  });
  const app = await startApp(config, createLogger({ level: "debug", write: (l) => logs.push(l) }), {
    jobs: false,
    now: () => now.value,
    channels: { telegram: channel },
  });
  const { dialog, store, db, translator } = app;
  const directory = app.directory.live;
  const h: CoreHarness = {
    dialog,
    channel,
    store,
    db,
    translator,
    directory,
    logs,
    now,
    async input(chat, input, languageHint) {
      const before = channel.sent.length;
      // A person takes a moment between two messages: the dialog's flood pace reads this clock too.
      now.value = new Date(now.value.getTime() + 1000);
      await dialog.handle({
        address: makeAddress("telegram", chat),
        input,
        messageId: String(counter++),
        languageHint,
      });
      return channel.sent.slice(before);
    },
    text: (chat, text, hint) =>
      h.input(
        chat,
        text.startsWith("/")
          ? { type: "command", command: text.slice(1).split(/\s/)[0]!, args: "" }
          : { type: "text", text },
        hint,
      ),
    async press(chat, label) {
      // By label as shown, or by the option's id in the dialog state ("region:kz-abai").
      const state = (await store.getSession(makeAddress("telegram", chat)))?.state;
      const i = state?.options.findIndex((o) => o.label === label || o.id === label) ?? -1;
      if (!state || i < 0)
        throw new Error(`no option "${label}" among ${state?.options.map((o) => o.label).join(" | ")}`);
      return h.input(chat, { type: "option", token: `${state.nonce}.${i}` });
    },
    close: () => app.stop(),
  };
  return h;
}

/** Starts a chat and picks a language (and, for Russian, a country). */
export async function startChat(h: CoreHarness, chat: number, locale: Locale, country?: "KZ" | "KG") {
  await h.text(chat, "/start", locale);
  await h.press(chat, h.translator.t(locale, "language.name"));
  if (locale === "ru") await h.press(chat, h.translator.t("ru", `country.${country ?? "KZ"}`));
  else if (country && country !== (locale === "kk" ? "KZ" : "KG")) {
    await h.press(chat, h.translator.t(locale, "menu.settings"));
    await h.press(
      chat,
      h.translator.t(locale, "settings.country", {
        country: h.translator.t(locale, `country.name${locale === "kk" ? "KZ" : "KG"}`),
      }),
    );
    await h.press(chat, h.translator.t(locale, `country.${country}`));
  }
}
