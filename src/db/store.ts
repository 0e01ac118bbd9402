/** The Prisma implementation of the core's Store. */
import type { PrismaClient } from "../generated/prisma/client.ts";
import { isLocale } from "../config.ts";
import type { DialogState, PendingExit, SessionRecord, Store } from "../core/store.ts";
import { STATE_VERSION } from "../core/store.ts";
import type { Address, Country } from "../core/types.ts";

const HOUR = 3600_000;

function parseState(raw: string): DialogState | null {
  try {
    const s = JSON.parse(raw) as DialogState;
    return s && s.v === STATE_VERSION ? s : null;
  } catch {
    return null;
  }
}

export function createPrismaStore(prisma: PrismaClient): Store {
  return {
    async getSession(address) {
      const row = await prisma.session.findUnique({ where: { address } });
      if (!row) return null;
      return {
        address: row.address as Address,
        locale: isLocale(row.locale) ? row.locale : null,
        country: row.country === "KZ" || row.country === "KG" ? (row.country as Country) : null,
        state: parseState(row.state),
        autoEraseMinutes: row.autoEraseMinutes,
        limitsShown: row.limitsShown,
        lastSeenAt: row.lastSeenAt,
        createdAt: row.createdAt,
      } satisfies SessionRecord;
    },
    async saveSession(s) {
      const data = {
        locale: s.locale,
        country: s.country,
        state: JSON.stringify(s.state ?? {}),
        autoEraseMinutes: s.autoEraseMinutes,
        limitsShown: s.limitsShown,
        lastSeenAt: s.lastSeenAt,
      };
      await prisma.session.upsert({ where: { address: s.address }, create: { address: s.address, createdAt: s.createdAt, ...data }, update: data });
    },
    async trackMessages(address, refs) {
      if (!refs.length) return;
      // One statement; a repeated id (a retried update) is ignored by the unique index.
      await prisma.$transaction(
        refs.map((r) =>
          prisma.trackedMessage.upsert({
            where: { address_messageId: { address, messageId: r.id } },
            create: { address, messageId: r.id, fromBot: r.fromBot, sentAt: r.at },
            update: {},
          }),
        ),
      );
    },
    async trackedMessages(address) {
      const rows = await prisma.trackedMessage.findMany({ where: { address }, orderBy: { sentAt: "asc" } });
      return rows.map((r) => ({ id: r.messageId, fromBot: r.fromBot, at: r.sentAt }));
    },
    async markExitPending(exit: PendingExit, at) {
      await prisma.exitPending.upsert({
        where: { address: exit.address },
        create: { address: exit.address, locale: exit.locale, cover: exit.cover, createdAt: at },
        update: { locale: exit.locale, cover: exit.cover },
      });
    },
    async pendingExits() {
      const rows = await prisma.exitPending.findMany({ orderBy: { createdAt: "asc" } });
      return rows.map((r) => ({ address: r.address as Address, locale: isLocale(r.locale) ? r.locale : "ru", cover: r.cover }));
    },
    async wipeChat(address) {
      await prisma.$transaction([
        prisma.session.deleteMany({ where: { address } }),
        prisma.trackedMessage.deleteMany({ where: { address } }),
        prisma.expiringMessage.deleteMany({ where: { address } }),
      ]);
    },
    async firstSeen(key, at) {
      try {
        await prisma.processedUpdate.create({ data: { key, at } });
        return true;
      } catch (err) {
        if ((err as { code?: string }).code === "P2002") return false;
        throw err;
      }
    },
    async scheduleDelete(address, ids, at) {
      if (ids.length) await prisma.expiringMessage.createMany({ data: ids.map((messageId) => ({ address, messageId, deleteAt: at })) });
    },
    async dueDeletes(now) {
      const rows = await prisma.expiringMessage.findMany({ where: { deleteAt: { lte: now } }, orderBy: { id: "asc" }, take: 1000 });
      const by = new Map<string, string[]>();
      for (const r of rows) by.set(r.address, [...(by.get(r.address) ?? []), r.messageId]);
      return [...by].map(([address, ids]) => ({ address: address as Address, ids }));
    },
    async doneDeletes(address, ids) {
      await prisma.expiringMessage.deleteMany({ where: { address, messageId: { in: ids } } });
    },
    async clearExitPending(address) {
      await prisma.exitPending.deleteMany({ where: { address } });
    },
    async dueAutoErase(now) {
      const rows = await prisma.session.findMany({ where: { autoEraseMinutes: { not: null } }, select: { address: true, locale: true, autoEraseMinutes: true, lastSeenAt: true } });
      return rows
        .filter((r) => r.lastSeenAt.getTime() + (r.autoEraseMinutes ?? 0) * 60_000 <= now.getTime())
        .map((r) => ({ address: r.address as Address, locale: isLocale(r.locale) ? r.locale : "ru" }));
    },
    async purgeExpired(now, limits) {
      const sessions = await prisma.session.deleteMany({ where: { lastSeenAt: { lt: new Date(now.getTime() - limits.sessionTtlHours * HOUR) } } });
      const messages = await prisma.trackedMessage.deleteMany({ where: { sentAt: { lt: new Date(now.getTime() - limits.messageTrackHours * HOUR) } } });
      await prisma.processedUpdate.deleteMany({ where: { at: { lt: new Date(now.getTime() - 7 * 24 * HOUR) } } });
      return { sessions: sessions.count, messages: messages.count };
    },
  };
}
