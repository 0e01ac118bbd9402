/** Staff groups: the messages of a report's thread, the audit log, the roster, and groups Telegram moved. */
import type { ReportStore } from "../../core/reports/types.ts";

import { type ReportContext, type Tx } from "./context.ts";

export function staffPart(
  c: ReportContext,
): Pick<
  ReportStore,
  | "addStaffThread"
  | "threadOf"
  | "audit"
  | "roster"
  | "rosterSeen"
  | "rosterDecide"
  | "requeueHeldBy"
  | "moveStaffChat"
  | "chatMoves"
> {
  const { prisma, write, queue, audit, auditSql } = c;
  /** Reports someone held go back to the queue: their cards are edited, and each is audited. */
  const requeue = async (tx: Tx, ids: string[], chatId: number, at: Date, why: string) => {
    if (ids.length)
      await tx.report.updateMany({
        where: { id: { in: ids } },
        data: { status: "new", takenBy: null, takenByName: null, takenAt: null, updatedAt: at },
      });
    for (const id of ids) {
      const edit = {
        dedupeKey: `card_edit:${id}:requeue:${at.getTime()}`,
        target: `staff:${chatId}`,
        payload: { type: "card_edit" as const, reportId: id },
      };
      await queue(tx, [edit], at, id);
      await audit(tx, { actor: "system", action: "requeue", reportId: id, result: why }, at);
    }
  };
  return {
    async addStaffThread(chatId, messageId, reportId, at) {
      await prisma.staffThread.upsert({
        where: { chatId_messageId: { chatId: BigInt(chatId), messageId } },
        create: { chatId: BigInt(chatId), messageId, reportId, createdAt: at },
        update: {},
      });
    },
    async threadOf(chatId, messageId) {
      const t = await prisma.staffThread.findUnique({
        where: { chatId_messageId: { chatId: BigInt(chatId), messageId } },
      });
      return t?.reportId ?? null;
    },
    async audit(entry, at) {
      await write(() => auditSql(entry, at));
    },
    async roster(chatId) {
      const rows = await prisma.staffMember.findMany({
        where: { chatId: BigInt(chatId) },
        orderBy: [{ status: "asc" }, { at: "asc" }],
      });
      return rows.map((r) => ({
        userId: Number(r.userId),
        name: r.name,
        status: r.status === "approved" ? "approved" : "pending",
      }));
    },
    async rosterSeen(chatId, userId, name, at) {
      const key = { chatId_userId: { chatId: BigInt(chatId), userId: BigInt(userId) } };
      const row = await prisma.staffMember.upsert({
        where: key,
        create: { chatId: BigInt(chatId), userId: BigInt(userId), name, status: "pending", at },
        update: { name },
      });
      return row.status === "approved" ? "approved" : "pending";
    },
    async rosterDecide(chatId, userId, decision, by, at) {
      return prisma.$transaction(async (tx) => {
        const key = { chatId_userId: { chatId: BigInt(chatId), userId: BigInt(userId) } };
        const row = await tx.staffMember.findUnique({ where: key });
        if (!row) return null;
        await audit(
          tx,
          {
            actor: `staff:${by.id}`,
            action: decision === "approve" ? "staff_approve" : "staff_remove",
            reportId: null,
            result: `user ${userId}`,
          },
          at,
        );
        if (decision === "approve") {
          await tx.staffMember.update({ where: key, data: { status: "approved", decidedBy: BigInt(by.id), at } });
          return { name: row.name, requeued: [] };
        }
        await tx.staffMember.delete({ where: key });
        const held = await tx.report.findMany({
          where: { takenBy: BigInt(userId), staffChatId: BigInt(chatId), status: { in: ["taken", "referred"] } },
          select: { id: true },
        });
        const ids = held.map((r) => r.id);
        await requeue(tx, ids, chatId, at, "staff removed");
        return { name: row.name, requeued: ids };
      });
    },
    async requeueHeldBy(staffId, chatId, at) {
      // Leaving the group ends the approval too: back in, they are approved again first (decision 11).
      await prisma.staffMember.deleteMany({ where: { chatId: BigInt(chatId), userId: BigInt(staffId) } });
      const held = await prisma.report.findMany({
        where: { takenBy: BigInt(staffId), staffChatId: BigInt(chatId), status: { in: ["taken", "referred"] } },
        select: { id: true },
      });
      const ids = held.map((r) => r.id);
      if (!ids.length) return [];
      await prisma.$transaction((tx) => requeue(tx, ids, chatId, at, "staff left"));
      return ids;
    },
    async moveStaffChat(from, to, at) {
      await prisma.$transaction(async (tx) => {
        await tx.chatMove.upsert({
          where: { fromId: BigInt(from) },
          create: { fromId: BigInt(from), toId: BigInt(to), at },
          update: { toId: BigInt(to), at },
        });
        // An earlier move that pointed at the old id now points at the new one.
        await tx.chatMove.updateMany({ where: { toId: BigInt(from) }, data: { toId: BigInt(to) } });
        // Message ids do not survive the move: open reports get a fresh card in the new group.
        const open = await tx.report.findMany({
          where: { staffChatId: BigInt(from), status: { not: "closed" } },
          select: { id: true },
        });
        await tx.report.updateMany({
          where: { staffChatId: BigInt(from) },
          data: { staffChatId: BigInt(to), cardMessageId: null },
        });
        await queue(
          tx,
          open.map((r) => ({
            dedupeKey: `card:${r.id}:moved:${to}`,
            target: `staff:${to}`,
            payload: { type: "card" as const, reportId: r.id },
          })),
          at,
        );
        await tx.outbox.updateMany({
          where: { target: `staff:${from}`, status: { in: ["pending", "held"] } },
          data: { target: `staff:${to}` },
        });
        await audit(tx, { actor: "system", action: "chat_migrated", reportId: null, result: "ok" }, at);
      });
    },
    async chatMoves() {
      const rows = await prisma.chatMove.findMany();
      return new Map(rows.map((r) => [Number(r.fromId), Number(r.toId)]));
    },
  };
}
