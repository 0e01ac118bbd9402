/**
 * The directory in the database (issue 16). The sourced file seeds it; staff
 * keep it true. Every change carries its source and its author and is kept
 * as history. A new or changed phone waits for a supervisor other than its
 * author: a wrong number sent to a survivor, or one planted by someone who
 * got into a staff group, is the harm this avoids. Removing a number, or
 * anything else (hours, address, services, status), applies at once.
 */
import type { PrismaClient } from "../generated/prisma/client.ts";
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

type Row = { id: string; data: string; seed: string | null; status: string; checkedAt: Date | null; updatedAt: Date };
type ChangeRow = {
  id: number;
  entryId: string;
  field: string;
  before: string | null;
  after: string | null;
  source: string;
  by: string;
  byName: string | null;
  state: string;
  decidedBy: string | null;
  at: Date;
};

function entryOf(r: Row): Entry {
  const e = JSON.parse(r.data) as Entry;
  return { ...e, status: r.status as EntryStatus, checked_at: r.checkedAt ? day(r.checkedAt) : null };
}
function changeOf(c: ChangeRow): ChangeRecord {
  return {
    ...c,
    field: c.field as EditField,
    before: parse(c.before),
    after: parse(c.after),
    state: c.state as ChangeRecord["state"],
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

export function createDirectoryStore(prisma: PrismaClient): DirectoryStore {
  const changeRows = (where: object, take?: number) =>
    prisma.directoryChange
      .findMany({ where, orderBy: { id: "desc" }, ...(take ? { take } : {}) })
      .then((l) => l.map(changeOf));

  return {
    /**
     * Brings the file's entries in: new ones are added; for entries already here, each field staff
     * never changed follows the file, and fields they changed keep their value. Idempotent.
     */
    async syncSeed(seed: Entry[], at: Date): Promise<{ added: number; updated: number }> {
      let added = 0;
      let updated = 0;
      const rows = new Map((await prisma.directoryEntry.findMany()).map((r) => [r.id, r]));
      const writes = [];
      for (const e of seed) {
        const row = rows.get(e.id);
        const fresh = json(e);
        if (!row) {
          added++;
          writes.push(
            prisma.directoryEntry.create({
              data: { id: e.id, data: fresh, seed: fresh, status: "open", updatedAt: at },
            }),
          );
          continue;
        }
        if (row.seed === fresh) continue;
        const old = (row.seed ? JSON.parse(row.seed) : {}) as Record<string, unknown>;
        const data = JSON.parse(row.data) as Record<string, unknown>;
        for (const [k, v] of Object.entries(e)) if (json(data[k]) === json(old[k])) data[k] = v;
        updated++;
        writes.push(
          prisma.directoryEntry.update({ where: { id: e.id }, data: { data: json(data), seed: fresh, updatedAt: at } }),
        );
        writes.push(
          prisma.directoryChange.create({
            data: {
              entryId: e.id,
              field: "seed",
              after: null,
              source: "src/data/crisis-centers.json",
              by: "file:crisis-centers.json",
              state: "applied",
              at,
            },
          }),
        );
      }
      if (writes.length) await prisma.$transaction(writes);
      return { added, updated };
    },

    /** Every stored entry, with its status and last check. */
    async all(): Promise<Entry[]> {
      return (await prisma.directoryEntry.findMany({ orderBy: { id: "asc" } })).map(entryOf);
    },

    async get(id: string): Promise<Entry | null> {
      const r = await prisma.directoryEntry.findUnique({ where: { id } });
      return r ? entryOf(r) : null;
    },

    /** Adds an entry that was not in the data (an import row): shown at once, its phones wait for confirmation. */
    async create(
      e: Entry,
      source: string,
      by: string,
      at: Date,
    ): Promise<{ change: ChangeRecord; phones: ChangeRecord | null }> {
      const phones = e.phones.map((p) => p.as_published);
      const bare: Entry = { ...e, phones: [], status: undefined, checked_at: undefined };
      return prisma.$transaction(async (tx) => {
        await tx.directoryEntry.create({
          data: { id: e.id, data: json(bare), seed: null, status: e.status ?? "open", checkedAt: at, updatedAt: at },
        });
        const change = changeOf(
          await tx.directoryChange.create({
            data: { entryId: e.id, field: "new", after: json(bare), source, by, state: "applied", at },
          }),
        );
        const pending = phones.length
          ? changeOf(
              await tx.directoryChange.create({
                data: {
                  entryId: e.id,
                  field: "phones",
                  before: json([]),
                  after: json(phones),
                  source,
                  by,
                  state: "pending",
                  at,
                },
              }),
            )
          : null;
        return { change, phones: pending };
      });
    },

    /**
     * Records a change. One that gives or takes away a way to reach a service (needsSecondPerson)
     * waits (`pending`) for a supervisor; anything else applies at once and counts as a check of the
     * entry. Null when the entry does not exist.
     */
    async change(c: NewChange, at: Date): Promise<ChangeRecord | null> {
      return prisma.$transaction(async (tx) => {
        const row = await tx.directoryEntry.findUnique({ where: { id: c.entryId } });
        if (!row) return null;
        const e = JSON.parse(row.data) as Entry;
        const before = beforeOf(e, c.field, row.status);
        const pending = needsSecondPerson(e, c.field, c.after);
        const rec = await tx.directoryChange.create({
          data: {
            entryId: c.entryId,
            field: c.field,
            before: json(before),
            after: json(c.after),
            source: c.source,
            by: c.by,
            byName: c.byName ?? null,
            state: pending ? "pending" : "applied",
            at,
          },
        });
        if (!pending) {
          const data =
            c.field === "verified"
              ? { ...e, phones: e.phones.map((p) => ({ ...p, checked: day(at) })) }
              : withField(e, c.field, c.after, at);
          await tx.directoryEntry.update({
            where: { id: c.entryId },
            data: {
              data: json(data),
              ...(c.field === "status" ? { status: c.after as string } : {}),
              checkedAt: at,
              updatedAt: at,
            },
          });
        }
        return changeOf(rec);
      });
    },

    /**
     * A supervisor's decision on a pending change. "self" when its author tries to confirm it,
     * "gone" when it was decided already (or replaced by a later change of the same entry's phones).
     */
    async decide(id: number, approve: boolean, by: string, at: Date): Promise<ChangeRecord | "self" | "gone"> {
      return prisma.$transaction(async (tx) => {
        const c = await tx.directoryChange.findUnique({ where: { id } });
        if (!c || c.state !== "pending") return "gone";
        if (c.by === by) return "self";
        const later = await tx.directoryChange.count({
          where: { entryId: c.entryId, field: c.field, id: { gt: id }, state: { not: "rejected" } },
        });
        if (later) {
          await tx.directoryChange.update({
            where: { id },
            data: { state: "rejected", decidedBy: "system:replaced", decidedAt: at },
          });
          return "gone";
        }
        const rec = await tx.directoryChange.update({
          where: { id },
          data: { state: approve ? "applied" : "rejected", decidedBy: by, decidedAt: at },
        });
        if (approve) {
          const row = await tx.directoryEntry.findUnique({ where: { id: c.entryId } });
          if (row) {
            const e = JSON.parse(row.data) as Entry;
            // The service was called when the change was made: that day is its check.
            const field = c.field as NewChange["field"];
            const data = withField(e, field, parse(c.after), c.at);
            await tx.directoryEntry.update({
              where: { id: c.entryId },
              data: {
                data: json(data),
                ...(field === "status" ? { status: parse(c.after) as string } : {}),
                checkedAt: at,
                updatedAt: at,
              },
            });
          }
        }
        return changeOf(rec);
      });
    },

    async changeById(id: number): Promise<ChangeRecord | null> {
      const c = await prisma.directoryChange.findUnique({ where: { id } });
      return c ? changeOf(c) : null;
    },
    history: (entryId: string, limit = 10) => changeRows({ entryId }, limit),
    pendingOf: (entryId: string) => changeRows({ entryId, state: "pending" }),
    /** Pending changes whose confirmation card has not gone to staff yet (an import's, a restart's). */
    unposted: () => changeRows({ state: "pending", postedAt: null }),
    async markPosted(id: number, at: Date) {
      await prisma.directoryChange.updateMany({ where: { id, postedAt: null }, data: { postedAt: at } });
    },

    /** Entries of KZ and KG not closed whose last check (or latest source) is before `before`, most signalled first, then oldest. */
    async due(before: Date, at: Date): Promise<Array<{ entry: Entry; signals: number }>> {
      const all = (await prisma.directoryEntry.findMany()).map(entryOf);
      const since = new Date(at.getTime() - 365 * DAY);
      const signals = await prisma.directorySignal.groupBy({
        by: ["entryId"],
        where: { at: { gte: since } },
        _count: { _all: true },
      });
      const count = new Map(signals.map((s) => [s.entryId, s._count._all]));
      const lastCheck = (e: Entry) =>
        e.checked_at ?? (/^\d{4}-\d{2}-\d{2}$/.test(e.latest_source_date ?? "") ? e.latest_source_date! : "0000-00-00");
      const signalsAfterCheck = async (e: Entry) =>
        e.checked_at
          ? prisma.directorySignal.count({
              where: { entryId: e.id, at: { gt: new Date(`${e.checked_at}T00:00:00Z`) } },
            })
          : (count.get(e.id) ?? 0);
      const out: Array<{ entry: Entry; signals: number }> = [];
      for (const e of all) {
        if ((e.country !== "KZ" && e.country !== "KG") || e.status === "closed") continue;
        const n = count.has(e.id) ? await signalsAfterCheck(e) : 0;
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

    async savePrompt(
      p: { chatId: number; messageId: number | null; userId: number; entryId: string; field: string; value?: unknown },
      at: Date,
    ): Promise<number> {
      const r = await prisma.directoryPrompt.create({
        data: {
          chatId: BigInt(p.chatId),
          messageId: p.messageId,
          userId: BigInt(p.userId),
          entryId: p.entryId,
          field: p.field,
          value: p.value === undefined ? null : json(p.value),
          at,
        },
      });
      return r.id;
    },
    async setPromptMessage(id: number, messageId: number) {
      await prisma.directoryPrompt.update({ where: { id }, data: { messageId } });
    },
    async prompt(where: { id: number } | { chatId: number; messageId: number }, at: Date): Promise<Prompt | null> {
      const r =
        "id" in where
          ? await prisma.directoryPrompt.findUnique({ where: { id: where.id } })
          : await prisma.directoryPrompt.findFirst({
              where: { chatId: BigInt(where.chatId), messageId: where.messageId },
            });
      if (!r || at.getTime() - r.at.getTime() > DAY) return null;
      return {
        id: r.id,
        chatId: Number(r.chatId),
        messageId: r.messageId,
        userId: Number(r.userId),
        entryId: r.entryId,
        field: r.field,
        value: parse(r.value),
        at: r.at,
      };
    },
    async dropPrompt(id: number) {
      await prisma.directoryPrompt.deleteMany({ where: { id } });
    },
    async purgePrompts(at: Date) {
      await prisma.directoryPrompt.deleteMany({ where: { at: { lt: new Date(at.getTime() - DAY) } } });
    },
  };
}
