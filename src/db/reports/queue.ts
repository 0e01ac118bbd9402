/** The report queue: submitting, reading, staff actions on a report, figures, retention. */
import { hashCaseWord } from "../../core/safety/sealer.ts";
import type { ReportStore } from "../../core/reports/types.ts";
import { crashPoint } from "../../crash-points.ts";

import { type ReportContext, DAY, dt, ReportRow } from "./context.ts";

export function queuePart(
  c: ReportContext,
): Pick<
  ReportStore,
  | "submit"
  | "byId"
  | "byCode"
  | "sentFrom"
  | "ofAddress"
  | "take"
  | "update"
  | "setCard"
  | "open"
  | "stats"
  | "closedSince"
  | "notePing"
  | "purge"
  | "noteSignal"
> {
  const { prisma, walSync, write, sealer, toRecord, queue, queued, audit, q, submitTx, byId, settled } = c;
  return {
    async submit(r, address, outbox, at) {
      // scrypt off the event loop, before the (synchronous) transaction.
      const caseWordHash = r.caseWord ? await hashCaseWord(r.caseWord) : null;
      await write(() => submitTx(r, caseWordHash, address, outbox, at));
      // Right after the commit, before any other task: no outbox turn can send the confirmation first.
      crashPoint("after_commit_before_confirm");
      await walSync();
      return byId(r.id)!;
    },
    byId: async (id) => byId(id),
    async byCode(code) {
      const r = q.reportByCode.get(code) as ReportRow | undefined;
      return r ? toRecord(r) : null;
    },
    async sentFrom(address, since) {
      return Number(q.sentFrom.get(sealer.hash(address), dt(since)));
    },
    async ofAddress(address) {
      return (q.reportsOf.all(sealer.hash(address)) as ReportRow[]).map(toRecord);
    },
    async take(id, staff, at, outbox) {
      const won = await prisma.$transaction(async (tx) => {
        // The claim is a conditional update: of two staff pressing at once, exactly one changes the row (ST4).
        const res = await tx.report.updateMany({
          where: { id, status: "new" },
          data: { status: "taken", takenBy: BigInt(staff.id), takenByName: staff.name, takenAt: at, updatedAt: at },
        });
        if (res.count !== 1 && !(await tx.report.count({ where: { id } }))) return null;
        await audit(
          tx,
          { actor: `staff:${staff.id}`, action: "take", reportId: id, result: res.count === 1 ? "ok" : "lost" },
          at,
        );
        if (res.count === 1) await queue(tx, outbox, at, id);
        return res.count === 1;
      });
      return settled(id, won);
    },
    async update(id, change, at, entry, outbox) {
      const done = await prisma.$transaction(async (tx) => {
        const data: Record<string, unknown> = { status: change.status, updatedAt: at };
        if (change.referredTo !== undefined) data.referredTo = change.referredTo;
        if (change.outcome !== undefined) data.outcome = change.outcome;
        if (change.status === "closed") data.closedAt = at;
        if (change.status === "new")
          Object.assign(data, { takenBy: null, takenByName: null, takenAt: null, closedAt: null, outcome: null });
        const res = await tx.report.updateMany({ where: { id, status: { in: change.from } }, data });
        if (res.count !== 1 && !(await tx.report.count({ where: { id } }))) return null;
        await audit(tx, { ...entry, result: res.count ? entry.result : "refused" }, at);
        if (res.count) await queue(tx, outbox, at, id);
        return res.count === 1;
      });
      return settled(id, done);
    },
    async setCard(reportId, messageId) {
      await prisma.report.update({ where: { id: reportId }, data: { cardMessageId: messageId } });
    },
    async open(chats) {
      return (q.openReports.all({ all: chats ? 0 : 1, chats: JSON.stringify(chats ?? []) }) as ReportRow[]).map(
        toRecord,
      );
    },
    async stats(since, chats, timeZone = "UTC") {
      const rows = await prisma.report.findMany({
        where: { createdAt: { gte: since }, ...(chats ? { staffChatId: { in: chats.map(BigInt) } } : {}) },
        select: { status: true, kinds: true, regionId: true, createdAt: true, urgent: true, highRisk: true },
      });
      const byStatus: Record<string, number> = {};
      const byKind: Record<string, number> = {};
      const byRegion: Record<string, number> = {};
      const byDay: Record<string, { urgent: number; other: number }> = {};
      const dayOf = new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" });
      for (const r of rows) {
        const d = (byDay[dayOf.format(r.createdAt)] ??= { urgent: 0, other: 0 });
        if (r.urgent || r.highRisk) d.urgent++;
        else d.other++;
        byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
        for (const k of r.kinds.split(",").filter(Boolean)) byKind[k] = (byKind[k] ?? 0) + 1;
        const reg = r.regionId ?? "-";
        byRegion[reg] = (byRegion[reg] ?? 0) + 1;
      }
      return { byStatus, byKind, byRegion, byDay, total: rows.length };
    },
    closedSince: (since, chats) =>
      prisma.report.count({
        where: { status: "closed", closedAt: { gte: since }, staffChatId: { in: chats.map(BigInt) } },
      }),
    async noteSignal(entryId, at, notice) {
      return prisma.$transaction(async (tx) => {
        await tx.directorySignal.create({ data: { entryId, at } });
        const n = await tx.directorySignal.count({
          where: { entryId, at: { gte: new Date(at.getTime() - 30 * DAY) } },
        });
        await queue(tx, notice(n), at);
        return n;
      });
    },
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
    async purge(now, limits) {
      const t = now.getTime();
      const closedBefore = (days: number) => new Date(t - days * DAY);
      const closedForRelay = await prisma.report.findMany({
        where: { status: "closed", closedAt: { lt: closedBefore(limits.relayDays) } },
        select: { id: true },
      });
      // Relays and drafts are written on the message connection only (db/README.md).
      const relays = await queued(() => q.purgeRelays.run(JSON.stringify(closedForRelay.map((r) => r.id))));
      const oldClosed = await prisma.report.findMany({
        where: { status: "closed", closedAt: { lt: closedBefore(limits.textDays) }, textEnc: { not: null } },
        select: { id: true },
      });
      const ids = oldClosed.map((r) => r.id);
      const texts = await prisma.report.updateMany({
        where: { id: { in: ids } },
        data: { textEnc: null, caseWordHash: null, textPurgedAt: now },
      });
      const messages = await prisma.reportMessage.deleteMany({ where: { reportId: { in: ids } } });
      const threads = await prisma.staffThread.deleteMany({ where: { reportId: { in: ids } } });
      // Signals about directory numbers are kept a year, for the checks of the directory.
      await prisma.directorySignal.deleteMany({ where: { at: { lt: new Date(t - 365 * DAY) } } });
      const drafts = await queued(() => q.purgeDrafts.run(dt(new Date(t - limits.draftHours * 3600_000))));
      const outbox = await prisma.outbox.deleteMany({
        where: { status: { in: ["sent", "dead"] }, createdAt: { lt: new Date(t - 7 * DAY) } },
      });
      const audits = await prisma.auditLog.deleteMany({ where: { at: { lt: new Date(t - limits.auditDays * DAY) } } });
      const counts = {
        relays: relays.changes,
        texts: texts.count,
        messages: messages.count,
        threads: threads.count,
        drafts: drafts.changes,
        outbox: outbox.count,
        audit: audits.count,
      };
      const total = Object.values(counts).reduce((a, b) => a + b, 0);
      if (total)
        await prisma.auditLog.create({
          data: {
            at: now,
            actor: "system",
            action: "retention_purge",
            result: Object.entries(counts)
              .map(([k, v]) => `${k}=${v}`)
              .join(" "),
          },
        });
      return counts;
    },
  };
}
