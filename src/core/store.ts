/**
 * The chat and exit storage port: sessions, tracked message ids, quick exits in progress, timed
 * deletions, update dedupe, campaign counts and retention. `src/db/session-store.ts` implements it
 * on the message connection; the core never imports the database.
 */
import type { Locale } from "../config.ts";
import type { Address, Country, Option, TrackedRef } from "./types.ts";

/** Dialog state kept between messages. Bump `v` when its shape changes: old states are dropped. */
export interface DialogState {
  v: 2;
  /** The screen last shown. */
  screen: string;
  /** Changes with every screen; buttons carry it so a button from an old message is recognised. */
  nonce: string;
  /** The options last shown, so a press, a number or the words resolve against them. */
  options: Option[];
  page?: number;
  regionId?: string;
  /**
   * Search results: directory ids only. No distance and no point is kept (P1): three distances would
   * place a person who shared a location within a few km. Later pages of a shared location's results
   * show towns without distances; a picked town's are computed again from `placeId`.
   */
  results?: string[];
  /** The town or region picked from the list (not a shared location). */
  placeId?: string;
  offset?: number;
  /** Whether the results came from a shared location (then "nothing near" applies). */
  fromLocation?: boolean;
  title?: string;
}

export const STATE_VERSION = 2;

export interface SessionRecord {
  address: Address;
  locale: Locale | null;
  country: Country | null;
  state: DialogState | null;
  autoEraseMinutes: number | null;
  /** Whether the limits of erasing were explained before a first report (S4). */
  limitsShown: boolean;
  lastSeenAt: Date;
  createdAt: Date;
}

/** A wipe that is not finished: ids still to delete, or the cover still owed (S2, decision 9). */
export interface PendingExit {
  address: Address;
  locale: Locale;
  /** The harmless cover message is still owed. */
  cover: boolean;
  /** Passes that left something to retry. */
  attempts: number;
  /** When the next background pass is due. */
  nextAt: Date | null;
  /** The first pass took the chat's tracked ids (else a restart takes them). */
  taken: boolean;
}

/** Chats: sessions, the ids of their messages, update dedupe, campaign counts and retention. */
export interface ChatStore {
  getSession(address: Address): Promise<SessionRecord | null>;
  /**
   * Saves the session and, in the same transaction, tracks these message ids (one commit per screen).
   * `lazy` (a screen just shown): when only the state and the last seen changed, the ids are committed
   * at once and the session up to a second later, with the chat's next screens (reads see it at once).
   */
  saveSession(session: SessionRecord, refs?: TrackedRef[], how?: { lazy?: boolean }): Promise<void>;
  trackMessages(address: Address, refs: TrackedRef[]): Promise<void>;
  /** Ids tracked for the chat's current conversation (not those a wipe already took). */
  trackedMessages(address: Address): Promise<TrackedRef[]>;
  /** Sessions whose auto-erase time has passed. */
  dueAutoErase(now: Date): Promise<Array<{ address: Address; locale: Locale }>>;
  /**
   * Records an update id; false if it was already seen (R1: redelivered updates do nothing twice).
   * Committed at once, with the other ids of the same moment, before the caller goes on. When the
   * database is busy the id waits for the writer; `urgent` (a quick exit) then commits at once
   * instead of with the turn's other writes.
   */
  firstSeen(key: string, at: Date, urgent?: boolean): Promise<boolean>;
  /** A campaign source seen on this day (issue 17): an aggregate counter, tied to no chat. */
  countSource(source: string, at: Date): Promise<void>;
  /** Visits per source on the days from `since` up to (not including) the day of `until`. */
  sourceCounts(since: Date, until?: Date): Promise<Record<string, number>>;
  /** Retention (P7): forgets idle sessions and message ids too old to delete. */
  purgeExpired(
    now: Date,
    limits: { sessionTtlHours: number; messageTrackHours: number },
  ): Promise<{ sessions: number; messages: number }>;
}

/** Quick exits in progress (S2, decision 9): marked, worked through in passes, finished only when every id is gone and the cover sent. */
export interface ExitStore {
  /**
   * Starts a wipe (S2): its marker, committed at once after every write queued before it (a message
   * tracked as it arrived is in). `cover` is owed from now; the chat's tracked ids are the wipe's
   * until its first pass takes them (`settleExitPass`).
   */
  beginExit(exit: { address: Address; locale: Locale; cover: boolean }, at: Date): Promise<void>;
  /**
   * What a pass did, in one commit. `took`: the tracked ids the first pass read (they leave the
   * conversation; those not in `finished` join the backlog), and the session and the timed
   * deletions go with them (S5). `finished`: ids the platform deleted, refused for good, or too old.
   */
  settleExitPass(address: Address, took: TrackedRef[] | null, finished: string[]): Promise<void>;
  /**
   * The cover went out: noted as soon as it did, not when the pass is settled, so that a kill during
   * a later pass (ids that arrived while the first ran) does not send a second cover after the restart.
   */
  coverSent(address: Address): Promise<void>;
  /** After a crash before the first pass's commit: every tracked id of the chat joins the backlog. */
  takeAllExitIds(address: Address): Promise<void>;
  /**
   * Ids that belong to a wipe but were seen only after it began: an answer that was in flight, a
   * message that arrived while it ran. Starts a marker (no cover owed) if the wipe is already over.
   */
  addToExit(address: Address, locale: Locale, refs: TrackedRef[], at: Date): Promise<void>;
  /** The ids a wipe still has to delete. */
  exitBacklog(address: Address): Promise<TrackedRef[]>;
  /** What a pass left: whether the cover is still owed, and when to try again. */
  exitRetry(address: Address, left: { cover: boolean; attempts: number; nextAt: Date }): Promise<void>;
  /** Ends the wipe when no id is left (call it once the cover is sent); says whether it ended. */
  finishExit(address: Address): Promise<boolean>;
  pendingExits(): Promise<PendingExit[]>;
  /** Whether a wipe of this chat is still under way (a button on a message it is deleting is not answered). */
  hasPendingExit(address: Address): Promise<boolean>;
}

/** Messages to delete at a set time (a shown staff reply after 30 minutes, S8). */
export interface TimedDeleteStore {
  /** Messages to delete at a set time (S8). */
  scheduleDelete(address: Address, messageIds: string[], at: Date): Promise<void>;
  /** Due deletions, grouped by chat; `done` forgets them, `later` keeps them for the next run. */
  dueDeletes(now: Date): Promise<Array<{ address: Address; ids: string[] }>>;
  doneDeletes(address: Address, ids: string[]): Promise<void>;
  /** Deletions that failed for now are tried again at `at`. */
  laterDeletes(address: Address, ids: string[], at: Date): Promise<void>;
}

/** Everything the dialog stores about chats, as db/session-store.ts implements it: the ports above, together. */
export interface Store extends ChatStore, ExitStore, TimedDeleteStore {}
