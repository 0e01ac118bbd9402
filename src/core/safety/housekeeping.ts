/**
 * Time-driven chores of the core. Each works out what is due from stored
 * timestamps, so a late, missed or repeated run handles each item once (O1).
 */
import type { Locale } from "../../config.ts";
import type { ChatStore, TimedDeleteStore } from "../store.ts";
import type { Channel } from "../channel.ts";
import { splitAddress, type Address, type ChannelName } from "../types.ts";

/**
 * Auto-erase: a chat whose owner asked for it is wiped after that many
 * minutes of silence, as if they had pressed exit.
 */
export async function runAutoErase(deps: {
  store: Pick<ChatStore, "dueAutoErase">;
  now: () => Date;
  wipe: (address: Address, locale: Locale, reason: string) => Promise<void>;
}): Promise<number> {
  const due = await deps.store.dueAutoErase(deps.now());
  for (const d of due) await deps.wipe(d.address, d.locale, "auto-erase");
  return due.length;
}

/**
 * Retention (P7): sessions are forgotten after `sessionTtlHours` of silence,
 * message ids once Telegram no longer lets them be deleted.
 */
export async function runRetention(deps: {
  store: Pick<ChatStore, "purgeExpired">;
  now: () => Date;
  limits: { sessionTtlHours: number; messageTrackHours: number };
}): Promise<{ sessions: number; messages: number }> {
  return deps.store.purgeExpired(deps.now(), deps.limits);
}

/**
 * Deletes messages whose time is up (shown staff replies, S8). An id is forgotten only when the
 * deletion is finished (decision 9); one the platform failed for now is tried again a minute
 * later, until it is finished or too old to delete.
 */
export async function runExpiry(deps: {
  store: TimedDeleteStore;
  now: () => Date;
  channels: Partial<Record<ChannelName, Channel>>;
}): Promise<number> {
  let count = 0;
  for (const { address, ids } of await deps.store.dueDeletes(deps.now())) {
    const { channel, chatId } = splitAddress(address);
    const ch = deps.channels[channel];
    if (!ch) continue;
    const res = await ch.deleteMessages(
      chatId,
      ids.map((id) => ({ id, fromBot: true, at: deps.now() })),
    );
    await deps.store.doneDeletes(address, res.done);
    await deps.store.laterDeletes(
      address,
      res.retry,
      new Date(deps.now().getTime() + Math.max(60_000, res.retryAfterMs ?? 0)),
    );
    count += res.done.length;
  }
  return count;
}
