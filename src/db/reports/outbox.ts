/** Drafts of reports being written, and the outbox: queued deliveries and their states. */
import type { Draft, ReportStore } from "../../core/reports/types.ts";

import { type ReportContext, dt, OutboxRow } from "./context.ts";

/** A due row with its place in the queue: 3 urgent and high-risk, 2 urgent, 1 high-risk, 0 anything else. */
type RankedRow = OutboxRow & { rank: number };

export function outboxPart(
  c: ReportContext,
): Pick<
  ReportStore,
  | "getDraft"
  | "saveDraft"
  | "deleteDraft"
  | "enqueue"
  | "due"
  | "pendingByKeys"
  | "isPending"
  | "markSent"
  | "markRetry"
  | "markDead"
  | "markHeld"
  | "retryNow"
  | "pendingCount"
> {
  const { hot, write, sealer, safeOpen, q, drafts, enqueueTx, queued, readable } = c;
  const retryNow = hot.prepare("UPDATE outbox SET next_attempt_at = ? WHERE target = ? AND status = 'pending'");
  const pending = hot.prepare("SELECT count(*) FROM outbox WHERE status = 'pending'").pluck();
  return {
    async getDraft(address) {
      const chat = sealer.chatKey(address);
      let d = drafts.get(chat);
      if (!d) {
        const row = q.draft.get(chat) as { data_enc: string; updated_at: string } | undefined;
        const plain = row && safeOpen(row.data_enc);
        if (!plain) return null;
        d = { plain, updatedAt: new Date(row.updated_at).toISOString() };
        drafts.set(chat, d);
      }
      // Parsed for each caller: it changes the draft before saving it.
      return { ...(JSON.parse(d.plain) as Draft), updatedAt: d.updatedAt } as Draft;
    },
    async saveDraft(address, draft, at) {
      const chat = sealer.chatKey(address);
      const plain = JSON.stringify({ ...draft, updatedAt: undefined });
      const dataEnc = sealer.seal(plain);
      try {
        await write(() => {
          q.saveDraft.run(chat, dataEnc, dt(at));
          drafts.set(chat, { plain, updatedAt: at.toISOString() });
        });
      } catch (err) {
        // Not saved, or the commit failed after the write ran: the next read goes to the database.
        drafts.delete(chat);
        throw err;
      }
    },
    async deleteDraft(address) {
      const chat = sealer.chatKey(address);
      await write(() => {
        q.deleteDraft.run(chat);
        drafts.delete(chat);
      });
    },
    async enqueue(items, at) {
      await queued(() => enqueueTx(items, at));
    },
    async due(now, limit, skipTargets = []) {
      // Every target but the skipped ones: the ranges of the index between them, in SQLite's order
      // of text (its bytes). While a staff group is paced its queue, however long, is not read
      // (bench/outbox-pass.ts). Each range gives its own first rows; the first of all of them are
      // the first overall.
      const at = dt(now);
      const skipped = [...new Set(skipTargets)].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      let after = "";
      const rows: RankedRow[] = [];
      for (const before of skipped) {
        rows.push(...(q.dueBetween.all({ after, before, now: at, limit }) as RankedRow[]));
        after = before;
      }
      rows.push(...(q.dueAfter.all({ after, now: at, limit }) as RankedRow[]));
      if (skipped.length) rows.sort((a, b) => b.rank - a.rank || a.id - b.id);
      return readable(rows.slice(0, limit));
    },
    async pendingByKeys(keys) {
      // Usually one key (a confirmation): a plain lookup, without JSON to parse.
      return readable((keys.length === 1 ? q.byKey.all(keys[0]) : q.byKeys.all(JSON.stringify(keys))) as OutboxRow[]);
    },
    async isPending(id) {
      return q.isPending.get(id) === 1;
    },
    async markSent(id, messageId, at) {
      await queued(() => q.sent.run(messageId, dt(at), id));
    },
    async markRetry(id, next, error) {
      await queued(() => q.retry.run(dt(next), error.slice(0, 100), id));
    },
    async markDead(id, error) {
      await queued(() => q.dead.run(error.slice(0, 100), id));
    },
    async markHeld(id) {
      await queued(() => q.held.run(id));
    },
    async retryNow(target, at) {
      await queued(() => retryNow.run(dt(at), target));
    },
    pendingCount: async () => pending.get() as number,
  };
}
