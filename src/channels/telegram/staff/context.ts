/**
 * What the staff features share: the Telegram bot, the desks, and two short-lived caches read from
 * Telegram — who is a member of a staff group (and whether a supervisor approved them, decision 11),
 * and whether a group restricts saving content (P4).
 */
import { InputFile, type Bot } from "grammy";
import type { InlineKeyboardMarkup } from "grammy/types";
import type { FetchMedia } from "../../../core/channel.ts";
import type { DirectoryDesk } from "../../../core/directory/desk.ts";
import type { DirectoryStore } from "../../../core/directory/store.ts";
import type { DeskButton, StaffActor, StaffDesk } from "../../../core/reports/staff.ts";
import type { ReportStore } from "../../../core/reports/types.ts";
import type { Sealer } from "../../../core/safety/sealer.ts";
import { describeError, type Logger } from "../../../logger.ts";
import { createTelegramDirectory, type TelegramDirectory } from "../directory.ts";

export const MEMBER_CACHE_MS = 60_000;
export const DATA = /^s:([a-z_0-9]{2,20}):([A-Za-z0-9_-]{16}):([A-Za-z0-9_-]{8})$/;
/** Roster buttons of /staff: approve or remove a Telegram user id. */
export const ROSTER = /^s:(ap|rm):(\d{1,15}):([A-Za-z0-9_-]{8})$/;
/** How long a group's "restrict saving content" setting is trusted before it is read again. */
export const PROTECTION_CACHE_MS = 60_000;

export interface TelegramStaffDeps {
  bot: Bot;
  desk: StaffDesk;
  reports: ReportStore;
  sealer: Sealer;
  staffChats: number[];
  /** Telegram user ids named in STAFF_SUPERVISORS. */
  supervisors: number[];
  logger: Logger;
  now: () => Date;
  /** Telegram moved a staff group to a new id (migrate_to_chat_id, ST6). */
  onMigrate(from: number, to: number): Promise<void>;
  /** The current id of a staff group (after any moves). */
  resolveChat(id: number): number;
  /** Wakes the outbox. */
  kick?: () => void;
  /** How long a group's protection setting is trusted (tests shorten it). */
  protectionCacheMs?: number;
  /** The directory desk (issue 16): /centers, entry cards, confirmations, checks. */
  directory?: { desk: DirectoryDesk; store: DirectoryStore };
  /** Photos and voice notes of reports from other channels (WhatsApp), fetched when they go out (issue 26). */
  fetchMedia?: FetchMedia;
}

/** Splits text into parts of at most `max` characters on grapheme boundaries. */
export function splitText(text: string, max: number): string[] {
  const seg = new Intl.Segmenter(undefined, { granularity: "grapheme" });
  const parts: string[] = [];
  let cur = "";
  for (const { segment } of seg.segment(text)) {
    if (cur.length + segment.length > max) {
      parts.push(cur);
      cur = "";
    }
    cur += segment;
  }
  if (cur || !parts.length) parts.push(cur);
  return parts;
}

type StaffUser = { id: number; first_name: string; last_name?: string };

export interface StaffContext {
  deps: TelegramStaffDeps;
  bot: Bot;
  desk: StaffDesk;
  reports: ReportStore;
  sealer: Sealer;
  logger: Logger;
  staffChats: Set<number>;
  /** Who is a member of which staff chat, and when that was read. */
  members: Map<string, { at: number; actor: StaffActor | null }>;
  /** Staff groups where the bot is no longer an administrator: deliveries wait (ST3). */
  paused: Set<number>;
  supervisors: Set<number>;
  /** Whether each staff group restricts saving content, and when that was read. */
  protection: Map<number, { at: number; on: boolean }>;
  sign(action: string, id: string): string;
  keyboard(reportId: string, rows: DeskButton[][]): InlineKeyboardMarkup;
  staffActor(chatId: number, user: StaffUser): Promise<StaffActor | null>;
  isProtected(chatId: number): Promise<boolean>;
  chartOf(chats: number[]): Promise<Buffer | null>;
  sendChart(chatId: number, png: Buffer, text: string): Promise<number>;
  /** The directory desk's Telegram side, when there is a directory. */
  dir?: TelegramDirectory;
}

export function createStaffContext(deps: TelegramStaffDeps): StaffContext {
  const { bot, sealer } = deps;
  const sign = (action: string, id: string) => `s:${action}:${id}:${sealer.sign(`${action}:${id}`)}`;
  const s: StaffContext = {
    deps,
    bot,
    desk: deps.desk,
    reports: deps.reports,
    sealer,
    logger: deps.logger,
    staffChats: new Set(deps.staffChats),
    members: new Map(),
    paused: new Set(),
    supervisors: new Set(deps.supervisors),
    protection: new Map(),
    sign,
    keyboard: (reportId, rows) => ({
      inline_keyboard: rows.map((row) => row.map((b) => ({ text: b.label, callback_data: sign(b.action, reportId) }))),
    }),
    staffActor: (chatId, user) => staffActor(s, chatId, user),
    isProtected: (chatId) => isProtected(s, chatId),
    chartOf: (chats) => chartOf(s, chats),
    sendChart: (chatId, png, text) => sendChart(s, chatId, png, text),
  };
  s.dir = deps.directory
    ? createTelegramDirectory({
        bot,
        desk: deps.directory.desk,
        store: deps.directory.store,
        sealer,
        logger: deps.logger,
        now: deps.now,
        isStaffChat: (id) => s.staffChats.has(id),
        actorOf: s.staffActor,
        audit: (actor, action, result) => s.reports.audit({ actor, action, reportId: null, result }, deps.now()),
      })
    : undefined;
  return s;
}

/** The person, if they are a member of this staff chat now (cached for a minute). */
export async function staffActor(
  s: StaffContext,
  chatId: number,
  user: { id: number; first_name: string; last_name?: string },
): Promise<StaffActor | null> {
  const { deps, bot, reports, logger, members, supervisors } = s;
  const key = `${chatId}:${user.id}`;
  const hit = members.get(key);
  if (hit && Date.now() - hit.at < MEMBER_CACHE_MS) return hit.actor;
  let actor: StaffActor | null = null;
  try {
    const m = await bot.api.getChatMember(chatId, user.id);
    const isMember =
      m.status === "creator" ||
      m.status === "administrator" ||
      m.status === "member" ||
      (m.status === "restricted" && m.is_member);
    if (isMember) {
      const name = [user.first_name, user.last_name].filter(Boolean).join(" ").slice(0, 40);
      // Being a group admin is not authority over reports: the supervisors are named in configuration.
      const supervisor = supervisors.has(user.id);
      const approved = (await reports.rosterSeen(chatId, user.id, name, deps.now())) === "approved" || supervisor;
      actor = { id: user.id, name, supervisor, approved };
    }
  } catch (err) {
    logger.warn("staff.member_check_failed", describeError(err));
  }
  members.set(key, { at: Date.now(), actor });
  return actor;
}

/**
 * Whether the group restricts saving content (P4), read again after a minute. When it was turned
 * on, the open reports' cards are edited to show their text again.
 */
export async function isProtected(s: StaffContext, chatId: number): Promise<boolean> {
  const { deps, bot, reports, logger, protection } = s;
  const known = protection.get(chatId);
  if (known && Date.now() - known.at < (deps.protectionCacheMs ?? PROTECTION_CACHE_MS)) return known.on;
  let on = known?.on ?? false;
  try {
    const chat = await bot.api.getChat(chatId);
    on = "has_protected_content" in chat && chat.has_protected_content === true;
  } catch (err) {
    logger.warn("staff.protection_check_failed", describeError(err));
    return on; // not known now: as last seen, and withheld if never seen
  }
  protection.set(chatId, { at: Date.now(), on });
  if (on && known && !known.on) {
    const at = deps.now();
    const open = await reports.open([chatId]);
    await reports.enqueue(
      open.map((r) => ({
        dedupeKey: `card_edit:${r.id}:protected:${at.getTime()}`,
        target: `staff:${chatId}`,
        payload: { type: "card_edit" as const, reportId: r.id },
      })),
      at,
    );
    await reports.audit(
      { actor: "system", action: "group_protected", reportId: null, result: `cards ${open.length}` },
      at,
    );
    deps.kick?.();
  }
  return on;
}

/** The stats chart of these chats, or null when it cannot be drawn (then the text goes alone). */
export async function chartOf(s: StaffContext, chats: number[]): Promise<Buffer | null> {
  const { desk, logger } = s;
  try {
    return await desk.statsChart(chats);
  } catch (err) {
    logger.warn("staff.chart_failed", describeError(err));
    return null;
  }
}

/**
 * The chart with the numbers as its caption (issue 17), protected like every staff message. A
 * caption holds 1024 characters: longer numbers follow in full as text.
 */
export async function sendChart(s: StaffContext, chatId: number, png: Buffer, text: string): Promise<number> {
  const { bot } = s;
  const fits = text.length <= 1024;
  const caption = fits ? text : `${text.slice(0, 1000).replace(/\n[^\n]*$/, "")}\n…`;
  const sent = await bot.api.sendPhoto(chatId, new InputFile(png, "stats.png"), { caption, protect_content: true });
  if (!fits)
    for (const part of splitText(text, 4000)) await bot.api.sendMessage(chatId, part, { protect_content: true });
  return sent.message_id;
}
