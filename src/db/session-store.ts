/**
 * The hot path of every update (sessions, message ids, update dedupe, timed
 * deletions) on prepared better-sqlite3 statements. The benchmark showed
 * Prisma's per-query cost dominating the bot's CPU; these tables are simple
 * and touched on every message, so they skip it. Writes go through the
 * group-committing `write` (see hot.ts); the purges of the nightly job through
 * `retrying`, alone.
 */
import { isLocale } from "../config.ts";
import type { SessionRecord, Store } from "../core/store.ts";
import { STATE_VERSION, type DialogState } from "../core/store.ts";
import type { Address, Country, TrackedRef } from "../core/types.ts";
import { retrying, type HotDb, type WalSync, type Writer } from "./hot.ts";

const HOUR = 3600_000;
// Prisma's adapter stores DateTime as ISO text; this store reads and writes the same form.
const iso = (d: Date) => d.toISOString();
const date = (s: string) => new Date(s);

/**
 * Sessions read lately, kept in memory so a person's next press needs no read (the benchmark found
 * the read among the larger costs of a message). At most this many, the least recently used
 * dropped first. The cache changes only inside the writes that change the table, in their commit
 * order, so it never holds what the database does not: a wipe drops the entry in its own write.
 */
export const SESSION_CACHE = 2000;

function parseState(raw: string): DialogState | null {
  try {
    const s = JSON.parse(raw) as DialogState;
    return s && s.v === STATE_VERSION ? s : null;
  } catch {
    return null;
  }
}

export function createSqliteStore(opened: { hot: HotDb; walSync: WalSync; write: Writer }): Store {
  const { hot: db, walSync, write } = opened;

  const q = {
    getSession: db.prepare("SELECT * FROM sessions WHERE chat = ?"),
    upsertSession: db.prepare(
      `INSERT INTO sessions (chat, locale, country, state, auto_erase_minutes, limits_shown, last_seen_at, created_at)
       VALUES (@chat, @locale, @country, @state, @auto, @limits, @seen, @created)
       ON CONFLICT(chat) DO UPDATE SET locale = excluded.locale, country = excluded.country, state = excluded.state,
         auto_erase_minutes = excluded.auto_erase_minutes, limits_shown = excluded.limits_shown, last_seen_at = excluded.last_seen_at`,
    ),
    track: db.prepare("INSERT OR IGNORE INTO tracked_messages (chat, message_id, from_bot, sent_at) VALUES (?, ?, ?, ?)"),
    tracked: db.prepare("SELECT message_id, from_bot, sent_at FROM tracked_messages WHERE chat = ? ORDER BY sent_at"),
    // A new exit on a chat whose wipe is still being retried merges into it: the cover stays owed if
    // it was, and the chat's tracked ids (the conversation since) are to be taken again.
    markExit: db.prepare(
      `INSERT INTO exit_pending (chat, locale, cover, attempts, next_at, ids_taken, created_at) VALUES (?, ?, ?, 0, NULL, 0, ?)
       ON CONFLICT(chat) DO UPDATE SET locale = excluded.locale, cover = max(cover, excluded.cover), attempts = 0, next_at = NULL, ids_taken = 0`,
    ),
    lateExit: db.prepare("INSERT INTO exit_pending (chat, locale, cover, attempts, next_at, ids_taken, created_at) VALUES (?, ?, 0, 0, NULL, 1, ?) ON CONFLICT(chat) DO NOTHING"),
    takeTracked: db.prepare("INSERT OR IGNORE INTO exit_deletes (chat, message_id, from_bot, sent_at) SELECT chat, message_id, from_bot, sent_at FROM tracked_messages WHERE chat = ?"),
    addExitId: db.prepare("INSERT OR IGNORE INTO exit_deletes (chat, message_id, from_bot, sent_at) VALUES (?, ?, ?, ?)"),
    backlog: db.prepare("SELECT message_id, from_bot, sent_at FROM exit_deletes WHERE chat = ? ORDER BY sent_at"),
    forgetExitIds: db.prepare("DELETE FROM exit_deletes WHERE chat = ? AND message_id IN (SELECT value FROM json_each(?))"),
    forgetTracked: db.prepare("DELETE FROM tracked_messages WHERE chat = ? AND message_id IN (SELECT value FROM json_each(?))"),
    taken: db.prepare("UPDATE exit_pending SET ids_taken = 1 WHERE chat = ?"),
    exitRetry: db.prepare("UPDATE exit_pending SET cover = ?, attempts = ?, next_at = ? WHERE chat = ?"),
    finishExit: db.prepare("DELETE FROM exit_pending WHERE chat = ? AND ids_taken = 1 AND NOT EXISTS (SELECT 1 FROM exit_deletes WHERE chat = ?)"),
    hasExit: db.prepare("SELECT 1 FROM exit_pending WHERE chat = ?").pluck(),
    pendingExits: db.prepare("SELECT chat, locale, cover, attempts, next_at, ids_taken FROM exit_pending ORDER BY created_at"),
    wipeSession: db.prepare("DELETE FROM sessions WHERE chat = ?"),
    wipeTracked: db.prepare("DELETE FROM tracked_messages WHERE chat = ?"),
    wipeExpiring: db.prepare("DELETE FROM expiring_messages WHERE chat = ?"),
    autoErase: db.prepare("SELECT chat, locale, auto_erase_minutes, last_seen_at FROM sessions WHERE auto_erase_minutes IS NOT NULL"),
    purgeSessions: db.prepare("DELETE FROM sessions WHERE last_seen_at < ?"),
    purgeTracked: db.prepare("DELETE FROM tracked_messages WHERE sent_at < ?"),
    purgeExitIds: db.prepare("DELETE FROM exit_deletes WHERE sent_at < ?"),
    // A timed deletion's message was shown at most a few hours before its time: past the window after this.
    purgeExpiring: db.prepare("DELETE FROM expiring_messages WHERE delete_at < ?"),
    purgeUpdates: db.prepare("DELETE FROM processed_updates WHERE at < ?"),
    firstSeen: db.prepare("INSERT OR IGNORE INTO processed_updates (key, at) VALUES (?, ?)"),
    schedule: db.prepare("INSERT INTO expiring_messages (chat, message_id, delete_at) VALUES (?, ?, ?)"),
    due: db.prepare("SELECT chat, message_id FROM expiring_messages WHERE delete_at <= ? ORDER BY id LIMIT 1000"),
    doneDelete: db.prepare("DELETE FROM expiring_messages WHERE chat = ? AND message_id = ?"),
    laterDelete: db.prepare("UPDATE expiring_messages SET delete_at = ? WHERE chat = ? AND message_id = ?"),
  };
  const cache = new Map<string, SessionRecord>();
  const remember = (s: SessionRecord) => {
    cache.delete(s.address);
    cache.set(s.address, s);
    if (cache.size > SESSION_CACHE) cache.delete(cache.keys().next().value!);
  };
  const track = (address: string, refs: TrackedRef[]) => {
    for (const r of refs) q.track.run(address, r.id, r.fromBot ? 1 : 0, iso(r.at));
  };
  const trackMany = db.transaction(track);
  const saveAndTrack = db.transaction((row: Record<string, unknown>, address: string, refs: TrackedRef[]) => {
    q.upsertSession.run(row);
    track(address, refs);
  });
  /**
   * What a pass of a wipe learnt, in one commit: ids it took from the chat's conversation leave
   * tracked_messages (those not finished join the backlog), with the session and the timed
   * deletions; finished backlog ids are forgotten.
   */
  const settlePass = db.transaction((address: string, took: TrackedRef[] | null, finished: string[]) => {
    if (took) {
      const done = new Set(finished);
      q.forgetTracked.run(address, JSON.stringify(took.map((r) => r.id)));
      for (const r of took) if (!done.has(r.id)) q.addExitId.run(address, r.id, r.fromBot ? 1 : 0, iso(r.at));
      q.taken.run(address);
      cache.delete(address);
      q.wipeSession.run(address);
      q.wipeExpiring.run(address);
    }
    if (finished.length) q.forgetExitIds.run(address, JSON.stringify(finished));
  });
  /** After a crash before the first pass's commit: the whole conversation is the wipe's (the chat was erasing). */
  const takeAll = db.transaction((address: string) => {
    q.takeTracked.run(address);
    q.wipeTracked.run(address);
    q.taken.run(address);
    cache.delete(address);
    q.wipeSession.run(address);
    q.wipeExpiring.run(address);
  });
  const addToExit = db.transaction((address: string, locale: string, refs: TrackedRef[], at: Date) => {
    q.lateExit.run(address, locale, iso(at));
    for (const r of refs) q.addExitId.run(address, r.id, r.fromBot ? 1 : 0, iso(r.at));
  });
  const laterMany = db.transaction((address: string, ids: string[], at: Date) => {
    for (const id of ids) q.laterDelete.run(iso(at), address, id);
  });
  const scheduleMany = db.transaction((address: string, ids: string[], at: Date) => {
    for (const id of ids) q.schedule.run(address, id, iso(at));
  });
  const doneMany = db.transaction((address: string, ids: string[]) => {
    for (const id of ids) q.doneDelete.run(address, id);
  });

  type Row = { chat: string; locale: string | null; country: string | null; state: string; auto_erase_minutes: number | null; limits_shown: number; last_seen_at: string; created_at: string };
  return {
    async getSession(address) {
      const hit = cache.get(address);
      // A copy: the caller changes its fields before saving, and a save that fails must not show.
      if (hit) {
        remember(hit);
        return { ...hit };
      }
      const row = q.getSession.get(address) as Row | undefined;
      if (!row) return null;
      const s: SessionRecord = {
        address: row.chat as Address,
        locale: isLocale(row.locale) ? row.locale : null,
        country: row.country === "KZ" || row.country === "KG" ? (row.country as Country) : null,
        state: parseState(row.state),
        autoEraseMinutes: row.auto_erase_minutes,
        limitsShown: !!row.limits_shown,
        lastSeenAt: date(row.last_seen_at),
        createdAt: date(row.created_at),
      };
      remember(s);
      return { ...s };
    },
    async saveSession(s, refs = []) {
      const row = { chat: s.address, locale: s.locale, country: s.country, state: JSON.stringify(s.state ?? {}), auto: s.autoEraseMinutes, limits: s.limitsShown ? 1 : 0, seen: iso(s.lastSeenAt), created: iso(s.createdAt) };
      // As a read would give it back. The state object is shared, not copied: screens replace it whole.
      const saved: SessionRecord = { ...s, state: s.state?.v === STATE_VERSION ? s.state : null };
      try {
        await write(() => {
          if (refs.length) saveAndTrack(row, s.address, refs);
          else q.upsertSession.run(row);
          remember(saved);
        });
      } catch (err) {
        // Not saved, or the commit failed after the write ran: the next read goes to the database.
        cache.delete(s.address);
        throw err;
      }
    },
    async trackMessages(address, refs) {
      // Usually one id: a plain insert is its own transaction, without BEGIN and COMMIT around it.
      if (refs.length) await write(() => (refs.length === 1 ? track(address, refs) : trackMany(address, refs)));
    },
    async trackedMessages(address) {
      return (q.tracked.all(address) as Array<{ message_id: string; from_bot: number; sent_at: string }>).map((r) => ({ id: r.message_id, fromBot: !!r.from_bot, at: date(r.sent_at) }));
    },
    async beginExit(exit, at) {
      // The marker alone, at once: one small commit, not one that rewrites the chat's pages (the
      // ids follow with the pass's own write, batched with other chats' writes).
      await write.now(() => q.markExit.run(exit.address, exit.locale, exit.cover ? 1 : 0, iso(at)));
      // A kill cannot lose it (NORMAL); the wipe does not wait for the disk, which only a power cut would need.
      walSync().catch(() => undefined);
    },
    async takeAllExitIds(address) {
      await write(() => takeAll(address));
    },
    async addToExit(address, locale, refs, at) {
      if (refs.length) await write.now(() => addToExit(address, locale, refs, at));
    },
    async exitBacklog(address) {
      return (q.backlog.all(address) as Array<{ message_id: string; from_bot: number; sent_at: string }>).map((r) => ({ id: r.message_id, fromBot: !!r.from_bot, at: date(r.sent_at) }));
    },
    async settleExitPass(address, took, finished) {
      if (took || finished.length) await write(() => settlePass(address, took, finished));
    },
    async exitRetry(address, left) {
      await write(() => q.exitRetry.run(left.cover ? 1 : 0, left.attempts, iso(left.nextAt), address));
    },
    async finishExit(address) {
      return (await write(() => q.finishExit.run(address, address))).changes === 1;
    },
    async pendingExits() {
      return (q.pendingExits.all() as Array<{ chat: string; locale: string; cover: number; attempts: number; next_at: string | null; ids_taken: number }>).map((r) => ({
        address: r.chat as Address,
        locale: isLocale(r.locale) ? r.locale : "ru",
        cover: !!r.cover,
        attempts: r.attempts,
        nextAt: r.next_at ? date(r.next_at) : null,
        taken: !!r.ids_taken,
      }));
    },
    async hasPendingExit(address) {
      return q.hasExit.get(address) !== undefined;
    },
    async dueAutoErase(now) {
      return (q.autoErase.all() as Array<{ chat: string; locale: string | null; auto_erase_minutes: number; last_seen_at: string }>)
        .filter((r) => date(r.last_seen_at).getTime() + r.auto_erase_minutes * 60_000 <= now.getTime())
        .map((r) => ({ address: r.chat as Address, locale: isLocale(r.locale) ? r.locale : "ru" }));
    },
    async purgeExpired(now, limits) {
      const sessions = (await retrying(() => {
        cache.clear();
        return q.purgeSessions.run(iso(new Date(now.getTime() - limits.sessionTtlHours * HOUR)));
      })).changes;
      const tooOld = iso(new Date(now.getTime() - limits.messageTrackHours * HOUR));
      const messages = (await retrying(() => q.purgeTracked.run(tooOld))).changes;
      // A wipe's ids past the window can never be deleted: the wipe's next pass then ends it.
      await retrying(() => q.purgeExitIds.run(tooOld));
      await retrying(() => q.purgeExpiring.run(tooOld));
      await retrying(() => q.purgeUpdates.run(iso(new Date(now.getTime() - 7 * 24 * HOUR))));
      return { sessions, messages };
    },
    async firstSeen(key, at, urgent = false) {
      const insert = () => q.firstSeen.run(key, iso(at));
      return (await (urgent ? write.now(insert) : write(insert))).changes === 1;
    },
    async scheduleDelete(address, ids, at) {
      // A shown staff reply must be deleted on time even after a power cut: durable like the queue.
      if (ids.length) {
        await write(() => scheduleMany(address, ids, at));
        await walSync();
      }
    },
    async dueDeletes(now) {
      const by = new Map<string, string[]>();
      for (const r of q.due.all(iso(now)) as Array<{ chat: string; message_id: string }>) by.set(r.chat, [...(by.get(r.chat) ?? []), r.message_id]);
      return [...by].map(([address, ids]) => ({ address: address as Address, ids }));
    },
    async doneDeletes(address, ids) {
      if (ids.length) await write(() => doneMany(address, ids));
    },
    async laterDeletes(address, ids, at) {
      if (ids.length) await write(() => laterMany(address, ids, at));
    },
  };
}
