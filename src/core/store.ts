/**
 * What the core needs from storage. `src/db/store.ts` implements it on Prisma;
 * the core never imports Prisma.
 */
import type { Locale } from "../config.ts";
import type { Address, Country, Option, TrackedRef } from "./types.ts";

/** Dialog state kept between messages. Bump `v` when its shape changes: old states are dropped. */
export interface DialogState {
  v: 1;
  /** The screen last shown. */
  screen: string;
  /** Changes with every screen; buttons carry it so a button from an old message is recognised. */
  nonce: string;
  /** The options last shown, so a press, a number or the words resolve against them. */
  options: Option[];
  page?: number;
  regionId?: string;
  /** Search results (ids and rounded distances, never the shared location). */
  results?: Array<{ id: string; km: number | null }>;
  offset?: number;
  /** Whether the results came from a shared location (then "nothing near" applies). */
  fromLocation?: boolean;
  title?: string;
}

export const STATE_VERSION = 1;

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

export interface PendingExit {
  address: Address;
  locale: Locale;
  cover: boolean;
}

export interface Store {
  getSession(address: Address): Promise<SessionRecord | null>;
  /** Saves the session and, in the same transaction, tracks these message ids (one commit per screen). */
  saveSession(session: SessionRecord, refs?: TrackedRef[]): Promise<void>;
  trackMessages(address: Address, refs: TrackedRef[]): Promise<void>;
  trackedMessages(address: Address): Promise<TrackedRef[]>;
  /** Written before a wipe starts (S2); committed at once, not with the turn's other writes. */
  markExitPending(exit: PendingExit, at: Date): Promise<void>;
  pendingExits(): Promise<PendingExit[]>;
  /** Removes the session and every tracked message id of a chat. */
  wipeChat(address: Address): Promise<void>;
  clearExitPending(address: Address): Promise<void>;
  /** Sessions whose auto-erase time has passed. */
  dueAutoErase(now: Date): Promise<Array<{ address: Address; locale: Locale }>>;
  /**
   * Records an update id; false if it was already seen (R1: redelivered updates do nothing twice).
   * `urgent` (a quick exit) commits at once instead of with the turn's other writes.
   */
  firstSeen(key: string, at: Date, urgent?: boolean): Promise<boolean>;
  /** Messages to delete at a set time (S8). */
  scheduleDelete(address: Address, messageIds: string[], at: Date): Promise<void>;
  /** Due deletions, grouped by chat; `done` forgets them. */
  dueDeletes(now: Date): Promise<Array<{ address: Address; ids: string[] }>>;
  doneDeletes(address: Address, ids: string[]): Promise<void>;
  /** Retention (P7): forgets idle sessions and message ids too old to delete. */
  purgeExpired(now: Date, limits: { sessionTtlHours: number; messageTrackHours: number }): Promise<{ sessions: number; messages: number }>;
}
