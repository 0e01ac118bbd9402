/**
 * Prisma implementation of the core's ReportStore. Report texts, relayed
 * messages, drafts and the way back to a reporter are sealed before they are
 * written; the reporter's address is stored only sealed and as a keyed hash.
 */
import type { PrismaClient, Report } from "../generated/prisma/client.ts";
import { isLocale } from "../config.ts";
import type { Sealer } from "../core/services/sealer.ts";
import { hashCaseWord, checkCaseWord } from "../core/services/sealer.ts";
import type { AuditEntry, Draft, OutboxItem, OutboxPayload, ReportRecord, ReportStore, Status } from "../core/reports/types.ts";
import type { Address, ChannelName, Country } from "../core/types.ts";

type Tx = Parameters<Parameters<PrismaClient["$transaction"]>[0]>[0];
type QueueItem = { dedupeKey: string; target: string; payload: OutboxPayload };

const DAY = 86_400_000;

export function createReportStore(prisma: PrismaClient, sealer: Sealer): ReportStore {
  const toRecord = (r: Report): ReportRecord => ({
    id: r.id,
    code: r.code,
    channel: r.channel as ChannelName,
    locale: isLocale(r.locale) ? r.locale : "ru",
    country: (r.country as Country | null) ?? null,
    regionId: r.regionId,
    about: r.about as ReportRecord["about"],
    kinds: r.kinds ? (r.kinds.split(",") as ReportRecord["kinds"]) : [],
    urgent: r.urgent,
    highRisk: r.highRisk,
    text: r.textEnc ? safeOpen(r.textEnc) : null,
    photos: r.photos,
    contact: r.contact as ReportRecord["contact"],
    hasCaseWord: !!r.caseWordHash,
    status: r.status as Status,
    takenBy: r.takenBy === null ? null : Number(r.takenBy),
    takenByName: r.takenByName,
    referredTo: r.referredTo,
    outcome: r.outcome as ReportRecord["outcome"],
    staffChatId: Number(r.staffChatId),
    cardMessageId: r.cardMessageId,
    pingCount: r.pingCount,
    lastPingAt: r.lastPingAt,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    takenAt: r.takenAt,
    closedAt: r.closedAt,
  });
  const safeOpen = (s: string): string | null => {
    try {
      return sealer.open(s);
    } catch {
      return null;
    }
  };

  const queue = async (tx: Tx, items: QueueItem[], at: Date, reportId?: string) => {
    for (const i of items) {
      await tx.outbox.upsert({
        where: { dedupeKey: i.dedupeKey },
        create: {
          dedupeKey: i.dedupeKey,
          kind: i.payload.type,
          target: i.target,
          reportId: reportId ?? ("reportId" in i.payload ? (i.payload.reportId ?? null) : null),
          payloadEnc: sealer.seal(JSON.stringify(i.payload)),
          nextAttemptAt: at,
          createdAt: at,
        },
        update: {},
      });
    }
  };
  const audit = (tx: Tx, e: AuditEntry, at: Date) => tx.auditLog.create({ data: { at, actor: e.actor, action: e.action, reportId: e.reportId ?? null, result: e.result } });

  const store: ReportStore = {
    async submit(r, address, outbox, at) {
      const row = await prisma.$transaction(async (tx) => {
        const created = await tx.report.create({
          data: {
            id: r.id,
            code: r.code,
            channel: r.channel,
            locale: r.locale,
            country: r.country,
            regionId: r.regionId,
            about: r.about,
            kinds: r.kinds.join(","),
            urgent: r.urgent,
            highRisk: r.highRisk,
            riskAnswers: r.riskAnswers,
            textEnc: sealer.seal(r.text),
            photos: r.photos?.length ?? 0,
            contact: r.contact,
            caseWordHash: r.caseWord ? hashCaseWord(r.caseWord) : null,
            staffChatId: BigInt(r.staffChatId),
            createdAt: at,
            updatedAt: at,
          },
        });
        await tx.relay.create({ data: { reportId: r.id, handleEnc: sealer.seal(address), handleHash: sealer.hash(address), lastInboundAt: at, createdAt: at } });
        await queue(tx, outbox, at, r.id);
        await audit(tx, { actor: "reporter", action: "submit", reportId: r.id, result: r.urgent ? "urgent" : "ok" }, at);
        return created;
      });
      return toRecord(row);
    },
    async byId(id) {
      const r = await prisma.report.findUnique({ where: { id } });
      return r ? toRecord(r) : null;
    },
    async byCode(code) {
      const r = await prisma.report.findUnique({ where: { code } });
      return r ? toRecord(r) : null;
    },
    async ofAddress(address) {
      const relays = await prisma.relay.findMany({ where: { handleHash: sealer.hash(address) }, select: { reportId: true } });
      if (!relays.length) return [];
      const rows = await prisma.report.findMany({ where: { id: { in: relays.map((r) => r.reportId) } }, orderBy: { createdAt: "desc" } });
      return rows.map(toRecord);
    },
    async caseWordMatches(reportId, word) {
      const r = await prisma.report.findUnique({ where: { id: reportId }, select: { caseWordHash: true } });
      return !!r?.caseWordHash && checkCaseWord(word, r.caseWordHash);
    },
    async noteVerified(reportId, at) {
      await prisma.relay.updateMany({ where: { reportId }, data: { lastInboundAt: at } });
    },
    async withdrawContact(reportId) {
      await prisma.report.update({ where: { id: reportId }, data: { contact: "none" } });
    },
    async relayAddress(reportId) {
      const r = await prisma.relay.findUnique({ where: { reportId } });
      return r ? (safeOpen(r.handleEnc) as Address | null) : null;
    },
    async relayInfo(reportId) {
      const r = await prisma.relay.findUnique({ where: { reportId }, select: { heldSince: true, lastInboundAt: true } });
      return r ?? null;
    },
    async holdRelays(address, at) {
      const hash = sealer.hash(address);
      const rows = await prisma.relay.findMany({ where: { handleHash: hash }, select: { reportId: true } });
      if (rows.length) await prisma.relay.updateMany({ where: { handleHash: hash }, data: { heldSince: at } });
      return rows.map((r) => r.reportId);
    },
    async touchRelays(address, at) {
      const hash = sealer.hash(address);
      const rows = await prisma.relay.findMany({ where: { handleHash: hash }, select: { reportId: true, heldSince: true } });
      if (!rows.length) return [];
      const held = rows.filter((r) => r.heldSince).map((r) => r.reportId);
      if (!held.length) return [];
      await prisma.$transaction([
        prisma.relay.updateMany({ where: { handleHash: hash, heldSince: { not: null } }, data: { heldSince: null } }),
        prisma.outbox.updateMany({ where: { status: "held", reportId: { in: held } }, data: { status: "pending", nextAttemptAt: at } }),
      ]);
      return held;
    },
    async take(id, staff, at, outbox) {
      return prisma.$transaction(async (tx) => {
        // The claim is a conditional update: of two staff pressing at once, exactly one changes the row (ST4).
        const won = await tx.report.updateMany({ where: { id, status: "new" }, data: { status: "taken", takenBy: BigInt(staff.id), takenByName: staff.name, takenAt: at, updatedAt: at } });
        const row = await tx.report.findUnique({ where: { id } });
        if (!row) return { ok: false as const, reason: "missing" as const };
        if (won.count !== 1) {
          await audit(tx, { actor: `staff:${staff.id}`, action: "take", reportId: id, result: "lost" }, at);
          return { ok: false as const, reason: row.status === "closed" ? ("closed" as const) : ("taken" as const), report: toRecord(row) };
        }
        await audit(tx, { actor: `staff:${staff.id}`, action: "take", reportId: id, result: "ok" }, at);
        await queue(tx, outbox, at, id);
        return { ok: true as const, report: toRecord(row) };
      });
    },
    async update(id, change, at, entry, outbox) {
      return prisma.$transaction(async (tx) => {
        const data: Record<string, unknown> = { status: change.status, updatedAt: at };
        if (change.referredTo !== undefined) data.referredTo = change.referredTo;
        if (change.outcome !== undefined) data.outcome = change.outcome;
        if (change.status === "closed") data.closedAt = at;
        if (change.status === "new") Object.assign(data, { takenBy: null, takenByName: null, takenAt: null, closedAt: null, outcome: null });
        const done = await tx.report.updateMany({ where: { id, status: { in: change.from } }, data });
        const row = await tx.report.findUnique({ where: { id } });
        if (!row) return { ok: false as const, reason: "missing" as const };
        await audit(tx, { ...entry, result: done.count ? entry.result : "refused" }, at);
        if (!done.count) return { ok: false as const, reason: row.status === "closed" ? ("closed" as const) : ("taken" as const), report: toRecord(row) };
        await queue(tx, outbox, at, id);
        return { ok: true as const, report: toRecord(row) };
      });
    },
    async addMessage(reportId, direction, body, at, entry, outbox) {
      return prisma.$transaction(async (tx) => {
        const m = await tx.reportMessage.create({ data: { reportId, direction, bodyEnc: sealer.seal(body), createdAt: at } });
        await audit(tx, entry, at);
        await queue(tx, outbox(m.id), at, reportId);
        return m.id;
      });
    },
    async messages(reportId) {
      const rows = await prisma.reportMessage.findMany({ where: { reportId }, orderBy: { id: "asc" } });
      return rows.map((m) => ({ id: m.id, direction: m.direction as "in" | "out", body: safeOpen(m.bodyEnc) ?? "", readAt: m.readAt, createdAt: m.createdAt }));
    },
    async markRead(reportId, at) {
      await prisma.reportMessage.updateMany({ where: { reportId, direction: "out", readAt: null }, data: { readAt: at } });
    },
    async setCard(reportId, messageId) {
      await prisma.report.update({ where: { id: reportId }, data: { cardMessageId: messageId } });
    },
    async addStaffThread(chatId, messageId, reportId, at) {
      await prisma.staffThread.upsert({
        where: { chatId_messageId: { chatId: BigInt(chatId), messageId } },
        create: { chatId: BigInt(chatId), messageId, reportId, createdAt: at },
        update: {},
      });
    },
    async threadOf(chatId, messageId) {
      const t = await prisma.staffThread.findUnique({ where: { chatId_messageId: { chatId: BigInt(chatId), messageId } } });
      return t?.reportId ?? null;
    },
    async audit(entry, at) {
      await prisma.auditLog.create({ data: { at, actor: entry.actor, action: entry.action, reportId: entry.reportId ?? null, result: entry.result } });
    },
    async open(chats) {
      const rows = await prisma.report.findMany({
        where: { status: { not: "closed" }, ...(chats ? { staffChatId: { in: chats.map(BigInt) } } : {}) },
        orderBy: [{ urgent: "desc" }, { highRisk: "desc" }, { createdAt: "asc" }],
        take: 50,
      });
      return rows.map(toRecord);
    },
    async stats(since, chats) {
      const rows = await prisma.report.findMany({
        where: { createdAt: { gte: since }, ...(chats ? { staffChatId: { in: chats.map(BigInt) } } : {}) },
        select: { status: true, kinds: true, regionId: true },
      });
      const byStatus: Record<string, number> = {};
      const byKind: Record<string, number> = {};
      const byRegion: Record<string, number> = {};
      for (const r of rows) {
        byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
        for (const k of r.kinds.split(",").filter(Boolean)) byKind[k] = (byKind[k] ?? 0) + 1;
        const reg = r.regionId ?? "-";
        byRegion[reg] = (byRegion[reg] ?? 0) + 1;
      }
      return { byStatus, byKind, byRegion, total: rows.length };
    },
    async requeueHeldBy(staffId, chatId, at) {
      const held = await prisma.report.findMany({ where: { takenBy: BigInt(staffId), staffChatId: BigInt(chatId), status: { in: ["taken", "referred"] } }, select: { id: true } });
      const ids = held.map((r) => r.id);
      if (!ids.length) return [];
      await prisma.$transaction(async (tx) => {
        await tx.report.updateMany({ where: { id: { in: ids } }, data: { status: "new", takenBy: null, takenByName: null, takenAt: null, updatedAt: at } });
        for (const id of ids) {
          await queue(tx, [{ dedupeKey: `card_edit:${id}:requeue:${at.getTime()}`, target: `staff:${chatId}`, payload: { type: "card_edit", reportId: id } }], at, id);
          await audit(tx, { actor: "system", action: "requeue", reportId: id, result: "staff left" }, at);
        }
      });
      return ids;
    },
    closedSince: (since, chats) => prisma.report.count({ where: { status: "closed", closedAt: { gte: since }, staffChatId: { in: chats.map(BigInt) } } }),
    async notePing(id, at, outbox) {
      return prisma.$transaction(async (tx) => {
        const r = await tx.report.findUnique({ where: { id } });
        if (!r || r.status !== "new") return false;
        await tx.report.update({ where: { id }, data: { pingCount: r.pingCount + 1, lastPingAt: at } });
        await queue(tx, outbox, at, id);
        await audit(tx, { actor: "system", action: "escalate", reportId: id, result: `ping ${r.pingCount + 1}` }, at);
        return true;
      });
    },
    async getDraft(address) {
      const d = await prisma.reportDraft.findUnique({ where: { address } });
      if (!d) return null;
      const plain = safeOpen(d.dataEnc);
      return plain ? ({ ...(JSON.parse(plain) as Draft), updatedAt: d.updatedAt.toISOString() } as Draft) : null;
    },
    async saveDraft(address, draft, at) {
      const dataEnc = sealer.seal(JSON.stringify({ ...draft, updatedAt: undefined }));
      await prisma.reportDraft.upsert({ where: { address }, create: { address, dataEnc, updatedAt: at }, update: { dataEnc, updatedAt: at } });
    },
    async deleteDraft(address) {
      await prisma.reportDraft.deleteMany({ where: { address } });
    },
    async enqueue(items, at) {
      await prisma.$transaction(async (tx) => queue(tx, items, at));
    },
    async due(now, limit, skipTargets = []) {
      const rows = await prisma.outbox.findMany({
        where: { status: "pending", nextAttemptAt: { lte: now }, ...(skipTargets.length ? { target: { notIn: skipTargets } } : {}) },
        orderBy: { id: "asc" },
        take: limit,
      });
      const out: OutboxItem[] = [];
      for (const r of rows) {
        const plain = safeOpen(r.payloadEnc);
        if (!plain) {
          await prisma.outbox.update({ where: { id: r.id }, data: { status: "dead", lastError: "unreadable payload" } });
          continue;
        }
        out.push({ id: r.id, kind: r.kind as OutboxItem["kind"], target: r.target, payload: JSON.parse(plain) as OutboxPayload, attempts: r.attempts });
      }
      return out;
    },
    async markSent(id, messageId, at) {
      await prisma.outbox.update({ where: { id }, data: { status: "sent", sentMessageId: messageId, sentAt: at, attempts: { increment: 1 } } });
    },
    async markRetry(id, next, error) {
      await prisma.outbox.update({ where: { id }, data: { nextAttemptAt: next, lastError: error.slice(0, 100), attempts: { increment: 1 } } });
    },
    async markDead(id, error) {
      await prisma.outbox.update({ where: { id }, data: { status: "dead", lastError: error.slice(0, 100), attempts: { increment: 1 } } });
    },
    async markHeld(id) {
      await prisma.outbox.update({ where: { id }, data: { status: "held" } });
    },
    async moveStaffChat(from, to, at) {
      await prisma.$transaction(async (tx) => {
        await tx.chatMove.upsert({ where: { fromId: BigInt(from) }, create: { fromId: BigInt(from), toId: BigInt(to), at }, update: { toId: BigInt(to), at } });
        // An earlier move that pointed at the old id now points at the new one.
        await tx.chatMove.updateMany({ where: { toId: BigInt(from) }, data: { toId: BigInt(to) } });
        // Message ids do not survive the move: open reports get a fresh card in the new group.
        const open = await tx.report.findMany({ where: { staffChatId: BigInt(from), status: { not: "closed" } }, select: { id: true } });
        await tx.report.updateMany({ where: { staffChatId: BigInt(from) }, data: { staffChatId: BigInt(to), cardMessageId: null } });
        await queue(tx, open.map((r) => ({ dedupeKey: `card:${r.id}:moved:${to}`, target: `staff:${to}`, payload: { type: "card" as const, reportId: r.id } })), at);
        await tx.outbox.updateMany({ where: { target: `staff:${from}`, status: { in: ["pending", "held"] } }, data: { target: `staff:${to}` } });
        await audit(tx, { actor: "system", action: "chat_migrated", reportId: null, result: "ok" }, at);
      });
    },
    async chatMoves() {
      const rows = await prisma.chatMove.findMany();
      return new Map(rows.map((r) => [Number(r.fromId), Number(r.toId)]));
    },
    async retryNow(target, at) {
      await prisma.outbox.updateMany({ where: { target, status: "pending" }, data: { nextAttemptAt: at } });
    },
    pendingCount: () => prisma.outbox.count({ where: { status: "pending" } }),
    async purge(now, limits) {
      const t = now.getTime();
      const closedBefore = (days: number) => new Date(t - days * DAY);
      const closedForRelay = await prisma.report.findMany({ where: { status: "closed", closedAt: { lt: closedBefore(limits.relayDays) } }, select: { id: true } });
      const relays = await prisma.relay.deleteMany({ where: { reportId: { in: closedForRelay.map((r) => r.id) } } });
      const oldClosed = await prisma.report.findMany({ where: { status: "closed", closedAt: { lt: closedBefore(limits.textDays) }, textEnc: { not: null } }, select: { id: true } });
      const ids = oldClosed.map((r) => r.id);
      const texts = await prisma.report.updateMany({ where: { id: { in: ids } }, data: { textEnc: null, caseWordHash: null, textPurgedAt: now } });
      const messages = await prisma.reportMessage.deleteMany({ where: { reportId: { in: ids } } });
      const threads = await prisma.staffThread.deleteMany({ where: { reportId: { in: ids } } });
      const drafts = await prisma.reportDraft.deleteMany({ where: { updatedAt: { lt: new Date(t - limits.draftHours * 3600_000) } } });
      const outbox = await prisma.outbox.deleteMany({ where: { status: { in: ["sent", "dead"] }, createdAt: { lt: new Date(t - 7 * DAY) } } });
      const audits = await prisma.auditLog.deleteMany({ where: { at: { lt: new Date(t - limits.auditDays * DAY) } } });
      const counts = { relays: relays.count, texts: texts.count, messages: messages.count, threads: threads.count, drafts: drafts.count, outbox: outbox.count, audit: audits.count };
      const total = Object.values(counts).reduce((a, b) => a + b, 0);
      if (total) await prisma.auditLog.create({ data: { at: now, actor: "system", action: "retention_purge", result: Object.entries(counts).map(([k, v]) => `${k}=${v}`).join(" ") } });
      return counts;
    },
  };
  return store;
}
