/**
 * The directory in the database (issue 16): the sourced file seeds it, a new
 * audit of the file flows in where staff changed nothing, and what staff
 * changed survives both a restart and a new file.
 */
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openDatabase, type OpenedDatabase } from "../../src/db/open.ts";
import { createDirectoryStore } from "../../src/db/directory.ts";
import { loadSeed, visibleEntries, type Entry } from "../../src/core/directory/search.ts";
import { tempDir } from "../support/harness.ts";
import { TEST_KEY } from "../support/keys.ts";

let db: OpenedDatabase | undefined;
afterEach(async () => {
  await db?.close();
  db = undefined;
});

const seed = loadSeed().entries;
const at = new Date("2026-11-30T10:00:00Z");

describe("the directory store", () => {
  it("is seeded with every entry and field of the file, sources included; a second start adds nothing", async () => {
    const file = path.join(tempDir(), "d.db");
    db = await openDatabase(file, TEST_KEY);
    const store = createDirectoryStore(db);
    expect(await store.syncSeed(seed, at)).toEqual({ added: seed.length, updated: 0 });
    const all = await store.all();
    expect(all.length).toBe(seed.length);
    const komek = all.find((e) => e.id === "kz-shy-komek")!;
    const fromFile = seed.find((e) => e.id === "kz-shy-komek")!;
    expect({ ...komek, status: undefined, checked_at: undefined }).toEqual({
      ...fromFile,
      status: undefined,
      checked_at: undefined,
    });
    expect(komek.sources.length).toBeGreaterThan(0);
    await db.close();
    db = await openDatabase(file, TEST_KEY);
    expect(await createDirectoryStore(db).syncSeed(seed, at)).toEqual({ added: 0, updated: 0 });
  });

  it("a new file updates what staff never touched and keeps what they changed", async () => {
    db = await openDatabase(path.join(tempDir(), "e.db"), TEST_KEY);
    const store = createDirectoryStore(db);
    await store.syncSeed(seed, at);
    const moved = (await store.change(
      {
        entryId: "kz-shy-komek",
        field: "address",
        after: "ул. Примерная, 1",
        source: "called on 2026-11-30",
        by: "staff:1",
        byName: "A",
      },
      at,
    ))!;
    await store.decide(moved.id, true, "staff:2", at);
    const audited: Entry[] = seed.map((e) =>
      e.id === "kz-shy-komek"
        ? { ...e, address: "from the new audit", hours: "9-18", latest_source_date: "2026-12-01" }
        : e,
    );
    expect(await store.syncSeed(audited, at)).toEqual({ added: 0, updated: 1 });
    const komek = (await store.get("kz-shy-komek"))!;
    expect(komek.address).toBe("ул. Примерная, 1");
    expect(komek.hours).toBe("9-18");
    expect(komek.latest_source_date).toBe("2026-12-01");
  });

  it("adding or removing a number waits for a supervisor, and its author cannot confirm it", async () => {
    db = await openDatabase(path.join(tempDir(), "f.db"), TEST_KEY);
    const store = createDirectoryStore(db);
    await store.syncSeed(seed, at);
    const add = (await store.change(
      {
        entryId: "kz-shy-komek",
        field: "phones",
        after: ["+7 700 000 0001", "+7 700 000 0002"],
        source: "s",
        by: "staff:1",
      },
      at,
    ))!;
    expect(add.state).toBe("pending");
    expect(await store.decide(add.id, true, "staff:1", at)).toBe("self");
    expect(((await store.decide(add.id, true, "staff:2", at)) as { state: string }).state).toBe("applied");
    expect((await store.get("kz-shy-komek"))!.phones.map((p) => p.as_published)).toEqual([
      "+7 700 000 0001",
      "+7 700 000 0002",
    ]);
    const drop = (await store.change(
      { entryId: "kz-shy-komek", field: "phones", after: ["+7 700 000 0002"], source: "s", by: "staff:1" },
      at,
    ))!;
    expect(drop.state).toBe("pending");
    expect((await store.get("kz-shy-komek"))!.phones).toHaveLength(2);
    expect(await store.decide(drop.id, true, "staff:1", at)).toBe("self");
    await store.decide(drop.id, true, "staff:2", at);
    expect((await store.get("kz-shy-komek"))!.phones.map((p) => [p.as_published, p.checked])).toEqual([
      ["+7 700 000 0002", "2026-11-30"],
    ]);
    // A later change replaces a pending one: confirming the old one changes nothing.
    const a = (await store.change(
      { entryId: "kz-shy-center3", field: "phones", after: ["+7 700 000 0003"], source: "s", by: "staff:1" },
      at,
    ))!;
    await store.change(
      { entryId: "kz-shy-center3", field: "phones", after: ["+7 700 000 0004"], source: "s", by: "staff:1" },
      at,
    );
    expect(await store.decide(a.id, true, "staff:2", at)).toBe("gone");
    expect((await store.get("kz-shy-center3"))!.phones).toEqual([]);
  });

  it("closing or moving a service and changing its hours or address wait for a second person; services, reopening and checks apply at once", async () => {
    db = await openDatabase(path.join(tempDir(), "h.db"), TEST_KEY);
    const store = createDirectoryStore(db);
    await store.syncSeed(seed, at);
    const change = (field: "status" | "hours" | "address" | "services", after: unknown) =>
      store.change({ entryId: "kz-shy-komek", field, after, source: "s", by: "staff:1" }, at);
    for (const [field, after] of [
      ["status", "closed"],
      ["status", "moved"],
      ["hours", "пн–пт 9–18"],
      ["address", "ул. Другая, 2"],
    ] as const) {
      expect((await change(field, after))!.state).toBe("pending");
    }
    const komek = (await store.get("kz-shy-komek"))!;
    expect(komek.status).toBe("open");
    expect(visibleEntries([komek], at).map((e) => e.id)).toEqual(["kz-shy-komek"]);
    expect((await change("services", ["legal"]))!.state).toBe("applied");
    expect((await change("status", "unknown"))!.state).toBe("applied");
    expect((await change("status", "open"))!.state).toBe("applied");
    // A confirmed closing takes the service away from survivors.
    const close = (await change("status", "closed"))!;
    await store.decide(close.id, true, "staff:2", at);
    expect(visibleEntries([(await store.get("kz-shy-komek"))!], at)).toEqual([]);
  });

  it("two supervisors deciding the same new phone at once: exactly one decision counts", async () => {
    db = await openDatabase(path.join(tempDir(), "g.db"), TEST_KEY);
    const store = createDirectoryStore(db);
    await store.syncSeed(seed, at);
    const c = (await store.change(
      { entryId: "kz-shy-komek", field: "phones", after: ["+7 700 000 0001"], source: "s", by: "staff:1" },
      at,
    ))!;
    const results = await Promise.all([
      store.decide(c.id, true, "staff:2", at),
      store.decide(c.id, false, "staff:3", at),
    ]);
    expect(results.filter((r) => r === "gone")).toHaveLength(1);
    const decided = results.find((r) => r !== "gone") as { state: string; decidedBy: string };
    expect((await store.changeById(c.id))!.state).toBe(decided.state);
    expect((await store.get("kz-shy-komek"))!.phones.length).toBe(decided.state === "applied" ? 1 : 0);
  });

  it("survivors never see a closed entry; national lines keep their phones whatever their date", () => {
    const closed = { ...seed.find((e) => e.id === "kz-shy-komek")!, status: "closed" as const };
    const line = seed.find((e) => e.id === "kz-nat-111")!;
    const v = visibleEntries([closed, { ...line, latest_source_date: "2019-01-01" }], at);
    expect(v.map((e) => e.id)).toEqual(["kz-nat-111"]);
    expect(v[0]!.phones.length).toBeGreaterThan(0);
  });
});
