/**
 * Which staff group is which: the admin, region and directory groups from config, as Telegram may
 * have moved them; and the desks and report routing that follow from that.
 */
import type { Config } from "../config.ts";
import { createTelegramStaff, type TelegramStaffDeps } from "../channels/telegram/staff/index.ts";
import type { Logger } from "../logger.ts";
import type { Dialog } from "../core/dialog.ts";
import { createDirectoryDesk, type DirectoryDesk } from "../core/directory/desk.ts";
import type { LiveDirectory } from "../core/directory/search.ts";
import type { DirectoryStore } from "../core/directory/store.ts";
import type { Translator } from "../core/i18n.ts";
import type { OutboxWorker } from "../core/reports/outbox.ts";
import { TARGET } from "../core/reports/routes.ts";
import type { ReportStore } from "../core/reports/types.ts";
import { createStaffDesk } from "../core/reports/staff.ts";
import type { Store } from "../core/store.ts";
import type { Sealer } from "../core/safety/sealer.ts";
import type { Address } from "../core/types.ts";

/** Every staff chat: the admin chat and the region chats. */
export function staffChatsOf(config: Config): number[] {
  return [
    ...new Set([
      ...(config.adminChatId !== null ? [config.adminChatId] : []),
      ...Object.values(config.regionChats),
      ...(config.directoryChatId !== null ? [config.directoryChatId] : []),
    ]),
  ];
}

/** Staff groups as they are now: Telegram may move a group to a new id (ST6), and the move is kept. */
export function staffGroups(config: Config, moves: Map<number, number>) {
  const moved = (id: number) => moves.get(id) ?? id;
  // Staff triage happens in Telegram groups: without Telegram there is no queue to send to.
  const chats = config.telegramEnabled ? staffChatsOf(config).map(moved) : [];
  const regionsOf = (chatId: number) =>
    Object.entries(config.regionChats)
      .filter(([, c]) => moved(c) === chatId)
      .map(([r]) => r);
  const forRegion = (regionId: string | null | undefined, fallback: number | null | undefined) => {
    const chat = (regionId ? config.regionChats[regionId] : undefined) ?? fallback;
    return chat === undefined || chat === null ? null : moved(chat);
  };
  const directoryChat =
    config.telegramEnabled && config.directoryChatId !== null ? moved(config.directoryChatId) : null;
  return { moves, moved, chats, regionsOf, forRegion, directoryChat };
}

export type Groups = ReturnType<typeof staffGroups>;

/** The directory's staff desk: which group edits which regions, and in which time zone it reads dates. */
export function directoryDeskFor(
  config: Config,
  groups: Groups,
  parts: { store: DirectoryStore; directory: LiveDirectory; translator: Translator; reports: ReportStore },
  now: () => Date,
  kick: () => void,
): DirectoryDesk {
  const { reports, directory } = parts;
  return createDirectoryDesk({
    store: parts.store,
    directory,
    translator: parts.translator,
    staffLocale: config.staffLocale,
    now,
    async enqueue(items) {
      await reports.enqueue(items, now());
      kick();
    },
    audit: (actor, action, result) => reports.audit({ actor, action, reportId: null, result }, now()),
    chatFor: (regionId) => (config.telegramEnabled ? groups.forRegion(regionId, config.directoryChatId) : null),
    scopeOf: (chatId) =>
      config.directoryChatId !== null && groups.moved(config.directoryChatId) === chatId
        ? "all"
        : groups.regionsOf(chatId),
    zoneOf(chatId) {
      const countries = new Set(groups.regionsOf(chatId).map((r) => directory.place(r)?.country));
      if (countries.size === 1) return countries.has("KG") ? "Asia/Bishkek" : "Asia/Almaty";
      return config.staffTimeZone ?? "Asia/Almaty";
    },
  });
}

/** What the dialog needs to take reports: where they go, the limits, and the outbox. */
export function reportDepsFor(
  config: Config,
  groups: Groups,
  parts: { reports: ReportStore; sealer: Sealer; outbox: () => OutboxWorker },
  kick: () => void,
) {
  const { reports, sealer } = parts;
  return {
    reports,
    staffChatFor: (regionId: string | null) =>
      groups.chats.length ? groups.forRegion(regionId, config.adminChatId ?? groups.chats[0]) : null,
    async deliverNow(keys: string[]) {
      // The confirmation follows the commit at once; if Telegram is slow, the worker finishes it later.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([parts.outbox().send(keys), new Promise((r) => (timer = setTimeout(r, 10_000)))]);
      clearTimeout(timer);
    },
    caseWordAfterHours: config.caseWordAfterHours,
    voiceMaxSeconds: config.voiceMaxSeconds,
    reportsPerDay: config.reportsPerDay,
    directoryChat: groups.directoryChat,
    staffLocale: config.staffLocale,
    async defer(
      address: Address,
      screen: Parameters<Dialog["deliverDeferred"]>[1],
      locale: Config["defaultLocale"],
      since: Date,
      notBefore: Date,
      expireMinutes?: number,
    ) {
      // Keyed by the chat key, never the address (which travels sealed in the payload).
      const payload = { type: "answer" as const, address, screen, locale, since: since.toISOString(), expireMinutes };
      await reports.enqueue(
        [{ dedupeKey: `answer:${crypto.randomUUID()}`, target: `${TARGET.answer}${sealer.chatKey(address)}`, payload }],
        notBefore,
      );
      kick();
    },
    sign: (v: string) => sealer.sign(`k:${v}`),
    kick,
  };
}

/**
 * The staff side on Telegram. A group Telegram moved to a new id (a supergroup upgrade) is followed:
 * the move is stored, every reference to the old id follows it, and the group is told.
 */
export function telegramStaffFor(
  config: Config,
  groups: Groups,
  deps: Omit<TelegramStaffDeps, "staffChats" | "supervisors" | "resolveChat" | "onMigrate"> & {
    logger: Logger;
    notice: (chat: number, dedupeKey: string, key: string) => Promise<void>;
  },
) {
  const { notice, ...rest } = deps;
  return createTelegramStaff({
    ...rest,
    staffChats: groups.chats,
    supervisors: config.staffSupervisors,
    resolveChat: groups.moved,
    async onMigrate(from, to) {
      await deps.reports.moveStaffChat(from, to, deps.now());
      groups.moves.set(from, to);
      for (const [k, v] of groups.moves) if (v === from) groups.moves.set(k, to);
      groups.chats.splice(groups.chats.indexOf(from), 1, to);
      await notice(to, `notice:migrated:${from}:${to}`, "staff.notice.migrated");
      deps.logger.warn("staff.chat_migrated", { reason: "migrate_to_chat_id" });
    },
  });
}

/** The report desk: cards, actions and statistics, in the staff language and time zone. */
export function staffDeskFor(
  config: Config,
  parts: { reports: ReportStore; directory: LiveDirectory; translator: Translator; store: Store },
  now: () => Date,
  kick: () => void,
) {
  return createStaffDesk({
    reports: parts.reports,
    directory: parts.directory,
    translator: parts.translator,
    staffLocale: config.staffLocale,
    now,
    kick,
    sources: (since) => parts.store.sourceCounts(since),
    timeZone: config.staffTimeZone ?? "Asia/Almaty",
  });
}
