/**
 * The server half of the local Telegram Bot API emulator (see bot-api-emulator.ts for the half tests
 * hold): the HTTP endpoint on 127.0.0.1, getUpdates by long polling, the Bot API methods the bot
 * calls, per-chat message ids and dates, and the 48-hour delete rule (A2.1).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { chatInfo, chatMember, profileCall } from "./bot-info.ts";
import { parseMultipart } from "./multipart.ts";
import {
  type EmuCall,
  type StoredMessage,
  type Fault,
  type Override,
  DELETE_WINDOW_MS,
  type UserSpec,
} from "./telegram-types.ts";

export class TelegramServer {
  readonly token = "123456789:AAEmulatorTokenForTestsOnly_0123456";
  readonly calls: EmuCall[] = [];
  readonly botUser = {
    id: 987654321,
    is_bot: true,
    first_name: "Emulated bot",
    username: "qorgau_emulated_bot",
    can_join_groups: true,
    can_read_all_group_messages: false,
    supports_inline_queries: false,
  };
  /** The emulator's clock (ms); tests move it to check the 48-hour rule. */
  now: () => number = () => Date.now();
  /** Delay before every answer, like a real network (the benchmark sets 30 ms). */
  latencyMs = 0;
  /** A random extra delay of up to this much, per call (races). */
  latencyJitterMs = 0;
  profile: Record<string, Record<string, unknown>> = {};
  /** Chat members by chat, for getChatMember: status is creator, administrator, member, left or kicked. */
  members = new Map<number, Map<number, string>>();
  /** Group settings for getChat (restrict saving content). */
  protectedChats = new Set<number>();
  /** A webhook is set: like Telegram, getUpdates then answers 409 until deleteWebhook. */
  webhookUrl: string | null = null;

  protected server?: http.Server;
  protected updates: Array<Record<string, any>> = [];
  protected nextUpdateId = 1;
  /** The last update id the bot confirmed it received (by asking for the next ones). */
  protected acked = 0;
  protected pollers: Array<() => void> = [];
  protected chats = new Map<number, { next: number; messages: Map<number, StoredMessage> }>();
  protected overrides: Override[] = [];
  protected listeners: Array<() => void> = [];
  protected callbackCounter = 1;
  protected callbackChats = new Map<string, number>();
  protected sockets = new Set<import("node:net").Socket>();
  /** Messages the bot sent, by chat, in order (kept as they are sent, so large runs stay fast). */
  protected sentByChat = new Map<
    number,
    Array<{ method: string; id: number; text?: string; payload: Record<string, any> }>
  >();
  /** Called on every call the bot makes (the benchmark measures with it). */
  onCall?: (call: EmuCall) => void;
  /** Whether to keep every call in `calls` (the benchmark turns it off to save memory). */
  record = true;
  /** How many calls the bot has made, polls aside, kept or not (the benchmark's calls per update). */
  apiCalls = 0;
  /** When set, like Telegram: more than this many messages to one group in a minute get 429. */
  groupLimitPerMinute?: number;
  /** How many calls were answered 429 by that limit. */
  throttled = 0;
  protected groupSends = new Map<number, number[]>();

  get apiRoot(): string {
    const addr = this.server?.address() as AddressInfo | null;
    if (!addr) throw new Error("emulator not started");
    return `http://127.0.0.1:${addr.port}`;
  }

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => void this.onRequest(req, res));
    this.server.on("connection", (s) => {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    return this;
  }

  async stop(): Promise<void> {
    for (const p of this.pollers.splice(0)) p();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  // ----- what users do -----

  protected chat(chatId: number) {
    let c = this.chats.get(chatId);
    if (!c) this.chats.set(chatId, (c = { next: 1, messages: new Map() }));
    return c;
  }

  protected addMessage(
    chatId: number,
    fromBot: boolean,
    text?: string,
    date = this.now(),
    fields?: Record<string, any>,
  ): number {
    const c = this.chat(chatId);
    const id = c.next++;
    c.messages.set(id, {
      id,
      fromBot,
      date,
      deleted: false,
      text,
      ...(fields ? { method: "user", payload: fields } : {}),
    });
    this.changed++;
    return id;
  }

  /** Grows with every change to any chat: the playground redraws when it moves. */
  changed = 0;
  /** What the bot answered to button presses, newest last (the playground shows them as toasts). */
  readonly answers: Array<{ at: number; chatId: number; text: string }> = [];

  /** Who writes from a private chat, when a call names nobody (a name and username the at-rest scan looks for). */
  readonly people = new Map<number, UserSpec>();

  protected user(chatId: number, given: UserSpec = {}) {
    const u = { ...this.people.get(given.id ?? chatId), ...given };
    return {
      id: u.id ?? chatId,
      is_bot: false,
      first_name: u.firstName ?? "Test",
      username: u.username,
      language_code: u.languageCode ?? "ru",
    };
  }

  protected push(update: Record<string, any>) {
    this.updates.push({ update_id: this.nextUpdateId++, ...update });
    for (const p of this.pollers.splice(0)) p();
  }

  /** A message from a user in a private chat; returns its message id. */
  userMessage(
    chatId: number,
    fields: Record<string, any>,
    u: UserSpec = {},
    opts: { date?: number; chatType?: string; chatTitle?: string } = {},
  ): number {
    const from = this.user(chatId, u);
    const id = this.addMessage(chatId, false, fields.text, opts.date, { ...fields, from });
    const chat =
      opts.chatType && opts.chatType !== "private"
        ? { id: chatId, type: opts.chatType, title: opts.chatTitle ?? "Group" }
        : {
            id: chatId,
            type: "private",
            first_name: this.people.get(chatId)?.firstName ?? "Test",
            username: this.people.get(chatId)?.username,
          };
    this.push({
      message: { message_id: id, date: Math.floor((opts.date ?? this.now()) / 1000), chat, from, ...fields },
    });
    return id;
  }

  /** Files the bot uploaded (sendPhoto with a file, not a file_id), by the file_id the emulator gave them. */
  uploads = new Map<string, { name: string; bytes: Buffer }>();

  /** A multipart request as grammY sends an upload: fields as JSON where they are JSON, `attach://` names resolved to the files. */
  protected async multipart(body: Buffer, type: string): Promise<Record<string, any>> {
    const { fields, files } = parseMultipart(body, type);
    for (const [k, v] of Object.entries(fields)) {
      const ref =
        typeof v === "string" && v.startsWith("attach://") ? files.get(v.slice("attach://".length)) : undefined;
      if (ref) {
        const id = `upload-${this.uploads.size + 1}`;
        this.uploads.set(id, ref);
        fields[k] = id;
      }
    }
    return fields;
  }

  // ----- HTTP -----

  protected async onRequest(req: http.IncomingMessage, res: http.ServerResponse) {
    const m = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(req.url ?? "");
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const reply = (status: number, body: unknown) => {
      if (res.writableEnded || res.destroyed) return;
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (!m || m[1] !== this.token) return reply(404, { ok: false, error_code: 404, description: "Not Found" });
    const method = m[2]!;
    let payload: Record<string, any> = {};
    const raw = Buffer.concat(chunks).toString("utf8");
    const type = req.headers["content-type"] ?? "";
    if (raw && type.includes("json")) payload = JSON.parse(raw);
    else if (type.includes("multipart/form-data")) payload = await this.multipart(Buffer.concat(chunks), type);
    const call: EmuCall = { method, payload, at: Date.now() };
    if (method !== "getUpdates") this.apiCalls++;
    if (method !== "getUpdates" && this.record) this.calls.push(call);

    if ((this.latencyMs || this.latencyJitterMs) && method !== "getUpdates")
      await sleep(this.latencyMs + Math.random() * this.latencyJitterMs);
    const ov = this.overrides.find(
      (o) =>
        o.method === method &&
        o.times > 0 &&
        (o.until === undefined || Date.now() < o.until) &&
        (!o.when || o.when(payload)),
    );
    if (ov) {
      ov.times--;
      if (ov.delayMs) await sleep(ov.delayMs);
      if (ov.drop) {
        req.socket.destroy();
        return;
      }
      if (ov.fault) {
        const { error_code, description, retry_after, migrate_to_chat_id } = ov.fault;
        const parameters =
          retry_after !== undefined || migrate_to_chat_id !== undefined
            ? { retry_after, migrate_to_chat_id }
            : undefined;
        reply(error_code, { ok: false, error_code, description, parameters });
        this.notify();
        return;
      }
    }
    const chatId = Number(payload.chat_id);
    if (this.groupLimitPerMinute && chatId < 0 && method.startsWith("send")) {
      const now = Date.now();
      const recent = (this.groupSends.get(chatId) ?? []).filter((t) => t > now - 60_000);
      if (recent.length >= this.groupLimitPerMinute) {
        this.throttled++;
        const retry_after = Math.max(1, Math.ceil((recent[0]! + 60_000 - now) / 1000));
        reply(429, {
          ok: false,
          error_code: 429,
          description: `Too Many Requests: retry after ${retry_after}`,
          parameters: { retry_after },
        });
        this.notify();
        return;
      }
      recent.push(now);
      this.groupSends.set(chatId, recent);
    }
    if (method === "getUpdates" && this.webhookUrl) {
      reply(409, {
        ok: false,
        error_code: 409,
        description:
          "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
      });
      return;
    }
    try {
      const result = method === "getUpdates" ? await this.getUpdates(payload, req) : this.handle(method, payload, call);
      reply(200, { ok: true, result });
      if (method !== "getUpdates") this.onCall?.(call);
    } catch (err) {
      const e = err as Fault;
      reply(e.error_code ?? 500, {
        ok: false,
        error_code: e.error_code ?? 500,
        description: e.description ?? String(err),
      });
    }
    this.notify();
  }

  protected notify() {
    for (const l of this.listeners.splice(0)) l();
  }

  /** When the bot last asked for updates (ms): a started bot is one that polls. */
  lastPollAt = 0;

  protected async getUpdates(p: Record<string, any>, req: http.IncomingMessage) {
    this.lastPollAt = Date.now();
    this.notify();
    const offset = Number(p.offset ?? 0);
    if (offset) {
      this.updates = this.updates.filter((u) => u.update_id >= offset);
      // The bot asks from `offset` on: it has received every update before it.
      if (offset - 1 > this.acked) {
        this.acked = offset - 1;
        this.notify();
      }
    }
    const take = () => this.updates.filter((u) => u.update_id >= offset).slice(0, Number(p.limit ?? 100));
    let got = take();
    if (!got.length && Number(p.timeout ?? 0) > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Number(p.timeout) * 1000);
        const wake = () => {
          clearTimeout(timer);
          resolve();
        };
        this.pollers.push(wake);
        req.on("close", wake);
      });
      got = take();
    }
    return got;
  }

  protected handle(method: string, p: Record<string, any>, call: EmuCall): unknown {
    const chatId = Number(p.chat_id);
    const botMessage = (extra: Record<string, unknown>) => {
      const id = this.addMessage(
        chatId,
        true,
        typeof extra.text === "string" ? extra.text : typeof p.caption === "string" ? p.caption : undefined,
      );
      Object.assign(this.chat(chatId).messages.get(id)!, { markup: p.reply_markup, method, payload: p });
      call.payload.__id = id;
      let list = this.sentByChat.get(chatId);
      if (!list) this.sentByChat.set(chatId, (list = []));
      // A photo's caption is its text, as a person reads it.
      list.push({
        method,
        id,
        text: typeof p.text === "string" ? p.text : typeof p.caption === "string" ? p.caption : undefined,
        payload: call.payload,
      });
      return {
        message_id: id,
        date: Math.floor(this.now() / 1000),
        chat: { id: chatId, type: chatId < 0 ? "supergroup" : "private" },
        from: this.botUser,
        has_protected_content: p.protect_content || undefined,
        ...extra,
      };
    };
    switch (method) {
      case "getMe":
        return this.botUser;
      case "deleteWebhook":
        this.webhookUrl = null;
        return true;
      case "setWebhook":
        this.webhookUrl = String(p.url ?? "");
        return true;
      case "setMyCommands":
      case "answerCallbackQuery": {
        const chat = this.callbackChats.get(String(p.callback_query_id));
        if (chat !== undefined && typeof p.text === "string" && p.text) {
          this.answers.push({ at: Date.now(), chatId: chat, text: p.text });
          this.changed++;
        }
        return true;
      }
      case "getMyName":
      case "getMyDescription":
      case "getMyShortDescription":
      case "setMyName":
      case "setMyDescription":
      case "setMyShortDescription":
        return profileCall(this.profile, method, p);
      case "sendMessage": {
        const text = String(p.text ?? "");
        if (!text.trim()) throw { error_code: 400, description: "Bad Request: message text is empty" };
        if (text.length > 4096) throw { error_code: 400, description: "Bad Request: message is too long" };
        return botMessage({ text });
      }
      case "sendVenue":
        return botMessage({
          venue: { location: { latitude: p.latitude, longitude: p.longitude }, title: p.title, address: p.address },
        });
      case "sendLocation":
        return botMessage({ location: { latitude: p.latitude, longitude: p.longitude } });
      case "sendPhoto":
      case "sendVoice": {
        // By file id, or an upload (multipart() gave it an id): never a URL.
        const file = method === "sendPhoto" ? p.photo : p.voice;
        if (typeof file !== "string") throw { error_code: 400, description: `Bad Request: no file in ${method}` };
        const [unique, caption] = [{ file_id: file, file_unique_id: file }, p.caption];
        return method === "sendPhoto"
          ? botMessage({ photo: [{ ...unique, width: 90, height: 90 }], caption })
          : botMessage({ voice: { ...unique, duration: Number(p.duration ?? 1) }, caption });
      }
      case "editMessageText": {
        const m = this.chat(chatId).messages.get(Number(p.message_id));
        if (!m || m.deleted) throw { error_code: 400, description: "Bad Request: message to edit not found" };
        if (m.text === p.text && JSON.stringify(m.markup ?? null) === JSON.stringify(p.reply_markup ?? null))
          throw { error_code: 400, description: "Bad Request: message is not modified" };
        m.text = String(p.text);
        m.markup = p.reply_markup;
        this.changed++;
        return {
          message_id: m.id,
          date: Math.floor(m.date / 1000),
          chat: { id: chatId, type: chatId < 0 ? "supergroup" : "private" },
          text: m.text,
        };
      }
      case "editMessageReplyMarkup": {
        const m = this.chat(chatId).messages.get(Number(p.message_id));
        if (m && !m.deleted) {
          m.markup = p.reply_markup;
          this.changed++;
        }
        return true;
      }
      case "getChatMember":
        return chatMember(this.members.get(chatId)?.get(Number(p.user_id)) ?? "left", Number(p.user_id));
      case "getChat":
        return chatInfo(chatId, this.protectedChats.has(chatId));
      case "deleteMessage":
        if (!this.deleteOne(chatId, Number(p.message_id)))
          throw { error_code: 400, description: "Bad Request: message can't be deleted" };
        return true;
      case "deleteMessages": {
        const ids = (p.message_ids ?? []) as number[];
        if (!ids.length || ids.length > 100)
          throw { error_code: 400, description: "Bad Request: message_ids must have 1-100 items" };
        // Missing or too old messages are skipped, as Telegram does.
        for (const id of ids) this.deleteOne(chatId, Number(id));
        return true;
      }
      default:
        throw { error_code: 404, description: `Not Found: method ${method} is not emulated` };
    }
  }

  protected deleteOne(chatId: number, id: number): boolean {
    const m = this.chat(chatId).messages.get(id);
    if (!m || m.deleted) return false;
    if (this.now() - m.date >= DELETE_WINDOW_MS) return false;
    m.deleted = true;
    this.changed++;
    return true;
  }
}

function sleep(ms: number) {
  return new Promise((r) => setTimeout(r, ms));
}
