import { TEST_KEY } from "../support/keys.ts";
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTranslator } from "../../src/core/i18n.ts";
import { runDigest, runEscalation } from "../../src/core/reports/jobs.ts";
import { contactWindow, createStaffDesk } from "../../src/core/reports/staff.ts";
import type { ReportStore } from "../../src/core/reports/types.ts";
import { loadDirectory } from "../../src/core/directory/search.ts";
import { createSealer } from "../../src/core/safety/sealer.ts";
const sealer = createSealer(Buffer.alloc(32, 5));
import { makeAddress } from "../../src/core/types.ts";
import { openDatabase, type OpenedDatabase } from "../../src/db/open.ts";
import { createReportStore } from "../../src/db/reports.ts";
import { tempDir } from "../support/harness.ts";
import { seedReport } from "../support/reports.ts";
import { prismaOf } from "../support/prisma.ts";

const STAFF = -100777;
let db: OpenedDatabase;
let reports: ReportStore;
let file: string;
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

beforeAll(async () => {
  file = path.join(tempDir(), "jobs.db");
  db = await openDatabase(file, TEST_KEY);
  reports = createReportStore(db, sealer);
});
afterAll(async () => {
  await db.close();
});

const desk = () =>
  createStaffDesk({
    reports,
    directory: loadDirectory(),
    translator: createTranslator(),
    staffLocale: "ru",
    now: () => new Date(),
    kick: () => undefined,
  });
const pings = async (id: string) =>
  prismaOf(db).outbox.count({ where: { reportId: id, kind: "notice", dedupeKey: { startsWith: "ping:" } } });

describe("escalation under a fake clock (R8, O1)", () => {
  it("pings an urgent report after 10 minutes and a normal one after 12 hours, each once per threshold, and never after a claim", async () => {
    const t0 = new Date("2026-11-25T03:00:00Z");
    const urgent = await seedReport(reports, makeAddress("telegram", 1), STAFF, { urgent: true }, t0);
    const normal = await seedReport(reports, makeAddress("telegram", 2), STAFF, {}, t0);
    const run = (at: number) =>
      runEscalation({
        reports,
        desk: desk(),
        now: () => new Date(t0.getTime() + at),
        urgentMinutes: 10,
        normalHours: 12,
        kick: () => undefined,
      });

    expect(await run(9 * MIN)).toBe(0);
    expect(await run(10 * MIN)).toBe(1);
    expect(await pings(urgent.id)).toBe(1);
    // A repeated or late run in the same window does nothing more.
    expect(await run(10 * MIN)).toBe(0);
    expect(await run(15 * MIN)).toBe(0);
    // The clock jumps back an hour: still nothing twice.
    expect(await run(-HOUR)).toBe(0);
    expect(await run(20 * MIN)).toBe(1);
    expect(await pings(urgent.id)).toBe(2);

    await reports.take(urgent.id, { id: 9, name: "S" }, new Date(t0.getTime() + 21 * MIN), []);
    expect(await run(12 * HOUR)).toBe(1); // only the normal one now
    expect(await pings(urgent.id)).toBe(2);
    expect(await pings(normal.id)).toBe(1);
    const notice = await prismaOf(db).outbox.findFirst({
      where: { reportId: normal.id, dedupeKey: { startsWith: "ping:" } },
    });
    expect(notice!.target).toBe(`staff:${STAFF}`);
  });

  it("a daily digest goes to each staff chat once a day, with counts only", async () => {
    const chats = [STAFF, -100778];
    const at = new Date("2026-11-26T04:00:00Z");
    expect(await runDigest({ reports, chats, now: () => at, kick: () => undefined })).toBe(2);
    await runDigest({ reports, chats, now: () => new Date(at.getTime() + HOUR), kick: () => undefined });
    const rows = await prismaOf(db).outbox.findMany({ where: { dedupeKey: { startsWith: "digest:" } } });
    expect(rows).toHaveLength(2);
  });

  it("the digest names yesterday's campaign sources, from the aggregate counters only (issue 17)", async () => {
    const { createSqliteStore } = await import("../../src/db/session-store.ts");
    const store = createSqliteStore(db);
    const at = new Date("2026-11-28T04:00:00Z");
    for (const [day, source] of [
      ["2026-11-27T10:00:00Z", "poster1"],
      ["2026-11-27T11:00:00Z", "poster1"],
      ["2026-11-27T12:00:00Z", "tv"],
      ["2026-11-28T01:00:00Z", "poster1"],
      ["2026-11-26T23:00:00Z", "tv"],
    ] as const)
      await store.countSource(source, new Date(day));
    await runDigest({
      reports,
      chats: [-100779],
      now: () => at,
      kick: () => undefined,
      sources: (since, until) => store.sourceCounts(since, until),
    });
    const row = (await prismaOf(db).outbox.findFirst({ where: { dedupeKey: "digest:-100779:2026-11-28" } }))!;
    const payload = JSON.parse(sealer.open(row.payloadEnc)) as { key: string; vars: Record<string, unknown> };
    expect(payload.key).toBe("staff.notice.digestSources");
    expect(payload.vars.sources).toBe("poster1 2, tv 1");
  });
});

describe("retention (P7)", () => {
  it("erases the way back after the relay days and the text after the text days; counts remain", async () => {
    const t0 = new Date("2026-01-01T00:00:00Z");
    const r = await seedReport(reports, makeAddress("telegram", 3), STAFF, { text: "Секретный текст" }, t0);
    await reports.take(r.id, { id: 1, name: "S" }, t0, []);
    await reports.update(
      r.id,
      { status: "closed", outcome: "helped", from: ["taken"] },
      t0,
      { actor: "staff:1", action: "close", result: "helped" },
      [],
    );
    const limits = { relayDays: 30, textDays: 90, draftHours: 24, auditDays: 365 };
    await reports.purge(new Date(t0.getTime() + 29 * DAY), limits);
    expect(await reports.relayAddress(r.id)).toBe("telegram:3");
    await reports.purge(new Date(t0.getTime() + 31 * DAY), limits);
    expect(await reports.relayAddress(r.id)).toBeNull();
    expect((await reports.byId(r.id))!.text).toBe("Секретный текст");
    await reports.purge(new Date(t0.getTime() + 91 * DAY), limits);
    const after = (await reports.byId(r.id))!;
    expect(after.text).toBeNull();
    expect(after.status).toBe("closed");
    expect((await reports.stats(t0, [STAFF])).byStatus.closed).toBeGreaterThanOrEqual(1);
    const purges = await prismaOf(db).auditLog.findMany({ where: { action: "retention_purge" } });
    expect(purges.length).toBeGreaterThanOrEqual(2);
  });
});

describe("the audit log is append-only (ST5)", () => {
  it("refuses updates and deletes of recent rows, allows deleting rows older than a year", async () => {
    const raw = new Database(file);
    try {
      raw
        .prepare("INSERT INTO audit_log (at, actor, action, result) VALUES (?, 'system', 'test', 'ok')")
        .run(new Date().toISOString());
      raw
        .prepare("INSERT INTO audit_log (at, actor, action, result) VALUES (?, 'system', 'old', 'ok')")
        .run(new Date(Date.now() - 366 * DAY).toISOString());
      expect(() => raw.prepare("UPDATE audit_log SET result = 'changed' WHERE action = 'test'").run()).toThrow(
        /append-only/,
      );
      expect(() => raw.prepare("DELETE FROM audit_log WHERE action = 'test'").run()).toThrow(/365 days/);
      expect(raw.prepare("DELETE FROM audit_log WHERE action = 'old'").run().changes).toBe(1);
    } finally {
      raw.close();
    }
  });
});

describe("the schema collects no identity (P1)", () => {
  it("no table has a column for a phone, username, name, address or ID number", () => {
    const raw = new Database(file, { readonly: true });
    try {
      const tables = raw.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{
        name: string;
      }>;
      const bad: string[] = [];
      for (const { name } of tables) {
        for (const c of raw.prepare(`PRAGMA table_info("${name}")`).all() as Array<{ name: string }>) {
          if (/phone|username|first_name|last_name|address|iin|passport/i.test(c.name)) bad.push(`${name}.${c.name}`);
        }
      }
      expect(tables.length).toBeGreaterThan(8);
      expect(bad).toEqual([]);
    } finally {
      raw.close();
    }
  });
});

describe("contact windows (S9)", () => {
  it("a morning-only reporter in Almaty (UTC+5) is knocked between 9 and 12 local time", () => {
    const r = { contact: "morning" as const, country: "KZ" as const };
    expect(contactWindow(r, new Date("2026-11-25T05:00:00Z")).open).toBe(true); // 10:00 Almaty
    const evening = contactWindow(r, new Date("2026-11-25T14:00:00Z")); // 19:00 Almaty
    expect(evening.open).toBe(false);
    expect(evening.next.toISOString()).toBe("2026-11-26T04:00:00.000Z"); // 09:00 Almaty next day
    expect(contactWindow({ contact: "morning", country: "KG" }, new Date("2026-11-25T03:30:00Z")).open).toBe(true); // 09:30 Bishkek (UTC+6)
    expect(contactWindow({ contact: "none", country: "KZ" }, new Date()).open).toBe(false);
  });
});

describe("escalation tiers (R8)", () => {
  it("raises an untaken report to supervisors after 2 h once, and reminds a holder who has not answered in 24 h once", async () => {
    const t0 = new Date("2026-11-27T00:00:00Z");
    const waiting = await seedReport(reports, makeAddress("telegram", 11), STAFF, {}, t0);
    const held = await seedReport(reports, makeAddress("telegram", 12), STAFF, {}, t0);
    await reports.take(held.id, { id: 3, name: "Айгуль" }, t0, []);
    const run = (at: number) =>
      runEscalation({
        reports,
        desk: desk(),
        now: () => new Date(t0.getTime() + at),
        urgentMinutes: 10,
        normalHours: 12,
        kick: () => undefined,
      });
    const count = (prefix: string, id: string) =>
      prismaOf(db).outbox.count({ where: { reportId: id, dedupeKey: { startsWith: prefix } } });
    await run(HOUR);
    expect(await count("supervisors:", waiting.id)).toBe(0);
    await run(2 * HOUR);
    await run(3 * HOUR);
    expect(await count("supervisors:", waiting.id)).toBe(1);
    await run(23 * HOUR);
    expect(await count("remind:", held.id)).toBe(0);
    await run(24 * HOUR);
    await run(25 * HOUR);
    expect(await count("remind:", held.id)).toBe(1);
  });
});

describe("staff reply outside the reporter's hours (S9)", () => {
  it("tells staff the hours the reporter chose", async () => {
    const at = new Date("2026-11-25T14:00:00Z"); // 19:00 in Almaty
    const r = await seedReport(reports, makeAddress("telegram", 21), STAFF, { contact: "morning" }, at);
    await reports.take(r.id, { id: 5, name: "S" }, at, []);
    const d = createStaffDesk({
      reports,
      directory: loadDirectory(),
      translator: createTranslator(),
      staffLocale: "ru",
      now: () => at,
      kick: () => undefined,
    });
    expect(await d.reply(r.id, { id: 5, name: "S", supervisor: false, approved: true }, STAFF, "Здравствуйте")).toBe(
      "Автор просил связываться только 9–12 (по его времени): ответ придёт в это время.",
    );
  });
});
