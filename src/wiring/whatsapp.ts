/** WhatsApp as the app runs it: the real client or a test's, and what an outage means. */
import type { Config } from "../config.ts";
import type { LiveDirectory } from "../core/directory/search.ts";
import type { Translator } from "../core/i18n.ts";
import type { Sealer } from "../core/safety/sealer.ts";
import { createWhatsAppChannel, type WaClientLike, type WhatsAppChannel } from "../channels/whatsapp/index.ts";
import { createWhatsAppClient } from "../channels/whatsapp/client.ts";
import { canCleanPhotos, canConvertAudio, removeLeftoverRecordings } from "../channels/whatsapp/media.ts";
import { describeError, type Logger } from "../logger.ts";
import { channelDownNotices, type staffNotice } from "../core/reports/routes.ts";

export interface WhatsAppStartOptions {
  /** A whatsapp-web.js client to use instead of the real one (tests pass a fake). */
  whatsappClient?: {
    client: WaClientLike;
    makeLocation: (lat: number, lon: number, name: string, address: string) => unknown;
  };
  /** Called when WhatsApp, the only channel, is down; by default the process exits non-zero so the service manager restarts it (R6). */
  onFatal?: (reason: string) => void;
  /** Offline time before WhatsApp counts as down (tests shorten it). */
  whatsappOfflineLimitMs?: number;
  /** Waits between WhatsApp reconnects (tests shorten them). */
  whatsappReconnectDelaysMs?: number[];
}

/** A channel that cannot go on ends the process non-zero, so the service manager restarts it (R6). */
function defaultFatal(reason: string): never {
  process.stderr.write(`Qorgau is stopping: ${reason}\n`);
  process.exit(3);
}

/** WhatsApp, with its outage policy: a failure stays in its channel (decision 8). */
export async function startWhatsApp(
  config: Config,
  opts: WhatsAppStartOptions,
  parts: { translator: Translator; directory: LiveDirectory; sealer: Sealer; logger: Logger; now: () => Date },
  /** Queues a notice to the staff group outages are told to (none without Telegram). */
  queueNotice: (item: (chat: number) => ReturnType<typeof staffNotice>) => Promise<void>,
): Promise<WhatsAppChannel> {
  const outage = channelDownNotices("whatsapp", parts.now);
  const wa = opts.whatsappClient ?? (await createWhatsAppClient(config));
  // Photos from WhatsApp reach staff only re-encoded (issue 26): without sharp they are counted as not arrived.
  if (!(await canCleanPhotos()))
    parts.logger.error("whatsapp.photos_disabled", {
      reason:
        "the optional package sharp is not installed: WhatsApp photos will not reach staff; run npm ci without --omit=optional",
    });
  const leftover = await removeLeftoverRecordings();
  if (leftover)
    parts.logger.warn("whatsapp.recordings_removed", { count: leftover, reason: "left by a stop mid-conversion" });
  if (!canConvertAudio(config.ffmpegPath))
    parts.logger.warn("whatsapp.audio_unconverted", {
      reason: `no ffmpeg at FFMPEG_PATH (${config.ffmpegPath}): recordings other than voice notes go to staff as MP3 without tags or M4A, others not at all; apt-get install -y ffmpeg`,
    });
  return createWhatsAppChannel({
    ...wa,
    ...parts,
    sendDelayMs: config.whatsappSendDelayMs,
    revokeHours: config.whatsappRevokeHours,
    telegramHandle: config.telegramHandle,
    ffmpegPath: config.ffmpegPath,
    offlineLimitMs: opts.whatsappOfflineLimitMs,
    reconnectDelaysMs: opts.whatsappReconnectDelaysMs,
    // With Telegram on, WhatsApp reconnects by itself and staff hear it (once per outage, see
    // channelDownNotices); alone, the process ends so the service manager restarts it.
    onDown: (reason) => {
      if (!config.telegramEnabled) return (opts.onFatal ?? defaultFatal)(reason);
      queueNotice((chat) => outage.down(chat, reason)).catch((err) =>
        parts.logger.error("whatsapp.notice_failed", describeError(err)),
      );
    },
    onUp: () => outage.up(),
  });
}
