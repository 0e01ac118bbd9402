/**
 * Reports, as the core sees them. Storage implements `ReportStore`
 * (src/db/reports.ts); texts and the way back to the reporter are sealed
 * there, so what the core hands over here is plain.
 */
import type { Locale } from "../../config.ts";
import type { Address, ChannelName, Country, Screen } from "../types.ts";

export const REPORT_KINDS = ["physical", "psychological", "sexual", "economic", "threats", "neglect"] as const;
export type ReportKind = (typeof REPORT_KINDS)[number];
export const ABOUT = ["self", "other", "child"] as const;
export type About = (typeof ABOUT)[number];
export const CONTACT = ["none", "any", "morning", "day", "evening"] as const;
export type Contact = (typeof CONTACT)[number];
/** Local hours of each contact window [from, to). */
export const CONTACT_HOURS: Record<Exclude<Contact, "none">, [number, number]> = {
  any: [0, 24],
  morning: [9, 12],
  day: [12, 18],
  evening: [18, 21],
};
export const OUTCOMES = ["helped", "referred", "unreachable", "duplicate", "not_real"] as const;
export type Outcome = (typeof OUTCOMES)[number];
export type Status = "new" | "taken" | "referred" | "closed";

/** A report being written, step by step (R7). */
export interface Draft {
  step: string;
  about?: About;
  kinds: ReportKind[];
  urgent?: boolean;
  regionId?: string | null;
  country?: Country | null;
  text?: string;
  /** References to photos sent as photos (a Telegram file id, a sealed WhatsApp message id). */
  photos?: string[];
  /** Voice notes, by the same kind of reference, with their length. */
  voices?: VoiceRef[];
  risk?: string; // "y" / "n" per answered question
  contact?: Contact;
  caseWord?: string | null;
  /** "callback": only "please write to me" (issue 16), asked where a service publishes no phone. */
  request?: "callback";
  updatedAt?: string;
}

export interface VoiceRef {
  ref: string;
  seconds: number;
}

/** What a report is, as written and as read back. */
interface ReportFields {
  id: string;
  code: string;
  channel: ChannelName;
  locale: Locale;
  country: Country | null;
  regionId: string | null;
  about: About;
  kinds: ReportKind[];
  urgent: boolean;
  highRisk: boolean;
  contact: Contact;
  staffChatId: number;
  /** "callback": a request to be written to, without a story (its text is empty). */
  request?: "callback" | null;
}

export interface NewReport extends ReportFields {
  riskAnswers: string | null;
  text: string;
  photos?: string[];
  voices?: VoiceRef[];
  caseWord: string | null;
}

export interface ReportRecord extends ReportFields {
  text: string | null;
  photos: number;
  voices: number;
  /** Photos and voice notes given up on (they could not be fetched or sent): the card says how many. */
  mediaMissing: number;
  /** The reporter stopped contact and may undo it (with the case word). */
  contactStopped: boolean;
  hasCaseWord: boolean;
  /** Too many wrong case words from her own chat: that chat cannot open it until then (decision 10). */
  wordLockedUntil: Date | null;
  /** Other chats used up their checks of the case word: they are refused unchecked until then. */
  othersLimitedUntil: Date | null;
  status: Status;
  takenBy: number | null;
  takenByName: string | null;
  referredTo: string | null;
  outcome: Outcome | null;
  cardMessageId: number | null;
  pingCount: number;
  lastPingAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  takenAt: Date | null;
  closedAt: Date | null;
}

export interface ReportMessageRecord {
  id: number;
  direction: "in" | "out";
  body: string;
  readAt: Date | null;
  createdAt: Date;
}

/** What the outbox delivers. Payloads carry ids, not content, except relayed messages (sealed). */
export type OutboxPayload =
  | { type: "card"; reportId: string }
  | { type: "card_edit"; reportId: string }
  | { type: "confirm"; reportId: string }
  | { type: "knock"; reportId: string }
  | { type: "to_staff"; reportId: string; messageId: number }
  | { type: "to_staff_photo"; reportId: string; ref: string; index: number; count: number }
  | { type: "to_staff_voice"; reportId: string; ref: string; index: number; count: number; seconds: number }
  /** `chart`: sent as the stats chart of the group with the text as its caption (the digest, issue 17). */
  | { type: "notice"; key: string; vars?: Record<string, string | number>; reportId?: string; chart?: boolean }
  /** A directory card for staff (issue 16): a phone waiting for confirmation (change id), or an entry due for its check. */
  | { type: "directory"; what: "confirm" | "check"; id: string; signals?: number }
  /**
   * An answer to a person that met a long flood wait (R3): sent by the outbox once the wait is over,
   * if the conversation it answers (`since`: its session's start) is still the chat's.
   */
  | { type: "answer"; address: string; screen: Screen; locale: Locale; since: string; expireMinutes?: number };

export interface OutboxItem {
  id: number;
  kind: OutboxPayload["type"];
  /** "staff:<chatId>" or "relay:<reportId>". */
  target: string;
  payload: OutboxPayload;
  attempts: number;
  /** The payload could not be opened (sealed with another key, or changed): given up at once. */
  unreadable?: true;
}

export interface RosterEntry {
  userId: number;
  name: string;
  status: "pending" | "approved";
}

export interface AuditEntry {
  actor: string;
  action: string;
  reportId?: string | null;
  result: string;
}

export type TakeResult =
  { ok: true; report: ReportRecord } | { ok: false; reason: "taken" | "closed" | "missing"; report?: ReportRecord };

/** Reports: committed with their outbox rows, read, acted on by staff, counted, and purged. */
export interface ReportQueue {
  /**
   * One transaction: the report, its relay, its first outbox rows and an audit entry (R1, R2), and
   * the chat's draft removed (R7): a kill just after it can never offer to resume a report already sent.
   */
  submit(
    r: NewReport,
    address: Address,
    outbox: Array<{ dedupeKey: string; target: string; payload: OutboxPayload }>,
    at: Date,
  ): Promise<ReportRecord>;
  byId(id: string): Promise<ReportRecord | null>;
  byCode(code: string): Promise<ReportRecord | null>;
  /** Reports whose relay points to this address. */
  ofAddress(address: Address): Promise<ReportRecord[]>;
  /** How many reports this chat sent since then (the daily cap). */
  sentFrom(address: Address, since: Date): Promise<number>;
  /** Conditional updates: each returns the new record, or why not. */
  take(
    id: string,
    staff: { id: number; name: string },
    at: Date,
    outbox: Array<{ dedupeKey: string; target: string; payload: OutboxPayload }>,
  ): Promise<TakeResult>;
  update(
    id: string,
    change: { status: Status; referredTo?: string | null; outcome?: Outcome | null; from: Status[] },
    at: Date,
    audit: AuditEntry,
    outbox: Array<{ dedupeKey: string; target: string; payload: OutboxPayload }>,
  ): Promise<TakeResult>;
  setCard(reportId: string, messageId: number): Promise<void>;
  /** One photo or voice note will not arrive: counted on the report, and its card edited to say so (one commit). */
  mediaMissing(reportId: string, at: Date): Promise<void>;
  open(staffChatIds?: number[]): Promise<ReportRecord[]>;
  /** Counts since then; `byDay` by the day of creation in `timeZone` (urgent or high risk, and the others). */
  stats(
    since: Date,
    staffChatIds?: number[],
    timeZone?: string,
  ): Promise<{
    byStatus: Record<string, number>;
    byKind: Record<string, number>;
    byRegion: Record<string, number>;
    byDay: Record<string, { urgent: number; other: number }>;
    total: number;
  }>;
  closedSince(since: Date, staffChatIds: number[]): Promise<number>;
  notePing(
    id: string,
    at: Date,
    outbox: Array<{ dedupeKey: string; target: string; payload: OutboxPayload }>,
  ): Promise<boolean>;
  /** Retention (P7). */
  purge(
    now: Date,
    limits: { relayDays: number; textDays: number; draftHours: number; auditDays: number },
  ): Promise<Record<string, number>>;
}

/** The way back to a reporter, kept sealed: the case word, holds and locks after an exit, contact, and the conversation. */
export interface RelayStore {
  /**
   * Checks a typed case word (scrypt off the event loop). Wrong words are counted on the report,
   * from whichever chat: after 5 in a day it is "locked" for a day, staff see it on the card.
   */
  /**
   * Checks a case word typed in `address`'s chat. Her own chat (the report's relay) has its own
   * allowance of wrong words; all other chats share a daily number of checks. "locked": refused
   * without a check.
   */
  tryCaseWord(reportId: string, word: string, at: Date, address?: Address): Promise<"ok" | "wrong" | "locked">;
  /** The right case word was given in the reporter's own chat: the lock and the hold go, held knocks are released. */
  unlockRelay(reportId: string, at: Date): Promise<boolean>;
  /** The reporter withdrew consent to be contacted (S9): contact becomes "none". */
  /** The reporter asked not to be contacted: `contact` becomes none, the choice before is kept for an undo. */
  withdrawContact(reportId: string): Promise<void>;
  /** Undoes `withdrawContact` (with the case word given), with its audit and staff notice; false if there was nothing to undo. */
  resumeContact(
    reportId: string,
    at: Date,
    audit: AuditEntry,
    outbox: Array<{ dedupeKey: string; target: string; payload: OutboxPayload }>,
  ): Promise<boolean>;
  relayAddress(reportId: string): Promise<Address | null>;
  relayInfo(reportId: string): Promise<{ heldSince: Date | null; lockedAt: Date | null; lastInboundAt: Date } | null>;
  /** Quick exit or auto-erase: hold every relay of this address and lock its reports (S6, decision 10). Returns the report ids held. */
  holdRelays(address: Address, at: Date): Promise<string[]>;
  /** A new inbound message: lift holds and release held deliveries. Returns the report ids released. */
  touchRelays(address: Address, at: Date): Promise<string[]>;
  /** The reporter used the case (read it after the word or within the time, or added to it): the silence clock restarts. */
  noteVerified(reportId: string, at: Date): Promise<void>;
  /** Adds a message and queues its delivery, in one transaction. */
  addMessage(
    reportId: string,
    direction: "in" | "out",
    body: string,
    at: Date,
    audit: AuditEntry,
    outbox: (messageId: number) => Array<{ dedupeKey: string; target: string; payload: OutboxPayload }>,
  ): Promise<number>;
  messages(reportId: string): Promise<ReportMessageRecord[]>;
  markRead(reportId: string, at: Date): Promise<void>;
}

/** Staff groups: the messages of a report's thread, and groups Telegram moved to a new id. */
export interface StaffGroupStore {
  addStaffThread(chatId: number, messageId: number, reportId: string, at: Date): Promise<void>;
  threadOf(chatId: number, messageId: number): Promise<string | null>;
  /** A staff group got a new id (ST6): reports, queue and threads follow it. */
  moveStaffChat(from: number, to: number, at: Date): Promise<void>;
  chatMoves(): Promise<Map<number, number>>;
}

/** Who may act in a staff group (decision 11), and what someone who leaves held. */
export interface RosterStore {
  /** The staff roster of a group (decision 11). */
  roster(staffChatId: number): Promise<RosterEntry[]>;
  /** Someone in the group who is not on the roster yet: listed as pending (a no-op if known). Returns their status. */
  rosterSeen(staffChatId: number, userId: number, name: string, at: Date): Promise<RosterEntry["status"]>;
  /**
   * A supervisor's decision, audited in the same transaction. Removal takes the person off the roster
   * and puts what they held back in the queue; returns the ids requeued.
   */
  rosterDecide(
    staffChatId: number,
    userId: number,
    decision: "approve" | "remove",
    by: { id: number; name: string },
    at: Date,
  ): Promise<{ name: string; requeued: string[] } | null>;
  /** Reports a departed staff member held go back to the queue (ST3). Returns their ids. */
  requeueHeldBy(staffId: number, staffChatId: number, at: Date): Promise<string[]>;
}

/** The append-only, content-free log of staff actions and security events (ST5). */
export interface AuditLog {
  audit(entry: AuditEntry, at: Date): Promise<void>;
}

/** "A number did not work": when and for which entry, nothing about the person. */
export interface SignalLog {
  /**
   * "A number did not work" for this directory entry: recorded (which entry, when; nothing about the
   * person) with the staff notice `notice(count)` in one commit. Returns the signals of 30 days.
   */
  noteSignal(
    entryId: string,
    at: Date,
    notice: (count: number) => Array<{ dedupeKey: string; target: string; payload: OutboxPayload }>,
  ): Promise<number>;
}

/** Reports being written: sealed, one per chat, kept 24 hours (R7). */
export interface DraftStore {
  getDraft(address: Address): Promise<Draft | null>;
  saveDraft(address: Address, draft: Draft, at: Date): Promise<void>;
  deleteDraft(address: Address): Promise<void>;
}

/** The transactional outbox (R2): queued deliveries and their states. */
export interface OutboxStore {
  enqueue(items: Array<{ dedupeKey: string; target: string; payload: OutboxPayload }>, at: Date): Promise<void>;
  /** Pending rows that are due, oldest first, leaving out targets that must wait (paced). */
  due(now: Date, limit: number, skipTargets?: string[]): Promise<OutboxItem[]>;
  /** The pending rows with these dedupe keys, due or not (a confirmation sent right after its commit). */
  pendingByKeys(keys: string[]): Promise<OutboxItem[]>;
  /** Whether a row is still waiting to be sent (read just before sending it). */
  isPending(id: number): Promise<boolean>;
  markSent(id: number, messageId: number | null, at: Date): Promise<void>;
  markRetry(id: number, next: Date, error: string): Promise<void>;
  markDead(id: number, error: string): Promise<void>;
  markHeld(id: number): Promise<void>;
  pendingCount(): Promise<number>;
  /** Everything pending for a target is due now (a paused staff group is back). */
  retryNow(target: string, at: Date): Promise<void>;
}

/** Everything the report features store, as db/reports.ts implements it: the ports above, together. */
export interface ReportStore
  extends ReportQueue, RelayStore, StaffGroupStore, RosterStore, AuditLog, SignalLog, DraftStore, OutboxStore {}
