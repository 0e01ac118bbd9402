/**
 * The hot path of every update (sessions, message ids, update dedupe, timed
 * deletions) on prepared better-sqlite3 statements. The benchmark showed
 * Prisma's per-query cost dominating the bot's CPU; these tables are simple
 * and touched on every message, so they skip it. Writes go through the
 * group-committing `write` (see hot.ts); the purges of the nightly job through
 * `retrying`, alone.
 */
import { sqlDate } from "./dates.ts";
import { prepareSessionStatements } from "./session-statements.ts";
import { isLocale } from "../config.ts";
import type { SessionRecord, Store } from "../core/store.ts";
import { STATE_VERSION, type DialogState } from "../core/store.ts";
import type { Address, Country, TrackedRef } from "../core/types.ts";
import type { Sealer } from "../core/safety/sealer.ts";
import type { Statement } from "better-sqlite3";
import { atomic, retrying, type HotDb, type WalSync, type Writer } from "./hot.ts";
import { recentMap } from "./recent.ts";
import { lateScreens, onlyScreen } from "./late-screens.ts";
import type { Checkpoints } from "./checkpoints.ts";

const HOUR = 3600_000;
// Prisma's adapter stores DateTime as ISO text; this store reads and writes the same form.
const iso = sqlDate;
const date = (s: string) => new Date(s);

/**
 * Sessions read lately, kept in memory so a person's next press needs no read (the benchmark found
 * the read among the larger costs of a message). At most this many, the least recently used
 * dropped first. The cache changes inside the writes that change the table, in their commit order,
 * so it holds nothing the database will not: a wipe drops the entry in its own write. The one
 * exception is a screen written late (late-screens.ts): memory has it first, and the row follows.
 */
export const SESSION_CACHE = 2000;

function parseState(raw: string, sealer: Sealer): DialogState | null {
  try {
    const s = JSON.parse(sealer.open(raw)) as DialogState;
    return s && s.v === STATE_VERSION ? s : null;
  } catch {
    return null;
  }
}

/**
 * Records update ids (R1): the ids of one moment (a fetched batch starts all its updates at once)
 * are committed together in a microtask, before any of those updates goes on; resolves false for
 * an id seen before. They used to go with the writer's batch at the end of the event loop's turn,
 * which held every update back behind all the turn's other callbacks: at everyday load 1.5 ms at
 * the median before anything else happened (bench/README.md). The commit is a page or two, once
 * per poll of Telegram rather than once per update (in webhook mode, where each update comes in a
 * request of its own, once per update).
 */
function updateRecorder(
  db: HotDb,
  insert: Statement<[string, string]>,
  write: Writer,
): (key: string, at: string, urgent: boolean) => Promise<boolean> {
  type Waiting = {
    key: string;
    at: string;
    urgent: boolean;
    resolve: (fresh: boolean) => void;
    reject: (err: unknown) => void;
  };
  let waiting: Waiting[] = [];
  const together = db.transaction((ops: Waiting[]) => ops.map((o) => insert.run(o.key, o.at).changes));
  const record = () => {
    const ops = waiting;
    waiting = [];
    let changes: number[];
    try {
      changes = ops.length === 1 ? [insert.run(ops[0]!.key, ops[0]!.at).changes] : together.immediate(ops);
    } catch {
      // Another connection holds the write lock this moment (or the commit failed): nothing was
      // recorded, and each id goes through the writer, which waits for the lock (D2) and says what
      // failed. `urgent` (a quick exit) commits there at once instead of with the turn's writes.
      for (const o of ops) {
        const one = () => insert.run(o.key, o.at);
        (o.urgent ? write.now(one) : write(one)).then((r) => o.resolve(r.changes === 1), o.reject);
      }
      return;
    }
    ops.forEach((o, i) => o.resolve(changes[i] === 1));
  };
  return (key, at, urgent) =>
    new Promise<boolean>((resolve, reject) => {
      waiting.push({ key, at, urgent, resolve, reject });
      if (waiting.length === 1) queueMicrotask(record);
    });
}

/**
 * Rows are keyed by the chat key (Sealer.chatKey), never the address. The address is kept sealed
 * only where the bot must reach the chat without being written to: a wipe, a timed deletion, a
 * session with auto-erase on. Dialog states are sealed.
 */
export interface SqliteStore extends Store {
  /**
   * Before the database closes: writes the screens still waiting in memory (late-screens.ts), and
   * every later save at once.
   */
  close(): Promise<void>;
}

export function createSqliteStore(
  opened: {
    hot: HotDb;
    walSync: WalSync;
    write: Writer;
    sealer: Sealer;
    checkpoints: Checkpoints;
  },
  opts: { sessionWriteMs?: number; onLateWriteFailed?: (err: unknown) => void } = {},
): SqliteStore {
  const { hot: db, walSync, write, sealer } = opened;
  const key = (address: string) => sealer.chatKey(address);
  const addressOf = (handle: string | null): Address | null => {
    if (!handle) return null;
    try {
      return sealer.open(handle) as Address;
    } catch {
      return null;
    }
  };
  /**
   * After a wipe, the write-ahead log still holds the wiped pages until a checkpoint: it is
   * checkpointed and truncated soon after the last wipe, off the bot's thread (checkpoints.ts); the
   * main file's are zeroed by secure_delete.
   */
  const checkpointSoon = opened.checkpoints.truncateSoon;

  const q = prepareSessionStatements(db);
  const recordSeen = updateRecorder(db, q.firstSeen, write);

  const cache = recentMap<string, SessionRecord>(SESSION_CACHE);
  const remember = (s: SessionRecord) => cache.set(s.address, s);
  const rowOf = (s: SessionRecord) => ({
    chat: key(s.address),
    handle: s.autoEraseMinutes === null ? null : sealer.seal(s.address),
    locale: s.locale,
    country: s.country,
    state: sealer.seal(JSON.stringify(s.state ?? {})),
    auto: s.autoEraseMinutes,
    limits: s.limitsShown ? 1 : 0,
    seen: iso(s.lastSeenAt),
    created: iso(s.createdAt),
  });
  const late = lateScreens(write, (s) => q.upsertSession.run(rowOf(s)), {
    waitMs: opts.sessionWriteMs,
    onFailed: opts.onLateWriteFailed,
  });
  /** `chat`: the chat key. */
  const track = (chat: string, refs: TrackedRef[]) => {
    for (const r of refs) q.track.run(chat, r.id, r.fromBot ? 1 : 0, iso(r.at));
  };
  const trackMany = atomic(db, track);
  /** Message ids, with the writer's batch; usually one: a plain insert, its own transaction without BEGIN. */
  const trackNow = async (chat: string, refs: TrackedRef[]) => {
    if (refs.length) await write(() => (refs.length === 1 ? track(chat, refs) : trackMany(chat, refs)));
  };
  const saveAndTrack = atomic(db, (row: Record<string, unknown>, chat: string, refs: TrackedRef[]) => {
    q.upsertSession.run(row);
    track(chat, refs);
  });
  /**
   * What a pass of a wipe learnt, in one commit: ids it took from the chat's conversation leave
   * tracked_messages (those not finished join the backlog), with the session and the timed
   * deletions; finished backlog ids are forgotten.
   */
  const settlePass = db.transaction((address: string, chat: string, took: TrackedRef[] | null, finished: string[]) => {
    if (took) {
      const done = new Set(finished);
      q.forgetTracked.run(chat, JSON.stringify(took.map((r) => r.id)));
      for (const r of took) if (!done.has(r.id)) q.addExitId.run(chat, r.id, r.fromBot ? 1 : 0, iso(r.at));
      q.taken.run(chat);
      cache.delete(address);
      late.drop(address);
      q.wipeSession.run(chat);
      q.wipeExpiring.run(chat);
    }
    if (finished.length) q.forgetExitIds.run(chat, JSON.stringify(finished));
  });
  /** After a crash before the first pass's commit: the whole conversation is the wipe's (the chat was erasing). */
  const takeAll = db.transaction((address: string, chat: string) => {
    q.takeTracked.run(chat);
    q.wipeTracked.run(chat);
    q.taken.run(chat);
    cache.delete(address);
    late.drop(address);
    q.wipeSession.run(chat);
    q.wipeExpiring.run(chat);
  });
  const addToExit = db.transaction((address: string, locale: string, refs: TrackedRef[], at: Date) => {
    const chat = key(address);
    q.lateExit.run(chat, sealer.seal(address), locale, iso(at));
    for (const r of refs) q.addExitId.run(chat, r.id, r.fromBot ? 1 : 0, iso(r.at));
  });
  const laterMany = db.transaction((chat: string, ids: string[], at: Date) => {
    for (const id of ids) q.laterDelete.run(iso(at), chat, id);
  });
  const scheduleMany = db.transaction((address: string, ids: string[], at: Date) => {
    const chat = key(address);
    const handle = sealer.seal(address);
    for (const id of ids) q.schedule.run(chat, handle, id, iso(at));
  });
  const doneMany = db.transaction((chat: string, ids: string[]) => {
    for (const id of ids) q.doneDelete.run(chat, id);
  });

  type Row = {
    chat: string;
    locale: string | null;
    country: string | null;
    state: string;
    auto_erase_minutes: number | null;
    limits_shown: number;
    last_seen_at: string;
    created_at: string;
  };
  return {
    async getSession(address) {
      const hit = cache.get(address) ?? late.get(address);
      // A copy: the caller changes its fields before saving, and a save that fails must not show.
      if (hit) return { ...hit };
      const row = q.getSession.get(key(address)) as Row | undefined;
      if (!row) return null;
      const s: SessionRecord = {
        address,
        locale: isLocale(row.locale) ? row.locale : null,
        country: row.country === "KZ" || row.country === "KG" ? (row.country as Country) : null,
        state: parseState(row.state, sealer),
        autoEraseMinutes: row.auto_erase_minutes,
        limitsShown: !!row.limits_shown,
        lastSeenAt: date(row.last_seen_at),
        createdAt: date(row.created_at),
      };
      remember(s);
      return { ...s };
    },
    async saveSession(s, refs = [], how = {}) {
      const chat = key(s.address);
      // As a read would give it back. The state object is shared, not copied: screens replace it whole.
      const saved: SessionRecord = { ...s, state: s.state?.v === STATE_VERSION ? s.state : null };
      // Only where the person is changed: the screen waits (late-screens.ts), its message ids do not.
      if (how.lazy && onlyScreen(late.get(s.address) ?? cache.get(s.address), saved) && late.hold(saved)) {
        remember(saved);
        return trackNow(chat, refs);
      }
      const row = rowOf(s);
      const superseded = late.get(s.address);
      try {
        await write(() => {
          if (refs.length) saveAndTrack(row, chat, refs);
          else q.upsertSession.run(row);
          if (superseded) late.drop(s.address, superseded);
          remember(saved);
        });
      } catch (err) {
        // Not saved, or the commit failed after the write ran: the next read goes to the database.
        cache.delete(s.address);
        throw err;
      }
    },
    trackMessages: (address, refs) => trackNow(key(address), refs),
    async trackedMessages(address) {
      return (q.tracked.all(key(address)) as Array<{ message_id: string; from_bot: number; sent_at: string }>).map(
        (r) => ({ id: r.message_id, fromBot: !!r.from_bot, at: date(r.sent_at) }),
      );
    },
    async beginExit(exit, at) {
      // The marker alone, at once: one small commit, not one that rewrites the chat's pages (the
      // ids follow with the pass's own write, batched with other chats' writes).
      const chat = key(exit.address);
      const handle = sealer.seal(exit.address);
      await write.now(() => q.markExit.run(chat, handle, exit.locale, exit.cover ? 1 : 0, iso(at)));
      // A kill cannot lose it (NORMAL); the wipe does not wait for the disk, which only a power cut would need.
      walSync().catch(() => undefined);
    },
    async takeAllExitIds(address) {
      const chat = key(address);
      await write(() => takeAll(address, chat));
      checkpointSoon();
    },
    async addToExit(address, locale, refs, at) {
      if (refs.length) await write.now(() => addToExit(address, locale, refs, at));
    },
    async exitBacklog(address) {
      return (q.backlog.all(key(address)) as Array<{ message_id: string; from_bot: number; sent_at: string }>).map(
        (r) => ({ id: r.message_id, fromBot: !!r.from_bot, at: date(r.sent_at) }),
      );
    },
    async settleExitPass(address, took, finished) {
      const chat = key(address);
      if (took || finished.length) await write(() => settlePass(address, chat, took, finished));
      if (took) checkpointSoon();
    },
    async coverSent(address) {
      const chat = key(address);
      await write(() => q.coverSent.run(chat));
    },
    async exitRetry(address, left) {
      const chat = key(address);
      await write(() => q.exitRetry.run(left.cover ? 1 : 0, left.attempts, iso(left.nextAt), chat));
    },
    async finishExit(address) {
      const chat = key(address);
      const ended = (await write(() => q.finishExit.run(chat, chat))).changes === 1;
      if (ended) checkpointSoon();
      return ended;
    },
    async pendingExits() {
      return (
        q.pendingExits.all() as Array<{
          handle_enc: string | null;
          locale: string;
          cover: number;
          attempts: number;
          next_at: string | null;
          ids_taken: number;
        }>
      ).flatMap((r) => {
        const address = addressOf(r.handle_enc);
        return address
          ? [
              {
                address,
                locale: isLocale(r.locale) ? r.locale : "ru",
                cover: !!r.cover,
                attempts: r.attempts,
                nextAt: r.next_at ? date(r.next_at) : null,
                taken: !!r.ids_taken,
              },
            ]
          : [];
      });
    },
    async hasPendingExit(address) {
      return q.hasExit.get(key(address)) !== undefined;
    },
    async dueAutoErase(now) {
      return (
        q.autoErase.all() as Array<{
          handle_enc: string | null;
          locale: string | null;
          auto_erase_minutes: number;
          last_seen_at: string;
        }>
      )
        .filter((r) => date(r.last_seen_at).getTime() + r.auto_erase_minutes * 60_000 <= now.getTime())
        .flatMap((r) => {
          const address = addressOf(r.handle_enc);
          return address ? [{ address, locale: isLocale(r.locale) ? r.locale : "ru" }] : [];
        });
    },
    async purgeExpired(now, limits) {
      const sessions = (
        await retrying(() => {
          cache.clear();
          return q.purgeSessions.run(iso(new Date(now.getTime() - limits.sessionTtlHours * HOUR)));
        })
      ).changes;
      const tooOld = iso(new Date(now.getTime() - limits.messageTrackHours * HOUR));
      const messages = (await retrying(() => q.purgeTracked.run(tooOld))).changes;
      // A wipe's ids past the window can never be deleted: the wipe's next pass then ends it.
      await retrying(() => q.purgeExitIds.run(tooOld));
      await retrying(() => q.purgeExpiring.run(tooOld));
      await retrying(() => q.purgeUpdates.run(iso(new Date(now.getTime() - 7 * 24 * HOUR))));
      checkpointSoon();
      return { sessions, messages };
    },
    firstSeen(key, at, urgent = false) {
      return recordSeen(key, iso(at), urgent);
    },
    async scheduleDelete(address, ids, at) {
      // A shown staff reply must be deleted on time even after a power cut: durable like the queue.
      if (ids.length) {
        await write(() => scheduleMany(address, ids, at));
        await walSync();
      }
    },
    async countSource(source, at) {
      await write(() => q.countSource.run(iso(at).slice(0, 10), source));
    },
    async sourceCounts(since, until) {
      return Object.fromEntries(
        (
          q.sourceCounts.all(iso(since).slice(0, 10), until ? iso(until).slice(0, 10) : "9999") as Array<{
            source: string;
            n: number;
          }>
        ).map((r) => [r.source, r.n]),
      );
    },
    async dueDeletes(now) {
      const by = new Map<string, { address: Address; ids: string[] }>();
      for (const r of q.due.all(iso(now)) as Array<{ chat: string; handle_enc: string | null; message_id: string }>) {
        const address = by.get(r.chat)?.address ?? addressOf(r.handle_enc);
        if (!address) continue; // cannot be reached: the nightly purge forgets it past the window
        by.set(r.chat, { address, ids: [...(by.get(r.chat)?.ids ?? []), r.message_id] });
      }
      return [...by.values()];
    },
    async doneDeletes(address, ids) {
      const chat = key(address);
      if (ids.length) await write(() => doneMany(chat, ids));
    },
    async laterDeletes(address, ids, at) {
      const chat = key(address);
      if (ids.length) await write(() => laterMany(chat, ids, at));
    },
    close: late.close,
  };
}
