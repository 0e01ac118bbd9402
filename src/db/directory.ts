/**
 * The directory in the database (issue 16). The sourced file seeds it; staff
 * keep it true. Every change carries its source and its author and is kept
 * as history. A new or changed phone waits for a supervisor other than its
 * author: a wrong number sent to a survivor, or one planted by someone who
 * got into a staff group, is the harm this avoids. Removing a number, or
 * anything else (hours, address, services, status), applies at once.
 *
 * Written on the message connection (hot.ts), as every other table is: prepared statements, each
 * change one synchronous transaction, on the disk before the caller hears it is done. Prisma's
 * client is not loaded by the running bot at all: its query compiler (WebAssembly) and its
 * runtime were about 35 MB of the bot's memory for these few staff writes (bench/README.md).
 */
import { fromSql, sqlDate as dt } from "./dates.ts";
import { durably, type HotDb, type WalSync, type Writer } from "./hot.ts";
import {
  needsSecondPerson,
  isoDay as day,
  phoneDigits as digits,
  type Entry,
  type EntryStatus,
  type Phone,
} from "../core/directory/search.ts";
import type { ChangeRecord, DirectoryStore, EditField, NewChange, Prompt } from "../core/directory/store.ts";

export type { ChangeRecord, DirectoryStore, EditField, NewChange, Prompt };

const DAY = 86_400_000;
const json = (v: unknown) => JSON.stringify(v ?? null);
const parse = (s: string | null): unknown => (s === null ? null : JSON.parse(s));

type Row = { id: string; data: string; seed: string | null; status: string; checked_at: string | null };
type ChangeRow = {
  id: number;
  entry_id: string;
  field: string;
  before: string | null;
  after: string | null;
  source: string;
  by: string;
  by_name: string | null;
  state: string;
  decided_by: string | null;
  at: string;
};
type PromptRow = {
  id: number;
  chat_id: number;
  message_id: number | null;
  user_id: number;
  entry_id: string;
  field: string;
  value: string | null;
  at: string;
};

function entryOf(r: Row): Entry {
  const e = JSON.parse(r.data) as Entry;
  return { ...e, status: r.status as EntryStatus, checked_at: r.checked_at ? day(fromSql(r.checked_at)!) : null };
}
function changeOf(c: ChangeRow): ChangeRecord {
  return {
    id: c.id,
    entryId: c.entry_id,
    field: c.field as EditField,
    before: parse(c.before),
    after: parse(c.after),
    source: c.source,
    by: c.by,
    byName: c.by_name,
    state: c.state as ChangeRecord["state"],
    decidedBy: c.decided_by,
    at: fromSql(c.at)!,
  };
}

/** A phone list after the change: numbers kept keep what is known of them; new ones are checked on `checkedOn`. */
function phonesAfter(before: Phone[], after: string[], checkedOn: string): Phone[] {
  return after.map(
    (n) => before.find((p) => digits(p.as_published) === digits(n)) ?? { as_published: n, checked: checkedOn },
  );
}

/** The entry with one field changed, as survivors will see it. */
function withField(e: Entry, field: NewChange["field"], after: unknown, at: Date): Entry {
  switch (field) {
    case "phones":
      return { ...e, phones: phonesAfter(e.phones, after as string[], day(at)) };
    case "hours": {
      const h = after as string | null;
      return {
        ...e,
        hours_text: h,
        is_24_7: h === null ? e.is_24_7 : /24\s*\/\s*7|круглосуточно|тәулік бойы|күнү-түнү|сутка бою/i.test(h),
      };
    }
    case "address":
      return { ...e, address: after as string | null, address_note: null };
    case "services":
      return { ...e, services: after as string[] };
    default:
      return e;
  }
}

function beforeOf(e: Entry, field: NewChange["field"], status: string): unknown {
  switch (field) {
    case "phones":
      return e.phones.map((p) => p.as_published);
    case "hours":
      return e.hours_text ?? null;
    case "address":
      return e.address;
    case "services":
      return e.services;
    case "status":
      return status;
    default:
      return null;
  }
}

const statements = (db: HotDb) => ({
  all: db.prepare(`SELECT id, data, seed, status, checked_at FROM directory_entries ORDER BY id`),
  entry: db.prepare(`SELECT id, data, seed, status, checked_at FROM directory_entries WHERE id = ?`),
  addEntry: db.prepare(
    `INSERT INTO directory_entries (id, data, seed, status, checked_at, updated_at) VALUES (@id, @data, @seed, @status, @checked, @at)`,
  ),
  reseed: db.prepare(`UPDATE directory_entries SET data = ?, seed = ?, updated_at = ? WHERE id = ?`),
  apply: db.prepare(
    `UPDATE directory_entries SET data = @data, status = coalesce(@status, status), checked_at = @at, updated_at = @at WHERE id = @id`,
  ),
  addChange: db.prepare(
    `INSERT INTO directory_changes (entry_id, field, before, after, source, by, by_name, state, at)
     VALUES (@entryId, @field, @before, @after, @source, @by, @byName, @state, @at) RETURNING *`,
  ),
  change: db.prepare(`SELECT * FROM directory_changes WHERE id = ?`),
  later: db.prepare(
    `SELECT count(*) AS n FROM directory_changes WHERE entry_id = ? AND field = ? AND id > ? AND state <> 'rejected'`,
  ),
  decide: db.prepare(`UPDATE directory_changes SET state = ?, decided_by = ?, decided_at = ? WHERE id = ? RETURNING *`),
  history: db.prepare(`SELECT * FROM directory_changes WHERE entry_id = ? ORDER BY id DESC LIMIT ?`),
  pendingOf: db.prepare(`SELECT * FROM directory_changes WHERE entry_id = ? AND state = 'pending' ORDER BY id DESC`),
  unposted: db.prepare(
    `SELECT * FROM directory_changes WHERE state = 'pending' AND posted_at IS NULL ORDER BY id DESC`,
  ),
  posted: db.prepare(`UPDATE directory_changes SET posted_at = ? WHERE id = ? AND posted_at IS NULL`),
  signalsSince: db.prepare(`SELECT entry_id, count(*) AS n FROM directory_signals WHERE at >= ? GROUP BY entry_id`),
  signalsAfter: db.prepare(`SELECT count(*) AS n FROM directory_signals WHERE entry_id = ? AND at > ?`),
  addPrompt: db.prepare(
    `INSERT INTO directory_prompts (chat_id, message_id, user_id, entry_id, field, value, at)
     VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
  ),
  promptMessage: db.prepare(`UPDATE directory_prompts SET message_id = ? WHERE id = ?`),
  prompt: db.prepare(`SELECT * FROM directory_prompts WHERE id = ?`),
  promptAt: db.prepare(`SELECT * FROM directory_prompts WHERE chat_id = ? AND message_id = ? ORDER BY id LIMIT 1`),
  dropPrompt: db.prepare(`DELETE FROM directory_prompts WHERE id = ?`),
  purgePrompts: db.prepare(`DELETE FROM directory_prompts WHERE at < ?`),
});

export function createDirectoryStore(db: { hot: HotDb; write: Writer; walSync: WalSync }): DirectoryStore {
  const { hot, write, walSync } = db;
  const q = statements(hot);
  /** A change is on the disk before anyone is told it is saved (the message connection syncs its log off the thread). */
  const durable = durably(write, walSync);
  const rows = (l: unknown[]) => (l as ChangeRow[]).map(changeOf);
  const addChange = (c: {
    entryId: string;
    field: string;
    before?: string | null;
    after: string | null;
    source: string;
    by: string;
    byName?: string | null;
    state: string;
    at: Date;
  }) => changeOf(q.addChange.get({ before: null, byName: null, ...c, at: dt(c.at) }) as ChangeRow);
  const apply = (id: string, e: Entry, status: string | null, at: Date) =>
    q.apply.run({ id, data: json(e), status, at: dt(at) });

  const syncSeedTx = hot.transaction((seed: Entry[], at: Date) => {
    let added = 0;
    let updated = 0;
    const stored = new Map((q.all.all() as Row[]).map((r) => [r.id, r]));
    for (const e of seed) {
      const row = stored.get(e.id);
      const fresh = json(e);
      if (!row) {
        added++;
        q.addEntry.run({ id: e.id, data: fresh, seed: fresh, status: "open", checked: null, at: dt(at) });
        continue;
      }
      if (row.seed === fresh) continue;
      const old = (row.seed ? JSON.parse(row.seed) : {}) as Record<string, unknown>;
      const data = JSON.parse(row.data) as Record<string, unknown>;
      for (const [k, v] of Object.entries(e)) if (json(data[k]) === json(old[k])) data[k] = v;
      updated++;
      q.reseed.run(json(data), fresh, dt(at), e.id);
      addChange({
        entryId: e.id,
        field: "seed",
        after: null,
        source: "src/data/crisis-centers.json",
        by: "file:crisis-centers.json",
        state: "applied",
        at,
      });
    }
    return { added, updated };
  });

  const createTx = hot.transaction((e: Entry, source: string, by: string, at: Date) => {
    const phones = e.phones.map((p) => p.as_published);
    const bare: Entry = { ...e, phones: [], status: undefined, checked_at: undefined };
    q.addEntry.run({ id: e.id, data: json(bare), seed: null, status: e.status ?? "open", checked: dt(at), at: dt(at) });
    const change = addChange({ entryId: e.id, field: "new", after: json(bare), source, by, state: "applied", at });
    const pending = phones.length
      ? addChange({
          entryId: e.id,
          field: "phones",
          before: json([]),
          after: json(phones),
          source,
          by,
          state: "pending",
          at,
        })
      : null;
    return { change, phones: pending };
  });

  const changeTx = hot.transaction((c: NewChange, at: Date): ChangeRecord | null => {
    const row = q.entry.get(c.entryId) as Row | undefined;
    if (!row) return null;
    const e = JSON.parse(row.data) as Entry;
    const pending = needsSecondPerson(e, c.field, c.after);
    const rec = addChange({
      entryId: c.entryId,
      field: c.field,
      before: json(beforeOf(e, c.field, row.status)),
      after: json(c.after),
      source: c.source,
      by: c.by,
      byName: c.byName ?? null,
      state: pending ? "pending" : "applied",
      at,
    });
    if (!pending) {
      const data =
        c.field === "verified"
          ? { ...e, phones: e.phones.map((p) => ({ ...p, checked: day(at) })) }
          : withField(e, c.field, c.after, at);
      apply(c.entryId, data, c.field === "status" ? (c.after as string) : null, at);
    }
    return rec;
  });

  const decideTx = hot.transaction((id: number, approve: boolean, by: string, at: Date) => {
    const c = q.change.get(id) as ChangeRow | undefined;
    if (!c || c.state !== "pending") return "gone" as const;
    if (c.by === by) return "self" as const;
    if ((q.later.get(c.entry_id, c.field, id) as { n: number }).n) {
      q.decide.run("rejected", "system:replaced", dt(at), id);
      return "gone" as const;
    }
    const rec = changeOf(q.decide.get(approve ? "applied" : "rejected", by, dt(at), id) as ChangeRow);
    const row = approve ? (q.entry.get(c.entry_id) as Row | undefined) : undefined;
    if (row) {
      // The service was called when the change was made: that day is its check.
      const field = c.field as NewChange["field"];
      const data = withField(JSON.parse(row.data) as Entry, field, parse(c.after), fromSql(c.at)!);
      apply(c.entry_id, data, field === "status" ? (parse(c.after) as string) : null, at);
    }
    return rec;
  });

  const promptOf = (r: PromptRow | undefined, at: Date): Prompt | null => {
    if (!r) return null;
    const when = fromSql(r.at)!;
    if (at.getTime() - when.getTime() > DAY) return null;
    return {
      id: r.id,
      chatId: Number(r.chat_id),
      messageId: r.message_id,
      userId: Number(r.user_id),
      entryId: r.entry_id,
      field: r.field,
      value: parse(r.value),
      at: when,
    };
  };

  return {
    syncSeed: (seed, at) => durable(() => syncSeedTx(seed, at)),
    all: async () => (q.all.all() as Row[]).map(entryOf),
    async get(id) {
      const r = q.entry.get(id) as Row | undefined;
      return r ? entryOf(r) : null;
    },
    create: (e, source, by, at) => durable(() => createTx(e, source, by, at)),
    change: (c, at) => durable(() => changeTx(c, at)),
    decide: (id, approve, by, at) => durable(() => decideTx(id, approve, by, at)),
    async changeById(id) {
      const c = q.change.get(id) as ChangeRow | undefined;
      return c ? changeOf(c) : null;
    },
    history: async (entryId, limit = 10) => rows(q.history.all(entryId, limit)),
    pendingOf: async (entryId) => rows(q.pendingOf.all(entryId)),
    unposted: async () => rows(q.unposted.all()),
    async markPosted(id, at) {
      await durable(() => q.posted.run(dt(at), id));
    },

    async due(before, at) {
      const all = (q.all.all() as Row[]).map(entryOf);
      const since = new Date(at.getTime() - 365 * DAY);
      const count = new Map(
        (q.signalsSince.all(dt(since)) as Array<{ entry_id: string; n: number }>).map((s) => [s.entry_id, s.n]),
      );
      const lastCheck = (e: Entry) =>
        e.checked_at ?? (/^\d{4}-\d{2}-\d{2}$/.test(e.latest_source_date ?? "") ? e.latest_source_date! : "0000-00-00");
      const signalsAfterCheck = (e: Entry) =>
        e.checked_at
          ? (q.signalsAfter.get(e.id, dt(new Date(`${e.checked_at}T00:00:00Z`))) as { n: number }).n
          : (count.get(e.id) ?? 0);
      const out: Array<{ entry: Entry; signals: number }> = [];
      for (const e of all) {
        if ((e.country !== "KZ" && e.country !== "KG") || e.status === "closed") continue;
        const n = count.has(e.id) ? signalsAfterCheck(e) : 0;
        // A number reported as not working is due at once, whatever its date.
        if (lastCheck(e) < day(before) || n > 0) out.push({ entry: e, signals: n });
      }
      return out.sort(
        (a, b) =>
          b.signals - a.signals ||
          lastCheck(a.entry).localeCompare(lastCheck(b.entry)) ||
          a.entry.id.localeCompare(b.entry.id),
      );
    },

    async savePrompt(p, at) {
      const value = p.value === undefined ? null : json(p.value);
      const r = await durable(
        () => q.addPrompt.get(p.chatId, p.messageId, p.userId, p.entryId, p.field, value, dt(at)) as { id: number },
      );
      return r.id;
    },
    async setPromptMessage(id, messageId) {
      await durable(() => q.promptMessage.run(messageId, id));
    },
    prompt: async (where, at) =>
      promptOf(
        ("id" in where ? q.prompt.get(where.id) : q.promptAt.get(where.chatId, where.messageId)) as
          PromptRow | undefined,
        at,
      ),
    async dropPrompt(id) {
      await durable(() => q.dropPrompt.run(id));
    },
    async purgePrompts(at) {
      await durable(() => q.purgePrompts.run(dt(new Date(at.getTime() - DAY))));
    },
  };
}
