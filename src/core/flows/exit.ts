/**
 * Quick exit (S1, S2, S3, S5): delete every message of the chat the channel
 * can, forget the session and the message ids, and leave one harmless cover
 * message. A marker written first lets a wipe cut short by a crash finish at
 * the next start.
 */
import type { Locale } from "../../config.ts";
import type { Logger } from "../../logger.ts";
import type { Channel } from "../channel.ts";
import type { Translator } from "../i18n.ts";
import type { Store } from "../store.ts";
import { splitAddress, type Address, type ChannelName } from "../types.ts";

export interface ExitDeps {
  store: Store;
  channels: Partial<Record<ChannelName, Channel>>;
  translator: Translator;
  coverText: Partial<Record<Locale, string>>;
  /** Ids older than this are not attempted: Telegram refuses after 48 h (S2). */
  messageTrackHours: number;
  now: () => Date;
  logger: Logger;
}

export function coverTextFor(deps: Pick<ExitDeps, "coverText" | "translator">, locale: Locale): string {
  return deps.coverText[locale] ?? deps.translator.t(locale, "exit.cover");
}

export async function wipeChat(deps: ExitDeps, address: Address, locale: Locale, opts: { cover: boolean; reason: string }): Promise<void> {
  const { channel: name, chatId } = splitAddress(address);
  const channel = deps.channels[name];
  await deps.store.markExitPending({ address, locale, cover: opts.cover }, deps.now());
  if (!channel) {
    // The channel is off in this process: the marker stays, the wipe finishes when it is back.
    deps.logger.warn("exit.channel_missing", { channel: name, reason: opts.reason });
    return;
  }
  const cutoff = deps.now().getTime() - deps.messageTrackHours * 3600_000;
  const refs = (await deps.store.trackedMessages(address)).filter((r) => r.at.getTime() >= cutoff);
  const result = await channel.deleteMessages(chatId, refs);
  // The session and the ids are forgotten while the cover goes out: neither waits for the other.
  // The marker stays until both are done, so a crash in between finishes the wipe at the next start.
  const cover = opts.cover
    ? channel.sendCover(chatId, coverTextFor(deps, locale), locale).catch(() => deps.logger.warn("exit.cover_failed", { channel: name }))
    : undefined;
  await Promise.all([deps.store.wipeChat(address), cover]);
  await deps.store.clearExitPending(address);
  deps.logger.info("exit.done", { channel: name, reason: opts.reason, count: result.attempted, failed: result.failed });
}

/** Finishes wipes that a crash interrupted (run at start, before updates are taken). */
export async function resumePendingExits(deps: ExitDeps): Promise<number> {
  const pending = await deps.store.pendingExits();
  for (const p of pending) {
    if (!deps.channels[splitAddress(p.address).channel]) continue;
    await wipeChat(deps, p.address, p.locale, { cover: p.cover, reason: "resume" });
  }
  return pending.length;
}
