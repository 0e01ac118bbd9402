/** Staff groups: the messages of a report's thread, the audit log, the roster, and groups Telegram moved. */
import type { ReportStore } from "../../core/reports/types.ts";

import { type ReportContext, dt } from "./context.ts";

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
  const { hot, write, queued, queueSql, auditSql } = c;
  // The roster, threads and moved groups are written on the message connection, in the same
  // transactions as the reports and outbox rows they change (db/README.md).
  const w = {
    thread: hot.prepare(
      "INSERT INTO staff_threads (chat_id, message_id, report_id, created_at) VALUES (?, ?, ?, ?) ON CONFLICT(chat_id, message_id) DO NOTHING",
    ),
    seen: hot.prepare(
      `INSERT INTO staff_members (chat_id, user_id, name, status, at) VALUES (?, ?, ?, 'pending', ?)
       ON CONFLICT(chat_id, user_id) DO UPDATE SET name = excluded.name RETURNING status`,
    ),
    member: hot.prepare("SELECT name FROM staff_members WHERE chat_id = ? AND user_id = ?"),
    approve: hot.prepare(
      "UPDATE staff_members SET status = 'approved', decided_by = ?, at = ? WHERE chat_id = ? AND user_id = ?",
    ),
    remove: hot.prepare("DELETE FROM staff_members WHERE chat_id = ? AND user_id = ?"),
    threadOf: hot.prepare("SELECT report_id FROM staff_threads WHERE chat_id = ? AND message_id = ?").pluck(),
    roster: hot.prepare(
      "SELECT user_id, name, status FROM staff_members WHERE chat_id = ? ORDER BY status ASC, at ASC",
    ),
    moves: hot.prepare("SELECT from_id, to_id FROM chat_moves"),
    held: hot
      .prepare("SELECT id FROM reports WHERE taken_by = ? AND staff_chat_id = ? AND status IN ('taken', 'referred')")
      .pluck(),
    requeue: hot.prepare(
      "UPDATE reports SET status = 'new', taken_by = NULL, taken_by_name = NULL, taken_at = NULL, updated_at = ? WHERE id = ?",
    ),
    move: hot.prepare(
      "INSERT INTO chat_moves (from_id, to_id, at) VALUES (?, ?, ?) ON CONFLICT(from_id) DO UPDATE SET to_id = excluded.to_id, at = excluded.at",
    ),
    moveEarlier: hot.prepare("UPDATE chat_moves SET to_id = ? WHERE to_id = ?"),
    openOf: hot.prepare("SELECT id FROM reports WHERE staff_chat_id = ? AND status != 'closed'").pluck(),
    moveReports: hot.prepare("UPDATE reports SET staff_chat_id = ?, card_message_id = NULL WHERE staff_chat_id = ?"),
    moveOutbox: hot.prepare("UPDATE outbox SET target = ? WHERE target = ? AND status IN ('pending', 'held')"),
  };
  /** Reports someone held go back to the queue: their cards are edited, and each is audited. */
  const requeue = (ids: string[], chatId: number, at: Date, why: string) => {
    for (const id of ids) {
      w.requeue.run(dt(at), id);
      const edit = {
        dedupeKey: `card_edit:${id}:requeue:${at.getTime()}`,
        target: `staff:${chatId}`,
        payload: { type: "card_edit" as const, reportId: id },
      };
      queueSql([edit], at, id);
      auditSql({ actor: "system", action: "requeue", reportId: id, result: why }, at);
    }
  };
  const decideTx = hot.transaction(
    (chatId: number, userId: number, decision: "approve" | "remove", byId: number, at: Date) => {
      const row = w.member.get(chatId, userId) as { name: string } | undefined;
      if (!row) return null;
      const action = decision === "approve" ? "staff_approve" : "staff_remove";
      auditSql({ actor: `staff:${byId}`, action, reportId: null, result: `user ${userId}` }, at);
      if (decision === "approve") {
        w.approve.run(byId, dt(at), chatId, userId);
        return { name: row.name, requeued: [] as string[] };
      }
      w.remove.run(chatId, userId);
      const ids = w.held.all(userId, chatId) as string[];
      requeue(ids, chatId, at, "staff removed");
      return { name: row.name, requeued: ids };
    },
  );
  // Leaving the group ends the approval too: back in, they are approved again first (decision 11).
  const leftTx = hot.transaction((staffId: number, chatId: number, at: Date) => {
    w.remove.run(chatId, staffId);
    const ids = w.held.all(staffId, chatId) as string[];
    requeue(ids, chatId, at, "staff left");
    return ids;
  });
  const moveTx = hot.transaction((from: number, to: number, at: Date) => {
    w.move.run(from, to, dt(at));
    // An earlier move that pointed at the old id now points at the new one.
    w.moveEarlier.run(to, from);
    // Message ids do not survive the move: open reports get a fresh card in the new group.
    const open = w.openOf.all(from) as string[];
    w.moveReports.run(to, from);
    queueSql(
      open.map((id) => ({
        dedupeKey: `card:${id}:moved:${to}`,
        target: `staff:${to}`,
        payload: { type: "card" as const, reportId: id },
      })),
      at,
    );
    w.moveOutbox.run(`staff:${to}`, `staff:${from}`);
    auditSql({ actor: "system", action: "chat_migrated", reportId: null, result: "ok" }, at);
  });
  return {
    async addStaffThread(chatId, messageId, reportId, at) {
      // A staff reply to this message may come at once: committed with this turn's writes, not
      // after the disk (the outbox row's "sent" that follows waits for a sync that covers it).
      await write(() => w.thread.run(chatId, messageId, reportId, dt(at)));
    },
    async threadOf(chatId, messageId) {
      return (w.threadOf.get(chatId, messageId) as string | undefined) ?? null;
    },
    async audit(entry, at) {
      await write(() => auditSql(entry, at));
    },
    async roster(chatId) {
      const rows = w.roster.all(chatId) as Array<{ user_id: number; name: string; status: string }>;
      return rows.map((r) => ({
        userId: Number(r.user_id),
        name: r.name,
        status: r.status === "approved" ? "approved" : "pending",
      }));
    },
    async rosterSeen(chatId, userId, name, at) {
      const row = (await queued(() => w.seen.get(chatId, userId, name, dt(at)))) as { status: string };
      return row.status === "approved" ? "approved" : "pending";
    },
    async rosterDecide(chatId, userId, decision, by, at) {
      return queued(() => decideTx(chatId, userId, decision, by.id, at));
    },
    async requeueHeldBy(staffId, chatId, at) {
      return queued(() => leftTx(staffId, chatId, at));
    },
    async moveStaffChat(from, to, at) {
      await queued(() => moveTx(from, to, at));
    },
    async chatMoves() {
      const rows = w.moves.all() as Array<{ from_id: number; to_id: number }>;
      return new Map(rows.map((r) => [Number(r.from_id), Number(r.to_id)]));
    },
  };
}
