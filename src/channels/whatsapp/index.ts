/**
 * The WhatsApp channel on whatsapp-web.js, driving the same dialog core as
 * Telegram. Menus are numbered text; 0 or "стоп"/"тоқта"/"токто" exits.
 *
 * The reporter's WhatsApp number never reaches storage in clear: the chat key
 * is the number sealed with a stable nonce (`whatsapp:<sealed>`), opened only
 * here when a message must go out.
 *
 * Quick exit can only revoke the bot's own recent messages (WhatsApp decides
 * and may silently fall back to "delete for me"); the person is told how to
 * clear the chat on the phone, and never that everything was deleted (S7).
 */
import type { Locale } from "../../config.ts";
import type { Channel, MediaFile } from "../../core/channel.ts";
import { ChannelError } from "../../core/channel.ts";
import type { Dialog } from "../../core/dialog.ts";
import type { Translator } from "../../core/i18n.ts";
import type { Directory } from "../../core/directory/search.ts";
import type { Sealer } from "../../core/safety/sealer.ts";
import { COUNTRIES, makeAddress, type Input, type Option, type SentRef, type TrackedRef } from "../../core/types.ts";
import { describeError, type Logger } from "../../logger.ts";
import { menuNumber, parseWa, type WaIncoming } from "./parse.ts";
import { renderWa } from "./render.ts";
import { toStaffMedia } from "./media.ts";

/** The part of whatsapp-web.js's Message the adapter uses. */
export interface WaMessageLike {
  id: { _serialized: string };
  /** "chat", "image", "ptt", "audio", … */
  type: string;
  delete(everyone?: boolean): Promise<void>;
  /** The file of a photo or a voice note, base64; undefined while WhatsApp cannot give it. */
  downloadMedia(): Promise<{ mimetype: string; data: string } | undefined>;
}

/** The part of whatsapp-web.js's Client the adapter uses (checked against the library in library-types.ts); tests pass a fake with the same shape. */
export interface WaClientLike {
  on(event: string, listener: (...args: any[]) => void): unknown;
  sendMessage(chatId: string, content: unknown): Promise<WaMessageLike>;
  getMessageById(messageId: string): Promise<WaMessageLike | null | undefined>;
  initialize(): Promise<void>;
  destroy(): Promise<void>;
}

export interface WhatsAppChannelDeps {
  client: WaClientLike;
  /** Builds a whatsapp-web.js Location (a map pin). */
  makeLocation(lat: number, lon: number, name: string, address: string): unknown;
  translator: Translator;
  directory: Directory;
  sealer: Sealer;
  logger: Logger;
  sendDelayMs: number;
  revokeHours: number;
  telegramHandle: string | null;
  /** ffmpeg, to make a voice note of a recording in another format (FFMPEG_PATH). */
  ffmpegPath?: string;
  now?: () => Date;
  /**
   * WhatsApp stopped working (it would not start, the login failed, it disconnected or stayed
   * offline): the channel is reconnecting by itself. The app decides what else to do (decision 8).
   */
  onDown?(reason: WaDownReason): void;
  /** WhatsApp works again after being down. */
  onUp?(): void;
  /** How long a connection may stay in a state other than CONNECTED before it counts as down (default 5 minutes). */
  offlineLimitMs?: number;
  /** Waits before each reconnect, the last one repeated (default 5 s doubling to 5 minutes). */
  reconnectDelaysMs?: number[];
}

export type WaState = "starting" | "qr" | "connected" | "disconnected" | "reconnecting";
export type WaDownReason = "start_failed" | "auth_failure" | "disconnected" | "offline";

const RECONNECT_DELAYS_MS = [5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000];

/**
 * The library's own words about a failure ("Browser was not found at …", "net::ERR_NAME_NOT_RESOLVED"):
 * what an operator needs. Launch and page errors carry no one's messages; the logger still scrubs
 * numbers and caps the length.
 */
export function waFailureDetail(err: unknown): string {
  const e = err as { name?: string; message?: string } | string | undefined;
  if (typeof e === "string") return e.slice(0, 160);
  return `${e?.name ?? "Error"}: ${(e?.message ?? "").split("\n")[0]}`.slice(0, 160);
}

export function createWhatsAppChannel(deps: WhatsAppChannelDeps) {
  const { client, translator, sealer, logger } = deps;
  const now = deps.now ?? (() => new Date());
  const sentCache = new Map<string, WaMessageLike>();
  const lastSend = new Map<string, Promise<unknown>>();
  const proactive = new Map<string, Option[]>();
  const queues = new Map<string, Promise<void>>();
  let state: WaState = "starting";
  let offlineTimer: NodeJS.Timeout | undefined;
  let dialog: Dialog | undefined;

  const keyOf = (jid: string) => sealer.sealStable(jid);
  const jidOf = (chatId: string) => sealer.openStable(chatId);
  // WhatsApp message ids embed the chat's number ("true_7701…@c.us_3EB0…"): they are sealed too before the core keeps them.
  const refOf = (serialized: string) => sealer.sealStable(serialized);

  const footer = (locale: Locale) => {
    const t = translator.fixed(locale);
    // From the sourced directory: each country's first emergency number and first trust line.
    const first = (kind: "emergency" | "trust") =>
      COUNTRIES.flatMap((c) =>
        deps.directory
          .lines(c, kind)
          .slice(0, 1)
          .flatMap((e) => e.phones.map((p) => p.as_published)),
      );
    const all = [...new Set([...first("emergency"), ...first("trust")])].join(", ");
    return deps.telegramHandle
      ? t("whatsapp.footer", { telegram: deps.telegramHandle, lines: all })
      : t("whatsapp.footerNoTelegram", { lines: all });
  };

  /** Sends to one chat at the configured pace, so the number is not flagged for bulk sending (W2). */
  async function paced<T>(jid: string, send: () => Promise<T>): Promise<T> {
    const prev = lastSend.get(jid) ?? Promise.resolve();
    const next = prev.then(async () => {
      const res = await send();
      await new Promise((r) => setTimeout(r, deps.sendDelayMs));
      return res;
    });
    lastSend.set(
      jid,
      next.catch(() => undefined),
    );
    return next;
  }

  const channel: Channel = {
    name: "whatsapp",
    canDeleteUserMessages: false,
    async send(chatId, screen, locale) {
      const jid = jidOf(chatId);
      const t = translator.fixed(locale);
      // Buttons of proactive messages (a knock's "read") are answered by number like any menu.
      const special = (screen.options ?? []).some((o) => o.id.includes(":"));
      if (special) proactive.set(jid, screen.options ?? []);
      else proactive.delete(jid);
      const out = renderWa(screen, {
        exitLine: t("whatsapp.exitLine"),
        reply: t("whatsapp.reply"),
        locationHint: t("whatsapp.locationHint"),
        footer: footer(locale),
      });
      const refs: SentRef[] = [];
      for (const m of out) {
        try {
          const msg = await paced(jid, () =>
            client.sendMessage(jid, m.kind === "text" ? m.text : deps.makeLocation(m.lat, m.lon, m.title, m.address)),
          );
          const ref = refOf(msg.id._serialized);
          sentCache.set(ref, msg);
          if (sentCache.size > 20_000) sentCache.delete(sentCache.keys().next().value!);
          refs.push({ id: ref, at: now() });
        } catch (err) {
          logger.warn("whatsapp.send_failed", describeError(err));
          const e = new ChannelError("unavailable", true);
          e.sent = refs; // what went out before is tracked, so a quick exit revokes it
          throw e;
        }
      }
      return refs;
    },
    async deleteMessages(_chatId, refs: TrackedRef[]) {
      const cutoff = now().getTime() - deps.revokeHours * 3600_000;
      const done: string[] = [];
      const retry: string[] = [];
      for (const r of refs) {
        // Only the bot's own, recent messages: WhatsApp never lets a bot remove the person's (S7).
        // Those are finished as far as the bot can go: told before the exit how to clear them (decision 7).
        if (!r.fromBot || r.at.getTime() < cutoff) {
          done.push(r.id);
          continue;
        }
        try {
          const msg = sentCache.get(r.id) ?? (await client.getMessageById(sealer.openStable(r.id)));
          // Gone from the phone's store: nothing left to revoke.
          if (msg) await msg.delete(true);
          sentCache.delete(r.id);
          done.push(r.id);
        } catch (err) {
          logger.warn("whatsapp.delete_failed", describeError(err));
          retry.push(r.id);
        }
      }
      return { done, retry };
    },
    async sendCover(chatId, text) {
      const jid = jidOf(chatId);
      proactive.delete(jid);
      // Only the harmless cover stays (decision 7): how to clear the chat by hand was said before.
      await paced(jid, () => client.sendMessage(jid, text));
    },
  };

  function languageHint(jid: string): string | undefined {
    if (jid.startsWith("996")) return "ky";
    if (jid.startsWith("77")) return "kk";
    return undefined;
  }

  async function onMessage(msg: WaIncoming) {
    const d = dialog;
    if (!d) return;
    let input: Input | null;
    try {
      input = parseWa(msg);
    } catch {
      // A shape we do not know is not answered: it may be one of WhatsApp's own notices.
      input = null;
    }
    if (!input) return;
    const jid = msg.from;
    const pending = proactive.get(jid);
    if (pending && input.type === "text") {
      const n = menuNumber(input.text);
      const opt = n ? pending[n - 1] : undefined;
      if (opt) input = { type: "option", token: opt.id };
    }
    proactive.delete(jid);
    const messageId = refOf(msg.id._serialized);
    // A photo or a voice note is kept by WhatsApp: the core keeps only the sealed message id, and the
    // file is downloaded when it goes to staff (fetchMedia).
    if (input.type === "media" && (input.media === "photo" || input.media === "voice"))
      input = { ...input, ref: messageId };
    const incoming = {
      address: makeAddress("whatsapp", keyOf(jid)),
      input,
      messageId,
      languageHint: languageHint(jid),
    };
    // Noted before the chat's queue: a message that then waits behind a quick exit is not answered.
    const arrival = d.arrive(incoming);
    const run = () =>
      d.handle(incoming, arrival).catch((err) => {
        logger.error("whatsapp.update_failed", describeError(err));
      });
    // One chat's messages in order; quick exit does not wait behind them (S1).
    if (d.isExit(input)) return run();
    const prev = queues.get(jid) ?? Promise.resolve();
    const next = prev.then(run);
    queues.set(jid, next);
    await next;
    if (queues.get(jid) === next) queues.delete(jid);
  }

  let attempt = 0;
  let reconnectTimer: NodeJS.Timeout | undefined;
  let down = false;
  let stopped = false;

  /** Any failure: said once per outage, then the client is started again after a growing wait. */
  function fail(reason: WaDownReason, err?: unknown) {
    clearTimeout(offlineTimer);
    if (stopped || state === "reconnecting") return;
    state = "reconnecting";
    logger.error(`whatsapp.${reason}`, { reason, ...(err !== undefined ? { detail: waFailureDetail(err) } : {}) });
    if (!down) {
      down = true;
      deps.onDown?.(reason);
    }
    const delays = deps.reconnectDelaysMs ?? RECONNECT_DELAYS_MS;
    const wait = delays[Math.min(attempt++, delays.length - 1)]!;
    reconnectTimer = setTimeout(async () => {
      await client.destroy().catch(() => undefined);
      if (stopped) return;
      state = "starting";
      client.initialize().catch((e: unknown) => fail("start_failed", e));
    }, wait);
    reconnectTimer.unref?.();
  }

  function goOffline(reason: string) {
    state = "disconnected";
    logger.warn("whatsapp.disconnected", { reason });
    clearTimeout(offlineTimer);
    offlineTimer = setTimeout(() => fail("offline", reason), deps.offlineLimitMs ?? 5 * 60_000);
    offlineTimer.unref?.();
  }

  /** Messages being handled now: `idle()` resolves once none is (tests wait for that, not for time). */
  const inflight = new Set<Promise<void>>();
  client.on("message", (msg: WaIncoming) => {
    const p = onMessage(msg).finally(() => inflight.delete(p));
    inflight.add(p);
  });
  client.on("qr", (qr: string) => {
    state = "qr";
    logger.info("whatsapp.qr", { reason: "link the phone: npm run whatsapp:link (WhatsApp → Linked devices)" });
    void printQr(qr);
  });
  client.on("ready", () => {
    state = "connected";
    attempt = 0;
    clearTimeout(offlineTimer);
    logger.info("whatsapp.ready");
    if (down) {
      down = false;
      deps.onUp?.();
    }
  });
  client.on("auth_failure", (message: unknown) =>
    fail("auth_failure", message ?? "link the phone again: npm run whatsapp:link"),
  );
  // After "disconnected" the web client is done: it is started anew, not waited for.
  client.on("disconnected", (reason: unknown) => fail("disconnected", String(reason)));
  client.on("change_state", (s: string) => {
    if (s === "CONNECTED") {
      state = "connected";
      clearTimeout(offlineTimer);
    } else if (state === "connected") goOffline(s);
  });

  /** A photo or a voice note of a report, downloaded and made fit for staff (media.ts). */
  async function fetchMedia(ref: string): Promise<MediaFile | null> {
    const msg = await client.getMessageById(sealer.openStable(ref));
    if (!msg) return null;
    const media = await msg.downloadMedia();
    // Not given yet (the phone is offline, the file is still uploading): tried again later.
    if (!media) throw new Error("whatsapp: media not available yet");
    return toStaffMedia(msg.type, media, { ffmpeg: deps.ffmpegPath });
  }

  return {
    channel,
    fetchMedia,
    state: () => state,
    attach(d: Dialog) {
      dialog = d;
    },
    /** For tests and the fake client: what the adapter does with one message. */
    receive: onMessage,
    /** Resolves when every message received so far has been handled and answered. */
    async idle() {
      while (inflight.size) await Promise.allSettled([...inflight]);
    },
    async start() {
      client.initialize().catch((err: unknown) => fail("start_failed", err));
    },
    async stop() {
      stopped = true;
      clearTimeout(offlineTimer);
      clearTimeout(reconnectTimer);
      await Promise.allSettled([...queues.values()]);
      await client.destroy().catch(() => undefined);
    },
  };
}

export async function printQr(qr: string) {
  try {
    const mod = (await import("qrcode-terminal")) as unknown as {
      default?: { generate(t: string, o: { small: boolean }): void };
      generate?(t: string, o: { small: boolean }): void;
    };
    (mod.default ?? mod).generate!(qr, { small: true });
  } catch {
    process.stdout.write(`${qr}\n`);
  }
}

export type WhatsAppChannel = ReturnType<typeof createWhatsAppChannel>;
