/** The report queue: submitting, reading, staff actions on a report, figures, retention. */
import { hashCaseWord } from "../../core/safety/sealer.ts";
import type { AuditEntry, ReportStore } from "../../core/reports/types.ts";
import { crashPoint } from "../../crash-points.ts";

import { type ReportContext, type QueueItem, DAY, dt, when, ReportRow } from "./context.ts";

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
  | "mediaMissing"
  | "open"
  | "stats"
  | "closedSince"
  | "notePing"
  | "purge"
  | "noteSignal"
> {
  const { auditSql, byId, hot, q, queueSql, queued, sealer, settled, submitTx, toRecord, walSync, write } = c;
  // Staff actions on a report, on the message connection like every other write of reports, the
  // outbox and the audit log (db/README.md). Each is one transaction with its audit and outbox rows.
  const w = {
    claim: hot.prepare(
      "UPDATE reports SET status = 'taken', taken_by = ?, taken_by_name = ?, taken_at = ?, updated_at = ? WHERE id = ? AND status = 'new'",
    ),
    setCard: hot.prepare("UPDATE reports SET card_message_id = ? WHERE id = ?"),
    mediaMissing: hot.prepare("UPDATE reports SET media_missing = media_missing + 1 WHERE id = ?"),
    ping: hot.prepare("UPDATE reports SET ping_count = ?, last_ping_at = ? WHERE id = ?"),
    purgeTexts: hot.prepare(
      "UPDATE reports SET text_enc = NULL, case_word_hash = NULL, text_purged_at = ? WHERE id IN (SELECT value FROM json_each(?))",
    ),
    purgeOutbox: hot.prepare("DELETE FROM outbox WHERE status IN ('sent', 'dead') AND created_at < ?"),
    purgeAudit: hot.prepare("DELETE FROM audit_log WHERE at < ?"),
    purgeMessages: hot.prepare("DELETE FROM report_messages WHERE report_id IN (SELECT value FROM json_each(?))"),
    purgeThreads: hot.prepare("DELETE FROM staff_threads WHERE report_id IN (SELECT value FROM json_each(?))"),
    purgeSignals: hot.prepare("DELETE FROM directory_signals WHERE at < ?"),
    signal: hot.prepare("INSERT INTO directory_signals (entry_id, at) VALUES (?, ?)"),
    signals: hot.prepare("SELECT count(*) FROM directory_signals WHERE entry_id = ? AND at >= ?").pluck(),
    stats: hot.prepare(
      `SELECT status, kinds, region_id, created_at, urgent, high_risk FROM reports
       WHERE created_at >= @since AND (@all OR staff_chat_id IN (SELECT value FROM json_each(@chats)))`,
    ),
    closedSince: hot
      .prepare(
        `SELECT count(*) FROM reports WHERE status = 'closed' AND closed_at >= ?
         AND staff_chat_id IN (SELECT value FROM json_each(?))`,
      )
      .pluck(),
    closedBefore: hot
      .prepare(
        `SELECT id FROM reports WHERE status = 'closed' AND closed_at < @before AND (@any OR text_enc IS NOT NULL)`,
      )
      .pluck(),
  };
  /** "A number did not work" with the staff notice of how many said so in 30 days, in one commit. */
  const signalTx = hot.transaction((entryId: string, at: Date, notice: (count: number) => QueueItem[]): number => {
    w.signal.run(entryId, dt(at));
    const n = Number(w.signals.get(entryId, dt(new Date(at.getTime() - 30 * DAY))));
    queueSql(notice(n), at);
    return n;
  });
  const exists = (id: string) => q.report.get(id) !== undefined;
  // The claim is a conditional update: of two staff pressing at once, exactly one changes the row (ST4).
  const takeTx = hot.transaction(
    (id: string, staff: { id: number; name: string }, at: Date, outbox: QueueItem[]): boolean | null => {
      const won = w.claim.run(staff.id, staff.name, dt(at), dt(at), id).changes === 1;
      if (!won && !exists(id)) return null;
      auditSql({ actor: `staff:${staff.id}`, action: "take", reportId: id, result: won ? "ok" : "lost" }, at);
      if (won) queueSql(outbox, at, id);
      return won;
    },
  );
  /** Columns a status change sets, by the change's fields. */
  const updateSql = new Map<string, ReturnType<typeof hot.prepare>>();
  const updateTx = hot.transaction(
    (
      id: string,
      change: Parameters<ReportStore["update"]>[1],
      at: Date,
      entry: AuditEntry,
      outbox: QueueItem[],
    ): boolean | null => {
      const set: Record<string, unknown> = { status: change.status, updated_at: dt(at) };
      if (change.referredTo !== undefined) set.referred_to = change.referredTo;
      if (change.outcome !== undefined) set.outcome = change.outcome;
      if (change.status === "closed") set.closed_at = dt(at);
      if (change.status === "new")
        Object.assign(set, { taken_by: null, taken_by_name: null, taken_at: null, closed_at: null, outcome: null });
      const cols = Object.keys(set);
      const sql = `UPDATE reports SET ${cols.map((c) => `${c} = @${c}`).join(", ")} WHERE id = @id AND status IN (SELECT value FROM json_each(@from))`;
      let stmt = updateSql.get(sql);
      if (!stmt) updateSql.set(sql, (stmt = hot.prepare(sql)));
      const done = stmt.run({ ...set, id, from: JSON.stringify(change.from) }).changes === 1;
      if (!done && !exists(id)) return null;
      auditSql({ ...entry, result: done ? entry.result : "refused" }, at);
      if (done) queueSql(outbox, at, id);
      return done;
    },
  );
  const pingTx = hot.transaction((id: string, at: Date, outbox: QueueItem[]): boolean => {
    const r = q.report.get(id) as ReportRow | undefined;
    if (!r || r.status !== "new") return false;
    w.ping.run(r.ping_count + 1, dt(at), id);
    queueSql(outbox, at, id);
    auditSql({ actor: "system", action: "escalate", reportId: id, result: `ping ${r.ping_count + 1}` }, at);
    return true;
  });

  /** One photo or voice note more that will not arrive, and its card's edit, in one commit. */
  const missingTx = hot.transaction((reportId: string, at: Date) => {
    if (!w.mediaMissing.run(reportId).changes) return;
    const r = byId(reportId)!;
    const edit = { type: "card_edit" as const, reportId };
    queueSql(
      [
        {
          dedupeKey: `card_edit:${reportId}:missing:${r.mediaMissing}`,
          target: `staff:${r.staffChatId}`,
          payload: edit,
        },
      ],
      at,
      reportId,
    );
  });
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
      const won = await queued(() => takeTx(id, staff, at, outbox));
      return settled(id, won);
    },
    async update(id, change, at, entry, outbox) {
      const done = await queued(() => updateTx(id, change, at, entry, outbox));
      return settled(id, done);
    },
    async setCard(reportId, messageId) {
      // Committed with the writes of this turn, not waiting for the disk: the outbox row's "sent",
      // which follows, waits for a sync that covers it too.
      await write(() => w.setCard.run(messageId, reportId));
    },
    async mediaMissing(reportId, at) {
      await queued(() => missingTx(reportId, at));
    },
    async open(chats) {
      return (q.openReports.all({ all: chats ? 0 : 1, chats: JSON.stringify(chats ?? []) }) as ReportRow[]).map(
        toRecord,
      );
    },
    async stats(since, chats, timeZone = "UTC") {
      type Row = {
        status: string;
        kinds: string;
        region_id: string | null;
        created_at: string;
        urgent: number;
        high_risk: number;
      };
      const rows = w.stats.all({ since: dt(since), all: chats ? 0 : 1, chats: JSON.stringify(chats ?? []) }) as Row[];
      const byStatus: Record<string, number> = {};
      const byKind: Record<string, number> = {};
      const byRegion: Record<string, number> = {};
      const byDay: Record<string, { urgent: number; other: number }> = {};
      const dayOf = new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" });
      for (const r of rows) {
        const d = (byDay[dayOf.format(when(r.created_at)!)] ??= { urgent: 0, other: 0 });
        if (r.urgent || r.high_risk) d.urgent++;
        else d.other++;
        byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
        for (const k of r.kinds.split(",").filter(Boolean)) byKind[k] = (byKind[k] ?? 0) + 1;
        const reg = r.region_id ?? "-";
        byRegion[reg] = (byRegion[reg] ?? 0) + 1;
      }
      return { byStatus, byKind, byRegion, byDay, total: rows.length };
    },
    closedSince: async (since, chats) => w.closedSince.get(dt(since), JSON.stringify(chats)) as number,
    async noteSignal(entryId, at, notice) {
      return queued(() => signalTx(entryId, at, notice));
    },
    async notePing(id, at, outbox) {
      return queued(() => pingTx(id, at, outbox));
    },
    async purge(now, limits) {
      const t = now.getTime();
      const closedBefore = (days: number) => new Date(t - days * DAY);
      const closedForRelay = w.closedBefore.all({ before: dt(closedBefore(limits.relayDays)), any: 1 }) as string[];
      const relays = await queued(() => q.purgeRelays.run(JSON.stringify(closedForRelay)));
      const ids = w.closedBefore.all({ before: dt(closedBefore(limits.textDays)), any: 0 }) as string[];
      const texts = await queued(() => w.purgeTexts.run(dt(now), JSON.stringify(ids)));
      const [messages, threads] = await queued(() => [
        w.purgeMessages.run(JSON.stringify(ids)),
        w.purgeThreads.run(JSON.stringify(ids)),
        // Signals about directory numbers are kept a year, for the checks of the directory.
        w.purgeSignals.run(dt(new Date(t - 365 * DAY))),
      ]);
      const drafts = await queued(() => {
        c.drafts.clear();
        return q.purgeDrafts.run(dt(new Date(t - limits.draftHours * 3600_000)));
      });
      const outbox = await queued(() => w.purgeOutbox.run(dt(new Date(t - 7 * DAY))));
      const audits = await queued(() => w.purgeAudit.run(dt(new Date(t - limits.auditDays * DAY))));
      const counts = {
        relays: relays.changes,
        texts: texts.changes,
        messages: messages!.changes,
        threads: threads!.changes,
        drafts: drafts.changes,
        outbox: outbox.changes,
        audit: audits.changes,
      };
      const total = Object.values(counts).reduce((a, b) => a + b, 0);
      if (total) {
        const result = Object.entries(counts)
          .map(([k, v]) => `${k}=${v}`)
          .join(" ");
        await queued(() => auditSql({ actor: "system", action: "retention_purge", reportId: null, result }, now));
      }
      return counts;
    },
  };
}
