import { describe, expect, it } from "vitest";
import { createDirectory, loadDirectory, validateDirectory, type Entry } from "../../src/core/directory/search.ts";

const d = loadDirectory();

describe("directory data (D3, issue 2)", () => {
  it("is valid: sources present, phones well-formed, coordinates inside the country", () => {
    expect(validateDirectory(d)).toEqual([]);
  });

  it("every entry carries its sources with what they support", () => {
    for (const e of d.entries) {
      expect(e.sources.length, e.id).toBeGreaterThan(0);
      for (const s of e.sources) expect(s.supports, e.id).toBeTruthy();
    }
  });

  it("catches a broken entry: bad phone, foreign coordinates, no source", () => {
    const bad: Entry = {
      ...d.byId("kg-bis-ayalzat")!,
      id: "bad",
      phones: [{ as_published: "call me" }],
      lat: 55.75,
      lon: 37.62,
      sources: [],
    };
    const problems = validateDirectory(createDirectory([...d.entries, bad], d.places));
    expect(problems).toEqual(
      expect.arrayContaining([
        "bad: no source",
        'bad: phone "call me" is not well-formed',
        "bad: coordinates outside KG",
      ]),
    );
  });

  it("national lines come in the audited order and only with published numbers", () => {
    const nums = (c: "KZ" | "KG", k: "emergency" | "trust") =>
      d.lines(c, k).flatMap((e) => e.phones.map((p) => p.as_published));
    expect(nums("KZ", "emergency")).toEqual(["112", "102", "103"]);
    expect(nums("KZ", "trust")).toEqual(["111", "150"]);
    expect(nums("KG", "emergency")).toEqual(["102", "103", "112"]);
    expect(nums("KG", "trust")).toEqual(["111"]);
  });

  it("never lists entries whose town is unknown as near", () => {
    const unknown = d.entries.filter((e) => e.scope === "unknown-city").map((e) => e.id);
    expect(unknown.length).toBeGreaterThan(0);
    const hits = d.nearest(43.24, 76.89).map((h) => h.entry.id);
    for (const id of unknown) expect(hits).not.toContain(id);
  });
});

describe("nearest centers", () => {
  it("a location in Almaty lists Almaty's centers first", () => {
    const hits = d.nearest(43.24, 76.89);
    expect(hits[0]!.entry.city_id).toBe("kz-almaty-city");
    expect(hits[0]!.km).toBeLessThan(5);
    expect(d.countryAt(43.24, 76.89)).toBe("KZ");
  });

  it("a location in Bishkek lists Bishkek's centers first, even with Almaty 200 km away", () => {
    const hits = d.nearest(42.87, 74.59);
    const firstFive = hits.slice(0, 5).map((h) => h.entry.city_id);
    expect(firstFive.every((c) => c === "kg-bishkek")).toBe(true);
    expect(d.countryAt(42.87, 74.59)).toBe("KG");
  });

  it("a picked town puts its own centers before closer-looking neighbours", () => {
    const shym = d.place("kz-shymkent")!;
    const hits = d.nearest(shym.lat, shym.lon, { cityId: "kz-shymkent" });
    const ids = hits.slice(0, 3).map((h) => h.entry.id);
    expect(ids).toEqual(expect.arrayContaining(["kz-shy-komek", "kz-shy-center3", "kz-shy-bakytty-zhanuya"]));
  });

  it("outside both countries there is no country", () => {
    expect(d.countryAt(55.75, 37.62)).toBeNull(); // Moscow
  });

  it("every region of both countries has a town list or results", () => {
    for (const c of ["KZ", "KG"] as const) {
      for (const r of d.regions(c)) {
        if (r.kind === "region") expect(d.towns(r.id).length, r.id).toBeGreaterThan(0);
        expect(d.nearest(r.lat, r.lon, { regionId: r.id }).length, r.id).toBeGreaterThan(0);
      }
    }
  });
});
