/**
 * Quick exit and every other erasing (S1, S2, S3, S5; decision 9): delete
 * every message of the chat the channel can, forget the session, and leave one
 * harmless cover message.
 *
 * Deletion is durable work. A wipe starts by moving the chat's tracked ids
 * into its backlog, in the commit that writes its marker. An id leaves the
 * backlog only when the platform deleted it, refused it for good, or it is past
 * the 48 h window; a pass that meets a 5xx, a network failure or a flood wait
 * keeps the rest and a background pass tries again with backoff, across
 * restarts. The cover goes out after the first pass whatever it met, and
 * nothing about the retries is ever said to the person.
 *
 * While the first pass runs the chat is "erasing": what arrives then belongs
 * to what is being erased (its id joins the backlog, it is not answered). Each
 * wipe also bumps the chat's epoch, so an update that arrived before it and
 * still waits in the chat's queue sends and saves nothing (see dialog.ts).
 */
import type { Locale } from "../../config.ts";
import type { Logger } from "../../logger.ts";
import { describeError } from "../../logger.ts";
import type { Channel } from "../channel.ts";
import type { Translator } from "../i18n.ts";
import type { Store } from "../store.ts";
import { splitAddress, type Address, type ChannelName, type TrackedRef } from "../types.ts";

export interface EraserDeps {
  store: Store;
  channels: Partial<Record<ChannelName, Channel>>;
  translator: Translator;
  coverText: Partial<Record<Locale, string>>;
  /** Ids older than this are not attempted: Telegram refuses after 48 h (S2). */
  messageTrackHours: number;
  /** Longest wait between two passes of an unfinished wipe; a longer flood wait is cut to it. */
  retryMaxMs: number;
  now: () => Date;
  logger: Logger;
}

export interface Eraser {
  /** Bumped by every wipe of the chat: an update that arrived before it sends and saves nothing. */
  epoch(address: Address): number;
  /** The chat's wipe is in its first pass: what arrives now is erased with it, not answered. */
  erasing(address: Address): boolean;
  /** Wipes a chat: the first pass and the cover now, whatever is left in the background until done. */
  wipe(address: Address, locale: Locale, opts: { cover: boolean; reason: string }): Promise<void>;
  /** Ids that belong to a wipe but were seen only after it began; deleted like the rest of it. */
  adopt(address: Address, locale: Locale, refs: TrackedRef[]): Promise<void>;
  /** Finishes the wipes a crash or a long outage left (run at start, before updates are taken). */
  resume(): Promise<number>;
  /** Stops the background passes (those under way finish). */
  stop(): Promise<void>;
}

export function coverTextFor(deps: Pick<EraserDeps, "coverText" | "translator">, locale: Locale): string {
  return deps.coverText[locale] ?? deps.translator.t(locale, "exit.cover");
}

/** Wait before the next pass: doubling from 1 s, never more than `maxMs`, a flood wait honoured up to that. */
export function retryDelayMs(attempts: number, maxMs: number, retryAfterMs?: number): number {
  const base = Math.min(maxMs, 1000 * 2 ** Math.min(Math.max(attempts - 1, 0), 16));
  const jittered = base / 2 + Math.random() * (base / 2);
  return Math.max(jittered, Math.min(retryAfterMs ?? 0, maxMs));
}

type PassResult = { retry: number; retryAfterMs?: number; cover: boolean };

/** How long start waits for unfinished wipes, and shutdown for passes in flight. */
export const RESUME_WAIT_MS = 10_000;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

export function createEraser(deps: EraserDeps): Eraser {
  const { store, logger } = deps;
  const epochs = new Map<Address, number>();
  const erasingNow = new Set<Address>();
  /** Ids adopted while a chat's first pass ran (their commits): only those chats need a second pass, after them. */
  const lateIds = new Map<Address, Promise<unknown>[]>();
  /** One pass at a time per chat: a background pass never overlaps the wipe's own (the cover goes once). */
  const lanes = new Map<Address, Promise<void>>();
  const timers = new Map<Address, NodeJS.Timeout>();
  let stopped = false;

  function inLane(address: Address, work: () => Promise<void>): Promise<void> {
    const prev = lanes.get(address) ?? Promise.resolve();
    const next = prev.then(work, work);
    const settled = next.catch(() => undefined);
    lanes.set(address, settled);
    void settled.then(() => {
      if (lanes.get(address) === settled) lanes.delete(address);
    });
    return next;
  }

  /**
   * Deletes what the backlog holds and, on the first pass, the chat's tracked ids (`took`); forgets
   * what is finished; sends the cover if it is owed.
   */
  async function pass(
    address: Address,
    locale: Locale,
    coverOwed: boolean,
    took: TrackedRef[] | null,
  ): Promise<PassResult> {
    const { channel: name, chatId } = splitAddress(address);
    const channel = deps.channels[name]!;
    const cutoff = deps.now().getTime() - deps.messageTrackHours * 3600_000;
    const backlog = await store.exitBacklog(address);
    const all = took ? [...new Map([...took, ...backlog].map((r) => [r.id, r])).values()] : backlog;
    const tooOld = all.filter((r) => r.at.getTime() < cutoff).map((r) => r.id);
    const live = all.filter((r) => r.at.getTime() >= cutoff);
    const res = live.length ? await channel.deleteMessages(chatId, live) : { done: [], retry: [] };
    // The cover does not wait for the commit that records what was finished (one turn of a busy
    // event loop); the pass ends when both are done, so the next pass reads a settled backlog. Once
    // sent, the cover is no longer owed, in the database too, before this pass ends: a restart after
    // a kill in a later pass must not send it twice. (A kill between the send and that commit still
    // can: the platform has no way to ask whether a message went out.)
    const coverSent = coverOwed
      ? channel.sendCover(chatId, coverTextFor(deps, locale), locale).then(
          () =>
            store.coverSent(address).then(
              () => true,
              // Not noted: the pass's settling notes it (the marker is still the wipe's).
              (err) => (logger.error("exit.cover_note_failed", { channel: name, ...describeError(err) }), true),
            ),
          (err) => (logger.warn("exit.cover_failed", { channel: name, ...describeError(err) }), false),
        )
      : Promise.resolve(false);
    const [sent] = await Promise.all([coverSent, store.settleExitPass(address, took, [...tooOld, ...res.done])]);
    // An id the channel did not report on is not finished.
    const done = new Set(res.done);
    return {
      retry: live.filter((r) => !done.has(r.id)).length,
      retryAfterMs: res.retryAfterMs,
      cover: coverOwed && !sent,
    };
  }

  /** After a pass: the wipe ends when nothing is left, else the next pass is booked (durably). */
  async function settle(
    address: Address,
    locale: Locale,
    res: PassResult,
    attempts: number,
    reason: string,
  ): Promise<void> {
    if (!res.retry && !res.cover) {
      if (await store.finishExit(address)) {
        if (attempts)
          logger.info("exit.finished", { channel: splitAddress(address).channel, reason, attempt: attempts });
        return;
      }
      // Ids joined the backlog meanwhile (an answer in flight): straight to another pass for them.
      await store.exitRetry(address, { cover: false, attempts, nextAt: deps.now() });
      schedule(address, locale, 0, attempts, reason);
      return;
    }
    const next = attempts + 1;
    const delay = retryDelayMs(next, deps.retryMaxMs, res.retryAfterMs);
    await store.exitRetry(address, {
      cover: res.cover,
      attempts: next,
      nextAt: new Date(deps.now().getTime() + delay),
    });
    logger.warn("exit.retry_later", {
      channel: splitAddress(address).channel,
      reason,
      count: res.retry,
      attempt: next,
      ms: Math.round(delay),
    });
    schedule(address, locale, delay, next, reason);
  }

  function schedule(address: Address, locale: Locale, delayMs: number, attempts: number, reason: string) {
    if (stopped) return;
    clearTimeout(timers.get(address));
    const timer = setTimeout(() => {
      timers.delete(address);
      void background(address, locale, attempts, reason);
    }, delayMs);
    timer.unref();
    timers.set(address, timer);
  }

  function background(address: Address, locale: Locale, attempts: number, reason: string): Promise<void> {
    return inLane(address, async () => {
      if (stopped || !deps.channels[splitAddress(address).channel]) return;
      const pending = (await store.pendingExits()).find((p) => p.address === address);
      if (!pending) return;
      // Cut short before its first pass's commit (a crash): the chat's tracked ids are all the wipe's.
      if (!pending.taken) await store.takeAllExitIds(address);
      const res = await pass(address, pending.locale, pending.cover, null);
      await settle(address, pending.locale, res, Math.max(attempts, pending.attempts), reason);
    }).catch((err) => {
      // The database failed: the marker is still there; try again later.
      logger.error("exit.pass_failed", { reason, ...describeError(err) });
      schedule(address, locale, deps.retryMaxMs, attempts + 1, reason);
    });
  }

  return {
    epoch: (address) => epochs.get(address) ?? 0,
    erasing: (address) => erasingNow.has(address),

    async wipe(address, locale, opts) {
      const name = splitAddress(address).channel;
      epochs.set(address, (epochs.get(address) ?? 0) + 1);
      erasingNow.add(address);
      try {
        // The marker commits at once with every write queued before it (a message tracked as it
        // arrived, a screen just sent): the first pass then reads them all.
        await store.beginExit({ address, locale, cover: opts.cover }, deps.now());
        if (!deps.channels[name]) {
          // The channel is off in this process: the marker stays, the wipe finishes when it is back.
          logger.warn("exit.channel_missing", { channel: name, reason: opts.reason });
          return;
        }
        await inLane(address, async () => {
          lateIds.delete(address);
          // Every id of the conversation is tracked now: the marker's commit took in what was queued.
          const first = await pass(address, locale, opts.cover, await store.trackedMessages(address));
          // From here what arrives is the next conversation. What arrived during the first pass was
          // added to the backlog: one more pass takes it, once those additions are committed.
          erasingNow.delete(address);
          const late = lateIds.get(address);
          lateIds.delete(address);
          if (late) await Promise.allSettled(late);
          const last = late ? await pass(address, locale, first.cover, null) : first;
          await settle(address, locale, last, 0, opts.reason);
          logger.info("exit.done", { channel: name, reason: opts.reason, failed: last.retry });
        });
      } finally {
        erasingNow.delete(address);
      }
    },

    async adopt(address, locale, refs) {
      if (!refs.length) return;
      const added = store.addToExit(address, locale, refs, deps.now());
      if (erasingNow.has(address)) lateIds.set(address, [...(lateIds.get(address) ?? []), added]);
      await added;
      // Deleted at once when the wipe is over; otherwise its own second pass takes them.
      if (!erasingNow.has(address)) schedule(address, locale, 0, 0, "late");
    },

    async resume() {
      const pending = (await store.pendingExits()).filter((p) => deps.channels[splitAddress(p.address).channel]);
      // All at once, each in its chat's lane. Start waits for them only so long: during an outage
      // the bot must still start, and what is left goes on in the background.
      const passes = Promise.allSettled(pending.map((p) => background(p.address, p.locale, p.attempts, "resume")));
      await Promise.race([passes, sleep(RESUME_WAIT_MS)]);
      return pending.length;
    },

    async stop() {
      stopped = true;
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
      // A pass in flight finishes, or is left to the next start (its marker is kept).
      await Promise.race([Promise.allSettled([...lanes.values()]), sleep(RESUME_WAIT_MS)]);
    },
  };
}
