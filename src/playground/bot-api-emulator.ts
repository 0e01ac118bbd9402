/**
 * A local Telegram Bot API emulator on 127.0.0.1 for tests, the demo and the
 * benchmark. The real grammY bot talks to it over HTTP (client.apiRoot).
 *
 * It keeps per-chat message ids and dates, enforces the 48-hour delete rule
 * (bots may delete both sides of a private chat, A2.1), serves getUpdates by
 * long polling, records every call, and can be scripted to fail or delay.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface EmuCall {
  method: string;
  payload: Record<string, any>;
  at: number;
}

interface StoredMessage {
  id: number;
  fromBot: boolean;
  date: number; // ms
  deleted: boolean;
  text?: string;
  markup?: unknown;
  /** What made the message: the bot's call (method and payload), or the user's fields. */
  method?: string;
  payload?: Record<string, any>;
}

/** A message as a chat shows it now (the playground draws these). */
export interface ChatViewMessage {
  id: number;
  fromBot: boolean;
  date: number;
  text?: string;
  /** The current inline keyboard or reply keyboard, as sent or last edited. */
  markup?: any;
  /** sendMessage, sendVenue, sendLocation, sendPhoto; "user" for the person's own. */
  method: string;
  payload: Record<string, any>;
}

type Fault = { error_code: number; description: string; retry_after?: number; migrate_to_chat_id?: number };
interface Override {
  method: string;
  times: number;
  fault?: Fault;
  delayMs?: number;
  /** Close the connection without an answer, as a network that drops a request does. */
  drop?: boolean;
  when?: (payload: Record<string, any>) => boolean;
  /** A fault that lasts until this time (ms, Date.now()) instead of a number of calls. */
  until?: number;
}

export const DELETE_WINDOW_MS = 48 * 3600_000;

export interface UserSpec {
  id?: number;
  languageCode?: string;
  firstName?: string;
  username?: string;
}

export class BotApiEmulator {
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

  private server?: http.Server;
  private updates: Array<Record<string, any>> = [];
  private nextUpdateId = 1;
  /** The last update id the bot confirmed it received (by asking for the next ones). */
  private acked = 0;
  private pollers: Array<() => void> = [];
  private chats = new Map<number, { next: number; messages: Map<number, StoredMessage> }>();
  private overrides: Override[] = [];
  private listeners: Array<() => void> = [];
  private callbackCounter = 1;
  private callbackChats = new Map<string, number>();
  private sockets = new Set<import("node:net").Socket>();
  /** Messages the bot sent, by chat, in order (kept as they are sent, so large runs stay fast). */
  private sentByChat = new Map<
    number,
    Array<{ method: string; id: number; text?: string; payload: Record<string, any> }>
  >();
  /** Called on every call the bot makes (the benchmark measures with it). */
  onCall?: (call: EmuCall) => void;
  /** Whether to keep every call in `calls` (the benchmark turns it off to save memory). */
  record = true;
  /** When set, like Telegram: more than this many messages to one group in a minute get 429. */
  groupLimitPerMinute?: number;
  /** How many calls were answered 429 by that limit. */
  throttled = 0;
  private groupSends = new Map<number, number[]>();

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

  // ----- scripting -----

  /** The next `times` calls of `method` (matching `when`) fail with this Bot API error. */
  fail(method: string, fault: Fault, times = 1, when?: Override["when"]) {
    this.overrides.push({ method, times, fault, when });
  }
  /** Every call of `method` (matching `when`) fails with this Bot API error for the next `ms` milliseconds, then works again. */
  failFor(method: string, fault: Fault, ms: number, when?: Override["when"]) {
    this.overrides.push({ method, times: Infinity, fault, when, until: Date.now() + ms });
  }
  /** The next `times` calls of `method` get no answer: the connection is closed (the request is not carried out). */
  drop(method: string, times = 1, when?: Override["when"]) {
    this.overrides.push({ method, times, drop: true, when });
  }
  /** The next `times` calls of `method` are answered only after `delayMs`. */
  delay(method: string, delayMs: number, times = 1, when?: Override["when"]) {
    this.overrides.push({ method, times, delayMs, when });
  }

  // ----- what users do -----

  private chat(chatId: number) {
    let c = this.chats.get(chatId);
    if (!c) this.chats.set(chatId, (c = { next: 1, messages: new Map() }));
    return c;
  }

  private addMessage(
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

  /** The messages of a chat as it shows them now: deleted ones gone, edits applied. */
  view(chatId: number): ChatViewMessage[] {
    return [...this.chat(chatId).messages.values()]
      .filter((m) => !m.deleted)
      .map((m) => ({
        id: m.id,
        fromBot: m.fromBot,
        date: m.date,
        text: m.text,
        markup: m.markup,
        method: m.method ?? (m.fromBot ? "sendMessage" : "user"),
        payload: m.payload ?? {},
      }));
  }

  /** Who writes from a private chat, when a call names nobody (a name and username the at-rest scan looks for). */
  readonly people = new Map<number, UserSpec>();

  private user(chatId: number, given: UserSpec = {}) {
    const u = { ...this.people.get(given.id ?? chatId), ...given };
    return {
      id: u.id ?? chatId,
      is_bot: false,
      first_name: u.firstName ?? "Test",
      username: u.username,
      language_code: u.languageCode ?? "ru",
    };
  }

  private push(update: Record<string, any>) {
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

  sendText(chatId: number, text: string, u: UserSpec = {}): number {
    const cmd = /^\/[a-z_]+(@\w+)?/i.exec(text);
    const entities = cmd ? [{ type: "bot_command", offset: 0, length: cmd[0].length }] : undefined;
    return this.userMessage(chatId, { text, ...(entities ? { entities } : {}) }, u);
  }

  sendLocation(chatId: number, latitude: number, longitude: number, u: UserSpec = {}): number {
    return this.userMessage(chatId, { location: { latitude, longitude } }, u);
  }

  sendSticker(chatId: number, u: UserSpec = {}): number {
    return this.userMessage(
      chatId,
      {
        sticker: {
          file_id: "stk",
          file_unique_id: "stk",
          type: "regular",
          width: 512,
          height: 512,
          is_animated: false,
          is_video: false,
        },
      },
      u,
    );
  }
  sendVoice(chatId: number, u: UserSpec = {}): number {
    return this.userMessage(chatId, { voice: { file_id: "v", file_unique_id: "v", duration: 3 } }, u);
  }
  sendPhoto(chatId: number, u: UserSpec = {}, fileId = "p"): number {
    return this.userMessage(
      chatId,
      {
        photo: [
          { file_id: `${fileId}-small`, file_unique_id: `${fileId}s`, width: 90, height: 90 },
          { file_id: fileId, file_unique_id: fileId, width: 1280, height: 960 },
        ],
      },
      u,
    );
  }
  sendDocument(chatId: number, mime: string, u: UserSpec = {}): number {
    return this.userMessage(
      chatId,
      { document: { file_id: "doc", file_unique_id: "doc", mime_type: mime, file_name: "IMG_0001.jpg" } },
      u,
    );
  }

  /** A button press on a bot message; returns the callback query id. In a group, pass the user. */
  press(chatId: number, messageId: number, data: string, u: UserSpec = {}): string {
    const id = String(this.callbackCounter++);
    this.callbackChats.set(id, chatId);
    const msg = this.chat(chatId).messages.get(messageId);
    const chat =
      chatId < 0
        ? { id: chatId, type: "supergroup", title: "Staff" }
        : { id: chatId, type: "private", first_name: "Test" };
    this.push({
      callback_query: {
        id,
        from: this.user(u.id ?? chatId, { ...u, firstName: u.firstName ?? (chatId < 0 ? `Staff${u.id}` : undefined) }),
        chat_instance: `ci${chatId}`,
        data,
        message: {
          message_id: messageId,
          date: Math.floor((msg?.date ?? this.now()) / 1000),
          chat,
          from: this.botUser,
          text: msg?.text ?? "",
        },
      },
    });
    return id;
  }

  setMember(chatId: number, userId: number, status: "creator" | "administrator" | "member" | "left" | "kicked") {
    let m = this.members.get(chatId);
    if (!m) this.members.set(chatId, (m = new Map()));
    m.set(userId, status);
  }

  /** A member's status changes in a group (Telegram sends chat_member to admin bots that ask for it). */
  memberUpdate(chatId: number, userId: number, status: "left" | "kicked" | "member") {
    const old = this.members.get(chatId)?.get(userId) ?? "left";
    this.setMember(chatId, userId, status);
    const user = { id: userId, is_bot: false, first_name: `Staff${userId}` };
    this.push({
      chat_member: {
        chat: { id: chatId, type: "supergroup", title: "Staff" },
        from: user,
        date: Math.floor(this.now() / 1000),
        old_chat_member: { status: old, user },
        new_chat_member: { status, user },
      },
    });
  }

  /** The bot's own status in a group changes (my_chat_member). */
  botStatus(chatId: number, status: "administrator" | "member" | "left" | "kicked") {
    const old = this.members.get(chatId)?.get(this.botUser.id) ?? "member";
    this.setMember(chatId, this.botUser.id, status);
    const from = { id: 1, is_bot: false, first_name: "Owner" };
    const bot = {
      id: this.botUser.id,
      is_bot: true,
      first_name: this.botUser.first_name,
      username: this.botUser.username,
    };
    this.push({
      my_chat_member: {
        chat: { id: chatId, type: "supergroup", title: "Staff" },
        from,
        date: Math.floor(this.now() / 1000),
        old_chat_member: { status: old, user: bot },
        new_chat_member: { status, user: bot },
      },
    });
  }

  /** A staff member writes in a group, optionally as a reply to one of the bot's messages. */
  groupMessage(chatId: number, userId: number, text: string, replyTo?: number): number {
    const cmd = /^\/[a-z_]+(@\w+)?/i.exec(text);
    const target = replyTo === undefined ? undefined : this.chat(chatId).messages.get(replyTo);
    return this.userMessage(
      chatId,
      {
        text,
        ...(cmd ? { entities: [{ type: "bot_command", offset: 0, length: cmd[0].length }] } : {}),
        ...(replyTo !== undefined
          ? {
              reply_to_message: {
                message_id: replyTo,
                date: Math.floor((target?.date ?? this.now()) / 1000),
                chat: { id: chatId, type: "supergroup", title: "Staff" },
                from: target?.fromBot ? this.botUser : this.user(userId),
                text: target?.text ?? "",
              },
            }
          : {}),
      },
      { id: userId, firstName: `Staff${userId}` },
      { chatType: "supergroup", chatTitle: "Staff" },
    );
  }

  /** The text a message has now (after edits). */
  textOf(chatId: number, messageId: number): string | undefined {
    return this.chat(chatId).messages.get(messageId)?.text;
  }

  /** Seeds an old message into a chat's history (for the 48-hour rule). */
  seedMessage(chatId: number, fromBot: boolean, ageMs: number): number {
    return this.addMessage(chatId, fromBot, undefined, this.now() - ageMs);
  }

  // ----- what the bot did -----

  callsOf(method: string, chatId?: number): EmuCall[] {
    return this.calls.filter(
      (c) => c.method === method && (chatId === undefined || Number(c.payload.chat_id) === chatId),
    );
  }

  /** Messages the bot sent to a chat (text, venue, location), in order, with their ids. */
  sent(chatId: number): Array<{ method: string; id: number; text?: string; payload: Record<string, any> }> {
    return [...(this.sentByChat.get(chatId) ?? [])];
  }

  lastSent(chatId: number) {
    return this.sent(chatId).at(-1);
  }

  /** Every message of a chat in order, both sides, deleted or not. */
  history(chatId: number): Array<{ id: number; fromBot: boolean; deleted: boolean; text?: string }> {
    return [...this.chat(chatId).messages.values()].map((m) => ({
      id: m.id,
      fromBot: m.fromBot,
      deleted: m.deleted,
      text: m.text,
    }));
  }

  /** Ids of messages still in the chat (not deleted). */
  visible(chatId: number): number[] {
    return [...this.chat(chatId).messages.values()].filter((m) => !m.deleted).map((m) => m.id);
  }

  /**
   * How many times its `timeoutMs` a wait may take before it fails. A timeout only bounds a
   * failure: on a machine whose cores are busy elsewhere the same wait takes longer, and a test
   * must not fail for that.
   */
  patience = 3;

  /** Waits until `pred` holds, checking after every call; rejects after `timeoutMs` (times `patience`). */
  async waitFor<T>(pred: () => T | undefined | false | null, timeoutMs = 5000, what = "condition"): Promise<T> {
    const deadline = Date.now() + timeoutMs * this.patience;
    for (;;) {
      const v = pred();
      if (v) return v;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`emulator: timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.min(left, 100));
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.listeners.push(done);
      });
    }
  }

  /**
   * Resolves once the bot has received every update sent so far (it polled past them). With the
   * bot's own "nothing being handled" this is how a test knows an update was dealt with, instead
   * of sleeping and hoping.
   */
  async received(timeoutMs = 15_000): Promise<void> {
    const last = this.nextUpdateId - 1;
    await this.waitFor(() => this.acked >= last, timeoutMs, `the bot to receive update ${last}`);
  }

  /** Ends every scripted fault of `method` (an outage that a test, not a clock, decides is over). */
  heal(method: string) {
    this.overrides = this.overrides.filter((o) => o.method !== method || !o.fault);
  }

  /** Waits until the bot has sent `count` more messages to the chat than `after`. */
  async waitForSent(chatId: number, after: number, count = 1, timeoutMs = 5000) {
    await this.waitFor(
      () => this.sent(chatId).length >= after + count,
      timeoutMs,
      `${count} message(s) to chat ${chatId}`,
    );
    return this.sent(chatId).slice(after);
  }

  /** Files the bot uploaded (sendPhoto with a file, not a file_id), by the file_id the emulator gave them. */
  uploads = new Map<string, { name: string; bytes: Buffer }>();

  /** A multipart request as grammY sends an upload: fields as JSON where they are JSON, `attach://` names resolved to the files. */
  private async multipart(body: Buffer, type: string): Promise<Record<string, any>> {
    // Parsed by hand: undici's FormData (Node 20) refuses the stream grammY writes.
    const boundary = Buffer.from(`--${/boundary=([^;]+)/.exec(type)![1]!.trim()}`);
    const out: Record<string, any> = {};
    const files = new Map<string, { name: string; bytes: Buffer }>();
    let at = body.indexOf(boundary);
    while (at >= 0) {
      const start = at + boundary.length;
      const next = body.indexOf(boundary, start);
      if (next < 0) break;
      const part = body.subarray(start, next);
      const headEnd = part.indexOf("\r\n\r\n");
      if (headEnd >= 0) {
        const head = part.subarray(0, headEnd).toString("utf8");
        let value = part.subarray(headEnd + 4);
        if (value.subarray(-2).toString() === "\r\n") value = value.subarray(0, -2);
        const name = /name="([^"]*)"/.exec(head)?.[1] ?? "";
        const filename = /filename="?([^"\r\n;]*)"?/.exec(head)?.[1];
        if (filename !== undefined) files.set(name, { name: filename, bytes: Buffer.from(value) });
        else {
          const v = value.toString("utf8");
          out[name] = /^[[{]|^(true|false)$/.test(v) ? JSON.parse(v) : v;
        }
      }
      at = next;
    }
    for (const [k, v] of Object.entries(out)) {
      const ref =
        typeof v === "string" && v.startsWith("attach://") ? files.get(v.slice("attach://".length)) : undefined;
      if (ref) {
        const id = `upload-${this.uploads.size + 1}`;
        this.uploads.set(id, ref);
        out[k] = id;
      }
    }
    return out;
  }

  // ----- HTTP -----

  private async onRequest(req: http.IncomingMessage, res: http.ServerResponse) {
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

  private notify() {
    for (const l of this.listeners.splice(0)) l();
  }

  /** When the bot last asked for updates (ms): a started bot is one that polls. */
  lastPollAt = 0;

  private async getUpdates(p: Record<string, any>, req: http.IncomingMessage) {
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

  private handle(method: string, p: Record<string, any>, call: EmuCall): unknown {
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
      case "getMyShortDescription": {
        const field =
          method === "getMyName" ? "name" : method === "getMyDescription" ? "description" : "short_description";
        return { [field]: this.profile[p.language_code ?? ""]?.[field] ?? "" };
      }
      case "setMyName":
      case "setMyDescription":
      case "setMyShortDescription": {
        const field =
          method === "setMyName" ? "name" : method === "setMyDescription" ? "description" : "short_description";
        (this.profile[p.language_code ?? ""] ??= {})[field] = p[field];
        return true;
      }
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
        if (typeof p.photo !== "string")
          throw { error_code: 400, description: "Bad Request: the emulator takes photos by file_id only" };
        return botMessage({
          photo: [{ file_id: p.photo, file_unique_id: p.photo, width: 90, height: 90 }],
          caption: p.caption,
        });
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
      case "getChatMember": {
        const status = this.members.get(chatId)?.get(Number(p.user_id)) ?? "left";
        const user = { id: Number(p.user_id), is_bot: false, first_name: `Staff${p.user_id}` };
        return status === "administrator"
          ? {
              status,
              user,
              can_be_edited: false,
              is_anonymous: false,
              can_manage_chat: true,
              can_delete_messages: true,
              can_manage_video_chats: false,
              can_restrict_members: false,
              can_promote_members: false,
              can_change_info: false,
              can_invite_users: false,
              can_post_stories: false,
              can_edit_stories: false,
              can_delete_stories: false,
            }
          : { status, user, ...(status === "creator" ? { is_anonymous: false } : {}) };
      }
      case "getChat":
        return {
          id: chatId,
          type: chatId < 0 ? "supergroup" : "private",
          title: "Staff",
          has_protected_content: this.protectedChats.has(chatId) || undefined,
        };
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

  private deleteOne(chatId: number, id: number): boolean {
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
