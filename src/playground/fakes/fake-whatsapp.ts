/**
 * A fake whatsapp-web.js client: the same events and methods the adapter uses,
 * recording what is sent and what is deleted, and letting a test play the
 * person on the phone.
 */
import { EventEmitter } from "node:events";
import type { WaClientLike, WaMessageLike } from "../../channels/whatsapp/index.ts";

export interface FakeSent {
  chatId: string;
  content: unknown;
  text: string | null;
  id: string;
  deletedFor: "everyone" | "me" | null;
}

export class FakeWaClient extends EventEmitter implements WaClientLike {
  sent: FakeSent[] = [];
  incoming: string[] = [];
  initialized = false;
  /** The next this many revokes fail, as when the web client is not connected. */
  failDeletes = 0;
  destroyed = false;
  private n = 1;

  /** How often the adapter started the client. */
  inits = 0;
  /** Errors the next starts fail with, one per start (a missing browser, an unreachable page). */
  failInits: Error[] = [];
  async initialize() {
    this.inits++;
    const err = this.failInits.shift();
    if (err) throw err;
    this.initialized = true;
    this.emit("ready");
  }
  async destroy() {
    this.destroyed = true;
  }
  async sendMessage(chatId: string, content: unknown): Promise<WaMessageLike> {
    const id = `true_${chatId}_${this.n++}`;
    const rec: FakeSent = { chatId, content, text: typeof content === "string" ? content : null, id, deletedFor: null };
    this.sent.push(rec);
    return this.wrap(rec);
  }
  /** The person's photos and voice notes, by message id, as WhatsApp would let the bot download them. */
  files = new Map<string, { type: string; mimetype: string; data: Buffer }>();
  /** The next this many downloads give nothing, as while the phone is offline. */
  failDownloads = 0;
  /** How often a file was asked for. */
  downloads = 0;
  async getMessageById(id: string): Promise<WaMessageLike | null> {
    const rec = this.sent.find((s) => s.id === id);
    if (rec) return this.wrap(rec);
    const file = this.files.get(id);
    if (!file) return null;
    return {
      id: { _serialized: id },
      type: file.type,
      delete: async () => undefined,
      downloadMedia: async () => {
        this.downloads++;
        if (this.failDownloads > 0) {
          this.failDownloads--;
          return undefined;
        }
        return { mimetype: file.mimetype, data: file.data.toString("base64") };
      },
    };
  }
  private wrap(rec: FakeSent): WaMessageLike {
    return {
      id: { _serialized: rec.id },
      type: "chat",
      downloadMedia: async () => undefined,
      delete: async (everyone?: boolean) => {
        if (this.failDeletes > 0) {
          this.failDeletes--;
          throw new Error("Evaluation failed: not connected");
        }
        rec.deletedFor = everyone ? "everyone" : "me";
      },
    };
  }

  // ----- the person on the phone -----
  private msg(jid: string, fields: Record<string, unknown>) {
    const id = `false_${jid}_${this.n++}`;
    this.incoming.push(id);
    this.emit("message", {
      from: jid,
      fromMe: false,
      id: { _serialized: id },
      body: "",
      type: "chat",
      timestamp: Math.floor(Date.now() / 1000),
      ...fields,
    });
    return id;
  }
  text(jid: string, body: string) {
    return this.msg(jid, { type: "chat", body });
  }
  location(jid: string, latitude: number, longitude: number) {
    return this.msg(jid, { type: "location", location: { latitude, longitude } });
  }
  media(jid: string, type: string) {
    return this.msg(jid, { type });
  }
  /** A photo as the person sends it from the gallery: the bytes as they are, metadata included. */
  photo(jid: string, jpeg: Buffer) {
    const id = this.msg(jid, { type: "image", hasMedia: true });
    this.files.set(id, { type: "image", mimetype: "image/jpeg", data: jpeg });
    return id;
  }
  /** A voice note held to record (`ptt`), Opus in OGG as WhatsApp records it. */
  voice(jid: string, ogg: Buffer, seconds: number) {
    const id = this.msg(jid, { type: "ptt", hasMedia: true, duration: String(seconds) });
    this.files.set(id, { type: "ptt", mimetype: "audio/ogg; codecs=opus", data: ogg });
    return id;
  }
  group(jid: string, body: string) {
    return this.msg(jid, { type: "chat", body, author: "77010000000@c.us" });
  }
  status(body: string) {
    return this.msg("status@broadcast", { type: "chat", body, isStatus: true });
  }

  textsTo(jid: string): string[] {
    return this.sent.filter((s) => s.chatId === jid && s.text !== null).map((s) => s.text!);
  }
  /** Waits until `count` more messages went to this chat than `after`; returns them. */
  async waitFor(jid: string, after: number, count = 1, timeoutMs = 5000): Promise<FakeSent[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const mine = this.sent.filter((s) => s.chatId === jid);
      if (mine.length >= after + count) {
        await new Promise((r) => setTimeout(r, 30));
        return this.sent.filter((s) => s.chatId === jid).slice(after);
      }
      if (Date.now() > deadline)
        throw new Error(
          `fake WhatsApp: timed out waiting for ${count} message(s) to ${jid}; got ${mine.length - after}`,
        );
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  count(jid: string) {
    return this.sent.filter((s) => s.chatId === jid).length;
  }
}
