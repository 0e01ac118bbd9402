/**
 * What the parts of the report store share: the connections, the prepared statements of the message
 * connection, row conversion, and the small transactions more than one part uses.
 *
 * The core's ReportStore. Report texts, relayed messages, drafts and the way
 * back to a reporter are sealed before they are written; the reporter's
 * address is stored only sealed and as a keyed hash.
 *
 * Every write runs on prepared statements on the message connection, each
 * transaction synchronous (db/README.md), and so does every read.
 */
import { fromSql, sqlDate } from "../dates.ts";
import { prepareReportStatements } from "./statements.ts";
import { durably, type HotDb, type WalSync, type Writer } from "../hot.ts";
import { recentMap } from "../recent.ts";
import { isLocale } from "../../config.ts";
import type { Sealer } from "../../core/safety/sealer.ts";
import type {
  AuditEntry,
  NewReport,
  OutboxItem,
  OutboxPayload,
  ReportRecord,
  Status,
  TakeResult,
} from "../../core/reports/types.ts";
import type { Address, ChannelName, Country } from "../../core/types.ts";

export type QueueItem = { dedupeKey: string; target: string; payload: OutboxPayload };

export const DAY = 86_400_000;

export type RelayRow = {
  handle_enc: string;
  held_since: string | null;
  locked_at: string | null;
  last_inbound_at: string;
};

/** Wrong case words a day that the reporter's own chat may type (decision 10). */
export const CASE_WORD_TRIES = 5;
/** Case words a day checked for one report from all other chats together. */
export const OTHER_CHAT_CHECKS = 10;

/** Dates in the database, in its one text form (db/dates.ts). */
export const dt = sqlDate;
export const when = fromSql;

export type ReportRow = {
  id: string;
  code: string;
  channel: string;
  locale: string;
  country: string | null;
  region_id: string | null;
  about: string;
  kinds: string;
  urgent: number;
  high_risk: number;
  text_enc: string | null;
  photos: number;
  voices: number;
  media_missing: number;
  contact: string;
  contact_before: string | null;
  request: string | null;
  case_word_hash: string | null;
  word_locked_until: string | null;
  others_checks: number;
  others_window_at: string | null;
  status: string;
  taken_by: number | null;
  taken_by_name: string | null;
  referred_to: string | null;
  outcome: string | null;
  staff_chat_id: number;
  card_message_id: number | null;
  ping_count: number;
  last_ping_at: string | null;
  created_at: string;
  updated_at: string;
  taken_at: string | null;
  closed_at: string | null;
};
export type OutboxRow = { id: number; kind: string; target: string; payload_enc: string; attempts: number };

/**
 * Drafts read or written lately, opened, by chat key, at most this many: every step of a report
 * reads its draft, and that read and the opening of its seal were 2.7 % of the bot's CPU samples at
 * the bench's load (bench/README.md). Like the sessions' cache, it changes only inside the writes
 * that change `report_drafts`, in their commit order: a draft sent, deleted or purged leaves it in
 * the same write.
 */
export const DRAFT_CACHE = 2000;

export function createReportContext(db: { hot: HotDb; walSync: WalSync; write: Writer }, sealer: Sealer) {
  const { hot, walSync, write } = db;
  const toRecord = (r: ReportRow): ReportRecord => ({
    id: r.id,
    code: r.code,
    channel: r.channel as ChannelName,
    locale: isLocale(r.locale) ? r.locale : "ru",
    country: (r.country as Country | null) ?? null,
    regionId: r.region_id,
    about: r.about as ReportRecord["about"],
    kinds: r.kinds ? (r.kinds.split(",") as ReportRecord["kinds"]) : [],
    urgent: !!r.urgent,
    highRisk: !!r.high_risk,
    text: r.text_enc ? safeOpen(r.text_enc) : null,
    photos: r.photos,
    voices: r.voices,
    mediaMissing: r.media_missing,
    contact: r.contact as ReportRecord["contact"],
    contactStopped: r.contact === "none" && !!r.contact_before,
    request: r.request === "callback" ? "callback" : null,
    hasCaseWord: !!r.case_word_hash,
    wordLockedUntil: when(r.word_locked_until),
    othersLimitedUntil:
      r.others_checks >= OTHER_CHAT_CHECKS && r.others_window_at
        ? new Date(new Date(r.others_window_at).getTime() + DAY)
        : null,
    status: r.status as Status,
    takenBy: r.taken_by,
    takenByName: r.taken_by_name,
    referredTo: r.referred_to,
    outcome: r.outcome as ReportRecord["outcome"],
    staffChatId: r.staff_chat_id,
    cardMessageId: r.card_message_id,
    pingCount: r.ping_count,
    lastPingAt: when(r.last_ping_at),
    createdAt: new Date(r.created_at),
    updatedAt: new Date(r.updated_at),
    takenAt: when(r.taken_at),
    closedAt: when(r.closed_at),
  });
  const safeOpen = (s: string): string | null => {
    try {
      return sealer.open(s);
    } catch {
      return null;
    }
  };

  /** The outbox row of a queued item: the payload sealed, due at once. */
  const outboxRow = (i: QueueItem, at: Date, reportId?: string) => ({
    dedupeKey: i.dedupeKey,
    kind: i.payload.type,
    target: i.target,
    reportId: reportId ?? ("reportId" in i.payload ? (i.payload.reportId ?? null) : null),
    payloadEnc: sealer.seal(JSON.stringify(i.payload)),
    nextAttemptAt: at,
    createdAt: at,
  });
  // The reporter's path and the outbox, on the message connection.
  const q = prepareReportStatements(hot);

  /**
   * The reporters' handles (hashed) with relays held by a quick exit. Every inbound message asks
   * whether its chat has one; almost none do, so the answer comes from here, without a hash or a
   * read (the benchmark found both among a message's costs). Holds are only set and lifted below,
   * on this connection, and the set changes inside those writes.
   */
  const heldHashes = new Set(q.heldHashes.all() as string[]);
  const drafts = recentMap<string, { plain: string; updatedAt: string }>(DRAFT_CACHE);
  const queueSql = (items: QueueItem[], at: Date, reportId?: string) => {
    for (const i of items) {
      const r = outboxRow(i, at, reportId);
      q.queue.run({ ...r, nextAttemptAt: dt(r.nextAttemptAt), createdAt: dt(r.createdAt) });
    }
  };
  const auditSql = (e: AuditEntry, at: Date) => q.audit.run(dt(at), e.actor, e.action, e.reportId ?? null, e.result);
  const submitTx = hot.transaction(
    (r: NewReport, caseWordHash: string | null, address: Address, outbox: QueueItem[], at: Date) => {
      q.insertReport.run({
        id: r.id,
        code: r.code,
        channel: r.channel,
        locale: r.locale,
        country: r.country,
        regionId: r.regionId,
        about: r.about,
        kinds: r.kinds.join(","),
        urgent: r.urgent ? 1 : 0,
        highRisk: r.highRisk ? 1 : 0,
        riskAnswers: r.riskAnswers,
        textEnc: sealer.seal(r.text),
        photos: r.photos?.length ?? 0,
        voices: r.voices?.length ?? 0,
        contact: r.contact,
        caseWordHash,
        staffChatId: r.staffChatId,
        request: r.request ?? null,
        at: dt(at),
      });
      q.insertRelay.run(r.id, sealer.seal(address), sealer.hash(address), dt(at), dt(at));
      queueSql(outbox, at, r.id);
      auditSql({ actor: "reporter", action: "submit", reportId: r.id, result: r.urgent ? "urgent" : "ok" }, at);
      const chat = sealer.chatKey(address);
      q.deleteDraft.run(chat);
      drafts.delete(chat);
    },
  );
  const releaseTx = hot.transaction((hash: string, held: string[], at: Date, stillLocked: boolean) => {
    q.unhold.run(hash);
    if (!stillLocked) heldHashes.delete(hash);
    for (const id of held) q.release.run(dt(at), id);
  });
  const enqueueTx = hot.transaction((items: QueueItem[], at: Date) => queueSql(items, at));
  /** A write that is the queue: committed with its turn's batch, and on the disk when it resolves (hot.ts). */
  const queued = durably(write, walSync);
  const byId = (id: string) => {
    const r = q.report.get(id) as ReportRow | undefined;
    return r ? toRecord(r) : null;
  };

  /** Opens outbox rows; one that cannot be read comes back marked, for the worker to give up on (and say so). */
  const readable = async (rows: OutboxRow[]): Promise<OutboxItem[]> => {
    const out: OutboxItem[] = [];
    for (const r of rows) {
      const plain = safeOpen(r.payload_enc);
      if (!plain) {
        out.push({
          id: r.id,
          kind: r.kind as OutboxItem["kind"],
          target: r.target,
          payload: { type: "notice", key: "", vars: {} } as OutboxPayload,
          attempts: r.attempts,
          unreadable: true,
        });
        continue;
      }
      out.push({
        id: r.id,
        kind: r.kind as OutboxItem["kind"],
        target: r.target,
        payload: JSON.parse(plain) as OutboxPayload,
        attempts: r.attempts,
      });
    }
    return out;
  };

  /** The answer to a conditional change, read after its commit: null means no such report. */
  const settled = (id: string, changed: boolean | null): TakeResult => {
    const report = changed === null ? null : byId(id);
    if (!report) return { ok: false, reason: "missing" };
    if (changed) return { ok: true, report };
    return { ok: false, reason: report.status === "closed" ? "closed" : "taken", report };
  };

  type WordRow = {
    case_word_hash: string | null;
    word_failures: number;
    word_window_at: string | null;
    word_locked_until: string | null;
    others_checks: number;
    others_window_at: string | null;
    staff_chat_id: number;
  };
  const freshDay = (windowAt: string | null, at: Date) =>
    !windowAt || at.getTime() - new Date(windowAt).getTime() >= DAY;
  const cardEdit = (reportId: string, staffChatId: number, why: string, at: Date) =>
    queueSql(
      [
        {
          dedupeKey: `card_edit:${reportId}:${why}:${at.getTime()}`,
          target: `staff:${staffChatId}`,
          payload: { type: "card_edit", reportId },
        },
      ],
      at,
      reportId,
    );
  /**
   * Counts a case-word try before it is checked. Her own chat has its allowance of wrong words;
   * every other chat together has OTHER_CHAT_CHECKS checks a day, so a stranger who saw the code
   * can neither lock her out nor guess without end.
   */
  const reserveTry = (
    reportId: string,
    owner: boolean,
    at: Date,
  ): { hash: string; refused?: undefined } | { refused: "wrong" | "locked"; hash?: undefined } => {
    const r = q.wordState.get(reportId) as WordRow | undefined;
    if (!r?.case_word_hash) return { refused: "wrong" };
    if (owner) {
      if (r.word_locked_until && new Date(r.word_locked_until) > at) return { refused: "locked" };
      const fresh = freshDay(r.word_window_at, at);
      // Her tries at the same moment count too: no more than the allowance is ever checked.
      if (!fresh && r.word_failures >= CASE_WORD_TRIES) return { refused: "locked" };
      q.ownerTry.run(fresh ? 1 : r.word_failures + 1, fresh ? dt(at) : r.word_window_at, reportId);
      return { hash: r.case_word_hash };
    }
    const fresh = freshDay(r.others_window_at, at);
    const checks = fresh ? 0 : r.others_checks;
    if (checks >= OTHER_CHAT_CHECKS) return { refused: "locked" };
    q.othersTry.run(checks + 1, fresh ? dt(at) : r.others_window_at, reportId);
    if (checks + 1 === OTHER_CHAT_CHECKS) {
      auditSql(
        { actor: "system", action: "case_word_others_limited", reportId, result: `${OTHER_CHAT_CHECKS} checks` },
        at,
      );
      cardEdit(reportId, r.staff_chat_id, "others", at);
    }
    return { hash: r.case_word_hash };
  };
  /** Her own wrong word, already counted: the fifth of a day closes her chat's tries until tomorrow. */
  const ownerWrong = (reportId: string, at: Date): "wrong" | "locked" => {
    const r = q.wordState.get(reportId) as WordRow;
    if (r.word_failures < CASE_WORD_TRIES) return "wrong";
    // Locked once, audited once, whichever of several tries at the same moment gets here first.
    if (r.word_locked_until && new Date(r.word_locked_until) > at) return "locked";
    const until = new Date(at.getTime() + DAY);
    q.ownerLock.run(dt(until), reportId);
    auditSql({ actor: "system", action: "case_word_locked", reportId, result: `${r.word_failures} wrong` }, at);
    cardEdit(reportId, r.staff_chat_id, "wordlock", at);
    return "locked";
  };

  return {
    hot,
    walSync,
    write,
    sealer,
    toRecord,
    safeOpen,
    outboxRow,
    q,
    heldHashes,
    drafts,
    queueSql,
    auditSql,
    submitTx,
    releaseTx,
    enqueueTx,
    queued,
    byId,
    readable,
    settled,
    freshDay,
    cardEdit,
    reserveTry,
    ownerWrong,
  };
}

export type ReportContext = ReturnType<typeof createReportContext>;
