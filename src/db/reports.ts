/**
 * The core's ReportStore. Report texts, relayed messages, drafts and the way
 * back to a reporter are sealed before they are written; the reporter's
 * address is stored only sealed and as a keyed hash.
 *
 * What a reporter's messages and the outbox touch (drafts, submit, relays,
 * the queue, report reads) runs on prepared statements on the message
 * connection, each transaction synchronous; staff actions, jobs and
 * retention go through Prisma. The benchmark put Prisma's per-query cost at
 * most of the bot's CPU on the reporter's path (bench/README.md).
 */
import type { PrismaClient } from "../generated/prisma/client.ts";
import { type HotDb, type WalSync, type Writer } from "./hot.ts";
import { isLocale } from "../config.ts";
import type { Sealer } from "../core/safety/sealer.ts";
import { hashCaseWord, caseWordEquals } from "../core/safety/sealer.ts";
import type {
  AuditEntry,
  Draft,
  NewReport,
  OutboxItem,
  OutboxPayload,
  ReportRecord,
  ReportStore,
  Status,
  TakeResult,
} from "../core/reports/types.ts";
import type { Address, ChannelName, Country } from "../core/types.ts";
import { crashPoint } from "../crash-points.ts";

type Tx = Parameters<Parameters<PrismaClient["$transaction"]>[0]>[0];
type QueueItem = { dedupeKey: string; target: string; payload: OutboxPayload };

const DAY = 86_400_000;

type RelayRow = { handle_enc: string; held_since: string | null; locked_at: string | null; last_inbound_at: string };

/** Wrong case words a day that the reporter's own chat may type (decision 10). */
export const CASE_WORD_TRIES = 5;
/** Case words a day checked for one report from all other chats together. */
export const OTHER_CHAT_CHECKS = 10;

/** DateTime as Prisma's SQLite adapter writes it, so both sides compare and read the same text. */
const dt = (d: Date) => d.toISOString().replace("Z", "+00:00");
const when = (s: string | null): Date | null => (s === null ? null : new Date(s));

type ReportRow = {
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
type OutboxRow = { id: number; kind: string; target: string; payload_enc: string; attempts: number };

export function createReportStore(
  db: { prisma: PrismaClient; hot: HotDb; walSync: WalSync; write: Writer },
  sealer: Sealer,
): ReportStore {
  const { prisma, hot, walSync, write } = db;
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

  /** The outbox row of a queued item: the payload sealed, due at once. Both connections write this shape. */
  const outboxRow = (i: QueueItem, at: Date, reportId?: string) => ({
    dedupeKey: i.dedupeKey,
    kind: i.payload.type,
    target: i.target,
    reportId: reportId ?? ("reportId" in i.payload ? (i.payload.reportId ?? null) : null),
    payloadEnc: sealer.seal(JSON.stringify(i.payload)),
    nextAttemptAt: at,
    createdAt: at,
  });
  const queue = async (tx: Tx, items: QueueItem[], at: Date, reportId?: string) => {
    for (const i of items)
      await tx.outbox.upsert({ where: { dedupeKey: i.dedupeKey }, create: outboxRow(i, at, reportId), update: {} });
  };
  const audit = (tx: Tx, e: AuditEntry, at: Date) =>
    tx.auditLog.create({
      data: { at, actor: e.actor, action: e.action, reportId: e.reportId ?? null, result: e.result },
    });

  // The reporter's path and the outbox, on the message connection.
  const q = {
    report: hot.prepare("SELECT * FROM reports WHERE id = ?"),
    reportByCode: hot.prepare("SELECT * FROM reports WHERE code = ?"),
    sentFrom: hot.prepare("SELECT count(*) FROM relays WHERE handle_hash = ? AND created_at >= ?").pluck(),
    reportsOf: hot.prepare(
      "SELECT r.* FROM reports r JOIN relays l ON l.report_id = r.id WHERE l.handle_hash = ? ORDER BY r.created_at DESC",
    ),
    openReports: hot.prepare(
      `SELECT * FROM reports WHERE status != 'closed' AND (@all OR staff_chat_id IN (SELECT value FROM json_each(@chats)))
       ORDER BY urgent DESC, high_risk DESC, created_at ASC LIMIT 50`,
    ),
    insertReport: hot.prepare(
      `INSERT INTO reports (id, code, channel, locale, country, region_id, about, kinds, urgent, high_risk, risk_answers, text_enc, photos, contact, case_word_hash, staff_chat_id, request, created_at, updated_at)
       VALUES (@id, @code, @channel, @locale, @country, @regionId, @about, @kinds, @urgent, @highRisk, @riskAnswers, @textEnc, @photos, @contact, @caseWordHash, @staffChatId, @request, @at, @at)`,
    ),
    insertRelay: hot.prepare(
      "INSERT INTO relays (report_id, handle_enc, handle_hash, last_inbound_at, created_at) VALUES (?, ?, ?, ?, ?)",
    ),
    queue: hot.prepare(
      `INSERT INTO outbox (dedupe_key, kind, target, report_id, payload_enc, next_attempt_at, created_at)
       VALUES (@dedupeKey, @kind, @target, @reportId, @payloadEnc, @nextAttemptAt, @createdAt) ON CONFLICT(dedupe_key) DO NOTHING`,
    ),
    audit: hot.prepare("INSERT INTO audit_log (at, actor, action, report_id, result) VALUES (?, ?, ?, ?, ?)"),
    relaysOf: hot.prepare("SELECT report_id, held_since, locked_at FROM relays WHERE handle_hash = ?"),
    relay: hot.prepare("SELECT handle_enc, held_since, locked_at, last_inbound_at FROM relays WHERE report_id = ?"),
    // Quick exit and auto-erase hold the chat's relays and lock its reports (S6, decision 10).
    hold: hot.prepare("UPDATE relays SET held_since = ?, locked_at = coalesce(locked_at, ?) WHERE handle_hash = ?"),
    // Writing again lifts a hold, never a lock: a locked report waits for its case word.
    unhold: hot.prepare(
      "UPDATE relays SET held_since = NULL WHERE handle_hash = ? AND held_since IS NOT NULL AND locked_at IS NULL",
    ),
    unlock: hot.prepare(
      "UPDATE relays SET held_since = NULL, locked_at = NULL, last_inbound_at = ? WHERE report_id = ?",
    ),
    wordState: hot.prepare(
      "SELECT case_word_hash, word_failures, word_window_at, word_locked_until, others_checks, others_window_at, staff_chat_id FROM reports WHERE id = ?",
    ),
    wordOk: hot.prepare("UPDATE reports SET word_failures = 0, word_window_at = NULL WHERE id = ?"),
    ownerTry: hot.prepare("UPDATE reports SET word_failures = ?, word_window_at = ? WHERE id = ?"),
    ownerLock: hot.prepare("UPDATE reports SET word_locked_until = ? WHERE id = ?"),
    othersTry: hot.prepare("UPDATE reports SET others_checks = ?, others_window_at = ? WHERE id = ?"),
    relayHash: hot.prepare("SELECT handle_hash FROM relays WHERE report_id = ?").pluck(),
    release: hot.prepare(
      "UPDATE outbox SET status = 'pending', next_attempt_at = ? WHERE status = 'held' AND report_id = ?",
    ),
    draft: hot.prepare("SELECT data_enc, updated_at FROM report_drafts WHERE chat = ?"),
    saveDraft: hot.prepare(
      "INSERT INTO report_drafts (chat, data_enc, updated_at) VALUES (?, ?, ?) ON CONFLICT(chat) DO UPDATE SET data_enc = excluded.data_enc, updated_at = excluded.updated_at",
    ),
    deleteDraft: hot.prepare("DELETE FROM report_drafts WHERE chat = ?"),
    // Urgent, then high-risk cards go before everything else due (a flood of junk reports must not
    // hold a real urgent card behind it for half an hour); otherwise in the order written.
    due: hot.prepare(
      `SELECT o.id, o.kind, o.target, o.payload_enc, o.attempts FROM outbox o
       WHERE o.status = 'pending' AND o.next_attempt_at <= ? AND o.target NOT IN (SELECT value FROM json_each(?))
       ORDER BY CASE WHEN o.kind = 'card' THEN (SELECT r.urgent * 2 + r.high_risk FROM reports r WHERE r.id = o.report_id) ELSE 0 END DESC, o.id LIMIT ?`,
    ),
    byKey: hot.prepare(
      "SELECT id, kind, target, payload_enc, attempts FROM outbox WHERE status = 'pending' AND dedupe_key = ?",
    ),
    byKeys: hot.prepare(
      "SELECT id, kind, target, payload_enc, attempts FROM outbox WHERE status = 'pending' AND dedupe_key IN (SELECT value FROM json_each(?)) ORDER BY id",
    ),
    isPending: hot.prepare("SELECT 1 FROM outbox WHERE id = ? AND status = 'pending'").pluck(),
    sent: hot.prepare(
      "UPDATE outbox SET status = 'sent', sent_message_id = ?, sent_at = ?, attempts = attempts + 1 WHERE id = ?",
    ),
    retry: hot.prepare("UPDATE outbox SET next_attempt_at = ?, last_error = ?, attempts = attempts + 1 WHERE id = ?"),
    dead: hot.prepare("UPDATE outbox SET status = 'dead', last_error = ?, attempts = attempts + 1 WHERE id = ?"),
    held: hot.prepare("UPDATE outbox SET status = 'held' WHERE id = ?"),
    heldHashes: hot.prepare("SELECT DISTINCT handle_hash FROM relays WHERE held_since IS NOT NULL").pluck(),
  };
  /**
   * The reporters' handles (hashed) with relays held by a quick exit. Every inbound message asks
   * whether its chat has one; almost none do, so the answer comes from here, without a hash or a
   * read (the benchmark found both among a message's costs). Holds are only set and lifted below,
   * on this connection, and the set changes inside those writes.
   */
  const heldHashes = new Set(q.heldHashes.all() as string[]);
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
        contact: r.contact,
        caseWordHash,
        staffChatId: r.staffChatId,
        request: r.request ?? null,
        at: dt(at),
      });
      q.insertRelay.run(r.id, sealer.seal(address), sealer.hash(address), dt(at), dt(at));
      queueSql(outbox, at, r.id);
      auditSql({ actor: "reporter", action: "submit", reportId: r.id, result: r.urgent ? "urgent" : "ok" }, at);
      q.deleteDraft.run(sealer.chatKey(address));
    },
  );
  const releaseTx = hot.transaction((hash: string, held: string[], at: Date, stillLocked: boolean) => {
    q.unhold.run(hash);
    if (!stillLocked) heldHashes.delete(hash);
    for (const id of held) q.release.run(dt(at), id);
  });
  const enqueueTx = hot.transaction((items: QueueItem[], at: Date) => queueSql(items, at));
  /** A write that is the queue: committed with its turn's batch, and on the disk when it resolves (hot.ts). */
  const queued = async <T>(fn: () => T): Promise<T> => {
    const out = await write(fn);
    await walSync();
    return out;
  };
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

  const store: ReportStore = {
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
    async tryCaseWord(reportId, word, at, address) {
      // The try is reserved in one write before scrypt runs, so parallel guesses can never pass
      // the allowance; the word is checked only with a reservation in hand.
      const owner = address !== undefined && q.relayHash.get(reportId) === sealer.hash(address);
      const turn = await queued(() => reserveTry(reportId, owner, at));
      if (turn.refused) return turn.refused;
      const right = await caseWordEquals(word, turn.hash);
      if (right) {
        // Her own right word gives her allowance back; other chats' checks stay counted.
        if (owner) await write(() => q.wordOk.run(reportId));
        return "ok";
      }
      if (!owner) return "wrong";
      return await queued(() => ownerWrong(reportId, at));
    },
    async unlockRelay(reportId, at) {
      const r = q.relay.get(reportId) as RelayRow | undefined;
      if (!r?.locked_at && !r?.held_since) return false;
      await queued(() => {
        q.unlock.run(dt(at), reportId);
        q.release.run(dt(at), reportId);
      });
      return true;
    },
    async noteVerified(reportId, at) {
      await prisma.relay.updateMany({ where: { reportId }, data: { lastInboundAt: at } });
    },
    async withdrawContact(reportId) {
      const r = await prisma.report.findUnique({ where: { id: reportId }, select: { contact: true } });
      if (!r || r.contact === "none") return;
      await prisma.report.update({ where: { id: reportId }, data: { contact: "none", contactBefore: r.contact } });
    },
    async resumeContact(reportId, at, entry, outbox) {
      return prisma.$transaction(async (tx) => {
        const r = await tx.report.findUnique({
          where: { id: reportId },
          select: { contact: true, contactBefore: true },
        });
        if (!r || r.contact !== "none" || !r.contactBefore) return false;
        await tx.report.update({
          where: { id: reportId },
          data: { contact: r.contactBefore, contactBefore: null, updatedAt: at },
        });
        await queue(tx, outbox, at, reportId);
        await audit(tx, entry, at);
        return true;
      });
    },
    // Read for every confirmation and knock: on this connection, like the report itself.
    async relayAddress(reportId) {
      const r = q.relay.get(reportId) as RelayRow | undefined;
      return r ? (safeOpen(r.handle_enc) as Address | null) : null;
    },
    async relayInfo(reportId) {
      const r = q.relay.get(reportId) as RelayRow | undefined;
      return r
        ? { heldSince: when(r.held_since), lockedAt: when(r.locked_at), lastInboundAt: new Date(r.last_inbound_at) }
        : null;
    },
    async holdRelays(address, at) {
      const hash = sealer.hash(address);
      const rows = q.relaysOf.all(hash) as Array<{ report_id: string }>;
      if (rows.length) {
        // Quick exit waits for this: committed at once (safe from a kill) is enough; the disk follows within a second.
        await write.now(() => {
          q.hold.run(dt(at), dt(at), hash);
          heldHashes.add(hash);
        });
        walSync().catch(() => undefined);
      }
      return rows.map((r) => r.report_id);
    },
    async touchRelays(address, at) {
      // Every inbound message passes here: a read only for a chat with something held.
      if (!heldHashes.size) return [];
      const hash = sealer.hash(address);
      if (!heldHashes.has(hash)) return [];
      const rows = q.relaysOf.all(hash) as Array<{
        report_id: string;
        held_since: string | null;
        locked_at: string | null;
      }>;
      // A locked report stays held: only its case word lifts it (decision 10).
      const held = rows.filter((r) => r.held_since && !r.locked_at).map((r) => r.report_id);
      const stillLocked = rows.some((r) => r.held_since && r.locked_at);
      if (!rows.some((r) => r.held_since)) heldHashes.delete(hash); // its relays were purged or unlocked meanwhile
      if (!held.length) return [];
      try {
        await queued(() => releaseTx(hash, held, at, stillLocked));
      } catch (err) {
        heldHashes.add(hash); // still held: the next message tries again
        throw err;
      }
      return held;
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
    async addMessage(reportId, direction, body, at, entry, outbox) {
      return prisma.$transaction(async (tx) => {
        const m = await tx.reportMessage.create({
          data: { reportId, direction, bodyEnc: sealer.seal(body), createdAt: at },
        });
        await audit(tx, entry, at);
        await queue(tx, outbox(m.id), at, reportId);
        return m.id;
      });
    },
    async messages(reportId) {
      const rows = await prisma.reportMessage.findMany({ where: { reportId }, orderBy: { id: "asc" } });
      return rows.map((m) => ({
        id: m.id,
        direction: m.direction as "in" | "out",
        body: safeOpen(m.bodyEnc) ?? "",
        readAt: m.readAt,
        createdAt: m.createdAt,
      }));
    },
    async markRead(reportId, at) {
      await prisma.reportMessage.updateMany({
        where: { reportId, direction: "out", readAt: null },
        data: { readAt: at },
      });
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
      const t = await prisma.staffThread.findUnique({
        where: { chatId_messageId: { chatId: BigInt(chatId), messageId } },
      });
      return t?.reportId ?? null;
    },
    async audit(entry, at) {
      await write(() => auditSql(entry, at));
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
        if (ids.length)
          await tx.report.updateMany({
            where: { id: { in: ids } },
            data: { status: "new", takenBy: null, takenByName: null, takenAt: null, updatedAt: at },
          });
        for (const id of ids) {
          await queue(
            tx,
            [
              {
                dedupeKey: `card_edit:${id}:requeue:${at.getTime()}`,
                target: `staff:${chatId}`,
                payload: { type: "card_edit", reportId: id },
              },
            ],
            at,
            id,
          );
          await audit(tx, { actor: "system", action: "requeue", reportId: id, result: "staff removed" }, at);
        }
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
      await prisma.$transaction(async (tx) => {
        await tx.report.updateMany({
          where: { id: { in: ids } },
          data: { status: "new", takenBy: null, takenByName: null, takenAt: null, updatedAt: at },
        });
        for (const id of ids) {
          await queue(
            tx,
            [
              {
                dedupeKey: `card_edit:${id}:requeue:${at.getTime()}`,
                target: `staff:${chatId}`,
                payload: { type: "card_edit", reportId: id },
              },
            ],
            at,
            id,
          );
          await audit(tx, { actor: "system", action: "requeue", reportId: id, result: "staff left" }, at);
        }
      });
      return ids;
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
    async getDraft(address) {
      const d = q.draft.get(sealer.chatKey(address)) as { data_enc: string; updated_at: string } | undefined;
      const plain = d && safeOpen(d.data_enc);
      return plain
        ? ({ ...(JSON.parse(plain) as Draft), updatedAt: new Date(d.updated_at).toISOString() } as Draft)
        : null;
    },
    async saveDraft(address, draft, at) {
      const dataEnc = sealer.seal(JSON.stringify({ ...draft, updatedAt: undefined }));
      await write(() => q.saveDraft.run(sealer.chatKey(address), dataEnc, dt(at)));
    },
    async deleteDraft(address) {
      await write(() => q.deleteDraft.run(sealer.chatKey(address)));
    },
    async enqueue(items, at) {
      await queued(() => enqueueTx(items, at));
    },
    async due(now, limit, skipTargets = []) {
      return readable(q.due.all(dt(now), JSON.stringify(skipTargets), limit) as OutboxRow[]);
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
    async retryNow(target, at) {
      await prisma.outbox.updateMany({ where: { target, status: "pending" }, data: { nextAttemptAt: at } });
    },
    pendingCount: () => prisma.outbox.count({ where: { status: "pending" } }),
    async purge(now, limits) {
      const t = now.getTime();
      const closedBefore = (days: number) => new Date(t - days * DAY);
      const closedForRelay = await prisma.report.findMany({
        where: { status: "closed", closedAt: { lt: closedBefore(limits.relayDays) } },
        select: { id: true },
      });
      const relays = await prisma.relay.deleteMany({ where: { reportId: { in: closedForRelay.map((r) => r.id) } } });
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
      const drafts = await prisma.reportDraft.deleteMany({
        where: { updatedAt: { lt: new Date(t - limits.draftHours * 3600_000) } },
      });
      const outbox = await prisma.outbox.deleteMany({
        where: { status: { in: ["sent", "dead"] }, createdAt: { lt: new Date(t - 7 * DAY) } },
      });
      const audits = await prisma.auditLog.deleteMany({ where: { at: { lt: new Date(t - limits.auditDays * DAY) } } });
      const counts = {
        relays: relays.count,
        texts: texts.count,
        messages: messages.count,
        threads: threads.count,
        drafts: drafts.count,
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
  return store;
}
