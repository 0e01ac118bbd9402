/**
 * A local Telegram Bot API emulator on 127.0.0.1 for tests, the demo, the playground and the
 * benchmark. The real grammY bot talks to it over HTTP (client.apiRoot). This half is what a test
 * holds: people who write, press and share, staff groups and their members, scripted faults, and
 * waits on what the bot sent. The server half is telegram-server.ts.
 */
import { TelegramServer } from "./telegram-server.ts";
import type { ChatViewMessage, EmuCall, Fault, Override, UserSpec } from "./telegram-types.ts";

export { DELETE_WINDOW_MS, type ChatViewMessage, type EmuCall, type UserSpec } from "./telegram-types.ts";

export class BotApiEmulator extends TelegramServer {
  // ----- scripting -----

  /** The next `times` calls of `method` (matching `when`) fail with this Bot API error, after `afterMs` if given. */
  fail(method: string, fault: Fault, times = 1, when?: Override["when"], afterMs?: number) {
    this.overrides.push({ method, times, fault, when, delayMs: afterMs });
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
  sendVoice(chatId: number, u: UserSpec = {}, voice: { fileId?: string; seconds?: number } = {}): number {
    const id = voice.fileId ?? "v";
    return this.userMessage(
      chatId,
      { voice: { file_id: id, file_unique_id: id, duration: voice.seconds ?? 3, mime_type: "audio/ogg" } },
      u,
    );
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
    const fields = { text, ...(cmd ? { entities: [{ type: "bot_command", offset: 0, length: cmd[0].length }] } : {}) };
    return this.groupPost(chatId, userId, fields, replyTo);
  }
  /** A staff member records a voice note in a group, optionally as a reply. */
  groupVoice(chatId: number, userId: number, replyTo?: number): number {
    return this.groupPost(chatId, userId, { voice: { file_id: "sv", file_unique_id: "sv", duration: 4 } }, replyTo);
  }
  private groupPost(chatId: number, userId: number, fields: Record<string, unknown>, replyTo?: number): number {
    const target = replyTo === undefined ? undefined : this.chat(chatId).messages.get(replyTo);
    return this.userMessage(
      chatId,
      {
        ...fields,
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

  /**
   * Drops everything kept about these chats (their messages, what the bot sent them, its answers to
   * their buttons). The benchmark calls it once a run's people are done and counted: otherwise each
   * run's chats stay in the emulator's memory, and the collector of the process that measures pauses
   * longer with every run (bench/README.md).
   */
  forget(chatIds: Iterable<number>): void {
    const gone = new Set(chatIds);
    for (const chat of gone) {
      this.chats.delete(chat);
      this.sentByChat.delete(chat);
      this.people.delete(chat);
    }
    for (const [id, chat] of this.callbackChats) if (gone.has(chat)) this.callbackChats.delete(id);
    // In place: spreading a long list into splice's arguments would overflow the stack.
    let n = 0;
    for (const a of this.answers) if (!gone.has(a.chatId)) this.answers[n++] = a;
    this.answers.length = n;
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
}
