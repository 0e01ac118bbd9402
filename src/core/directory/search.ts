/**
 * The crisis-center and hotline directory and how it is searched, by distance or town. The sourced
 * data in src/data (see src/data/SOURCES.md) seeds the directory in the database, which staff keep
 * true (desk.ts); the seed is validated at start.
 *
 * Honesty rules (issue 2, D3): only `phones` are ever shown, never
 * `unverified_contacts`; entries whose town is unknown are never "near";
 * coordinates are town centres, so a map pin shows the town, not a shelter.
 */
import fs from "node:fs";
import path from "node:path";
import { projectRoot } from "../../paths.ts";
import type { Locale } from "../../config.ts";
import type { Country } from "../types.ts";

export interface Phone {
  as_published: string;
  note?: string;
  dial_note?: string;
  source_urls?: string[];
  /** The day staff last confirmed the number works (YYYY-MM-DD); seed phones go by their sources' date. */
  checked?: string | null;
}
export interface Source {
  url: string | null;
  date: string | null;
  supports: string;
  kind: string;
  date_note?: string;
}
export interface Entry {
  id: string;
  country: string;
  scope: string;
  entry_type: string;
  region_id: string | null;
  city_id: string | null;
  city_ru: string | null;
  city_local: string | null;
  name_ru: string;
  name_local: string | null;
  name_local_lang: string | null;
  services: string[];
  phones: Phone[];
  unverified_contacts: unknown[];
  address: string | null;
  address_note: string | null;
  hours: string | null;
  is_24_7: boolean | null;
  lat: number | null;
  lon: number | null;
  sources: Source[];
  latest_source_date: string | null;
  confidence: string;
  status_note: string | null;
  not_for_crisis?: boolean;
  /** Opening hours as staff wrote them (shown verbatim); the seed's `hours` are notes for staff. */
  hours_text?: string | null;
  /** open | moved | closed | unknown (staff keep it; closed entries are never shown). */
  status?: EntryStatus;
  /** When staff last checked the entry (YYYY-MM-DD). */
  checked_at?: string | null;
}
export type EntryStatus = "open" | "moved" | "closed" | "unknown";
export const ENTRY_STATUSES: EntryStatus[] = ["open", "moved", "closed", "unknown"];
/** A local phone nobody confirmed for this long is no longer shown (issue 16). */
export const PHONE_SHOWN_DAYS = 365;
/** Entries whose last check is older than this come up in the weekly verification round (D3). */
export const CHECK_EVERY_DAYS = 90;
export interface Place {
  id: string;
  country: string;
  kind: "region" | "city_republican" | "city";
  region_id?: string;
  name_ru: string;
  name_local: string;
  local_lang: string;
  name_latin: string;
  name_latin_alt?: string | null;
  lat: number;
  lon: number;
}

const DATA_DIR = path.join(projectRoot, "src", "data");

/**
 * Which national numbers the "danger now" block shows, in order. Kept by id so
 * the order follows the data audit (KG 112 after 102 and 103; KZ 150 after 111).
 */
export const EMERGENCY_IDS: Record<Country, string[]> = {
  KZ: ["kz-nat-112", "kz-nat-102", "kz-nat-103"],
  KG: ["kg-nat-102", "kg-nat-103", "kg-nat-112"],
};
export const TRUST_LINE_IDS: Record<Country, string[]> = {
  KZ: ["kz-nat-111", "kz-nat-150"],
  KG: ["kg-nat-111"],
};
/** Shown on the trust-lines screen only, marked as not for emergencies (not_for_crisis). */
export const OTHER_LINE_IDS: Record<Country, string[]> = { KZ: [], KG: ["kg-nat-1966"] };
/**
 * The line to call where a service publishes no phone, and what the text may promise of it
 * (src/data/SOURCES.md). KZ 111, the family, women's and children's contact center, refers callers
 * on. KG 111 is the children's line: no source says it connects adults to crisis centers, so an
 * adult in Kyrgyzstan is sent to 102, promised nothing more than that it answers danger.
 */
export const ROUTE_LINE_IDS: Record<Country, string> = { KZ: "kz-nat-111", KG: "kg-nat-102" };

const LINE_TYPES = new Set(["emergency_number", "hotline"]);
/** Rough boxes, only to catch a coordinate typed into the wrong country. */
export const COUNTRY_BOX: Record<Country, { minLat: number; maxLat: number; minLon: number; maxLon: number }> = {
  KZ: { minLat: 40.5, maxLat: 55.5, minLon: 46.4, maxLon: 87.4 },
  KG: { minLat: 39.1, maxLat: 43.3, minLon: 69.2, maxLon: 80.3 },
};

export interface Hit {
  entry: Entry;
  /** Kilometres from the asked point to the entry's town; null when its town is unknown. */
  km: number | null;
}

export interface Directory {
  entries: Entry[];
  places: Place[];
  byId(id: string): Entry | undefined;
  place(id: string): Place | undefined;
  lines(country: Country, kind: "emergency" | "trust" | "other"): Entry[];
  /** Regions and republican cities of a country, in the order people look for them. */
  regions(country: Country): Place[];
  /** Towns of a region, the administrative centre first. */
  towns(regionId: string): Place[];
  /** Country of a point: the country of the nearest known town within 400 km, else null. */
  countryAt(lat: number, lon: number): Country | null;
  /** Centers sorted nearest first, the asked town's own centers before all others. */
  nearest(lat: number, lon: number, opts?: { cityId?: string; regionId?: string }): Hit[];
  /** Nearest known town to a point. */
  nearestPlace(lat: number, lon: number): { place: Place; km: number } | null;
}

export function loadDirectory(dir = DATA_DIR): Directory {
  const { entries, places } = loadSeed(dir);
  return createDirectory(entries, places);
}

/** A Date as its day (YYYY-MM-DD, UTC), as the directory keeps dates. */
export const isoDay = (d: Date): string => d.toISOString().slice(0, 10);
/** The day (YYYY-MM-DD) it is at `d` in a time zone. */
export const localDay = (d: Date, timeZone: string): string =>
  new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).format(d);

/** A phone number as compared: its digits only ("+7 (7252) 53-17-55" is "77252531755"). */
export const phoneDigits = (s: string): string => s.replace(/\D/g, "");

/** Whether a new list of numbers adds one the entry did not have: only those wait for a second person. */
export function addsNumber(before: Phone[], after: string[]): boolean {
  const had = new Set(before.map((p) => phoneDigits(p.as_published)));
  return after.some((n) => !had.has(phoneDigits(n)));
}

/**
 * Whether a change waits for a supervisor other than its author before survivors see it: one that
 * adds or takes away a number, changes hours or address, or marks the service closed or moved. One
 * person alone can neither send survivors to a wrong number nor make a shelter disappear.
 * Services, "open" again and "checked today" apply at once.
 */
export function needsSecondPerson(e: Entry, field: string, after: unknown): boolean {
  switch (field) {
    case "phones": {
      const had = new Set(e.phones.map((p) => phoneDigits(p.as_published)));
      const will = new Set((after as string[]).map(phoneDigits));
      return had.size !== will.size || [...will].some((n) => !had.has(n));
    }
    case "hours":
      return (after ?? null) !== (e.hours_text ?? null);
    case "address":
      return (after ?? null) !== (e.address ?? null);
    case "status":
      return after === "closed" || after === "moved";
    default:
      return false;
  }
}

/** A date-only text (YYYY-MM-DD) as a Date at UTC midnight; a year or month alone is not a date. */
export function dayOf(s: string | null | undefined): Date | null {
  if (!s || !/^\d{4}-\d{2}-\d{2}$/.test(s)) return null;
  const d = new Date(`${s}T00:00:00Z`);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** When a phone was last known to work: its confirmation, else its entry's latest dated source. */
export function phoneCheckedOn(p: Phone, e: Entry): Date | null {
  return dayOf(p.checked) ?? dayOf(e.latest_source_date);
}

/**
 * What survivors may be shown of the stored entries (issue 16): closed services are left out, and a
 * local phone unconfirmed for a year is dropped (the service stays, with its country's route line).
 * National lines are exempt: they are the fallback every answer ends with, checked in the data audit.
 */
export function visibleEntries(stored: Entry[], now: Date): Entry[] {
  const limit = now.getTime() - PHONE_SHOWN_DAYS * 86_400_000;
  return stored
    .filter((e) => e.status !== "closed")
    .map((e) => {
      if (e.scope === "national") return e;
      const phones = e.phones.filter((p) => (phoneCheckedOn(p, e)?.getTime() ?? -Infinity) >= limit);
      return phones.length === e.phones.length ? e : { ...e, phones };
    });
}

/**
 * A directory whose entries can be replaced while the bot runs (staff edits, an import): every
 * reader holds this one object, and each call answers from the latest entries.
 */
export type LiveDirectory = Directory & { replace(entries: Entry[]): void };

export function createLiveDirectory(entries: Entry[], places: Place[]): LiveDirectory {
  let cur = createDirectory(entries, places);
  return {
    get entries() {
      return cur.entries;
    },
    places,
    byId: (id) => cur.byId(id),
    place: (id) => cur.place(id),
    lines: (country, kind) => cur.lines(country, kind),
    regions: (country) => cur.regions(country),
    towns: (regionId) => cur.towns(regionId),
    countryAt: (lat, lon) => cur.countryAt(lat, lon),
    nearest: (lat, lon, opts) => cur.nearest(lat, lon, opts),
    nearestPlace: (lat, lon) => cur.nearestPlace(lat, lon),
    replace(next) {
      cur = createDirectory(next, places);
    },
  };
}

/** Reads the sourced seed files (the data audit's entries and the gazetteer). */
export function loadSeed(dir = DATA_DIR): { entries: Entry[]; places: Place[] } {
  return {
    entries: JSON.parse(fs.readFileSync(path.join(dir, "crisis-centers.json"), "utf8")) as Entry[],
    places: JSON.parse(fs.readFileSync(path.join(dir, "gazetteer.json"), "utf8")) as Place[],
  };
}

/** A phone as staff may type it: digits with spaces, brackets, dashes, an optional leading +. */
export const PHONE_FORMAT = /^\+?[0-9][0-9 ()-]{1,18}[0-9]$/;

export function haversineKm(aLat: number, aLon: number, bLat: number, bLon: number): number {
  const rad = Math.PI / 180;
  const dLat = (bLat - aLat) * rad;
  const dLon = (bLon - aLon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(aLat * rad) * Math.cos(bLat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.min(1, Math.sqrt(h)));
}

export function createDirectory(entries: Entry[], places: Place[]): Directory {
  const entryById = new Map(entries.map((e) => [e.id, e]));
  const placeById = new Map(places.map((p) => [p.id, p]));
  const coordsOf = (e: Entry): { lat: number; lon: number } | null => {
    if (e.lat !== null && e.lon !== null) return { lat: e.lat, lon: e.lon };
    const p = (e.city_id && placeById.get(e.city_id)) || null;
    return p ? { lat: p.lat, lon: p.lon } : null;
  };
  // Services a person can go to or be referred to; phone lines have their own screens.
  const centers = entries.filter(
    (e) => (e.country === "KZ" || e.country === "KG") && !LINE_TYPES.has(e.entry_type) && e.scope !== "unknown-city",
  );

  const nearestPlace = (lat: number, lon: number) => {
    let best: { place: Place; km: number } | null = null;
    for (const p of places) {
      const km = haversineKm(lat, lon, p.lat, p.lon);
      if (!best || km < best.km) best = { place: p, km };
    }
    return best;
  };

  return {
    entries,
    places,
    byId: (id) => entryById.get(id),
    place: (id) => placeById.get(id),
    lines(country, kind) {
      const ids =
        kind === "emergency"
          ? EMERGENCY_IDS[country]
          : kind === "trust"
            ? TRUST_LINE_IDS[country]
            : OTHER_LINE_IDS[country];
      return ids.map((id) => entryById.get(id)).filter((e): e is Entry => !!e && e.phones.length > 0);
    },
    regions(country) {
      const inCountry = places.filter((p) => p.country === country && p.kind !== "city");
      // Republican cities first (most people live there), then the regions; flows sort them for the reader.
      return [
        ...inCountry.filter((p) => p.kind === "city_republican"),
        ...inCountry.filter((p) => p.kind === "region"),
      ];
    },
    towns(regionId) {
      const region = placeById.get(regionId);
      const list = places.filter((p) => p.kind === "city" && p.region_id === regionId);
      const admin = region ? list.filter((p) => p.lat === region.lat && p.lon === region.lon) : [];
      return [
        ...admin,
        ...list.filter((p) => !admin.includes(p)).sort((a, b) => a.name_latin.localeCompare(b.name_latin)),
      ];
    },
    countryAt(lat, lon) {
      const n = nearestPlace(lat, lon);
      return n && n.km <= 400 ? (n.place.country as Country) : null;
    },
    nearestPlace,
    nearest(lat, lon, opts = {}) {
      const hits: Array<Hit & { tier: number }> = [];
      for (const e of centers) {
        const c = coordsOf(e);
        const sameCity = !!opts.cityId && e.city_id === opts.cityId;
        const sameRegion = !!opts.regionId && e.region_id === opts.regionId;
        if (!c && !sameRegion) continue;
        const km = c ? haversineKm(lat, lon, c.lat, c.lon) : null;
        hits.push({ entry: e, km, tier: sameCity ? 0 : c ? 1 : 2 });
      }
      hits.sort((a, b) => a.tier - b.tier || (a.km ?? 1e9) - (b.km ?? 1e9) || a.entry.id.localeCompare(b.entry.id));
      return hits.map(({ entry, km }) => ({ entry, km }));
    },
  };
}

/** The entry's name in the reader's language where a source gave one, else Russian. */
export function entryName(e: Entry, locale: Locale): string {
  return e.name_local && e.name_local_lang === locale ? e.name_local : e.name_ru;
}
export function placeName(p: Place, locale: Locale): string {
  return locale === "ru" ? p.name_ru : p.name_local;
}

/** The region picker's list: republican cities first, then regions by name as the reader sees them. */
export function pickerRegions(d: Directory, country: Country, locale: Locale): Place[] {
  const regions = d.regions(country);
  return [
    ...regions.filter((r) => r.kind === "city_republican"),
    ...sortByName(
      regions.filter((r) => r.kind === "region"),
      locale,
    ),
  ];
}

/** Sorts places by name as the reader sees it, ignoring the word for "region". */
export function sortByName(places: Place[], locale: Locale): Place[] {
  const key = (p: Place) =>
    placeName(p, locale)
      .replace(/(^|\s)(область|облысы|облусу)(\s|$)/g, " ")
      .trim();
  return [...places].sort((a, b) => key(a).localeCompare(key(b), locale));
}

/** Problems that make the data unsafe to show; checked at start and by a test. */
export function validateDirectory(d: Directory): string[] {
  const problems: string[] = [];
  const ids = new Set<string>();
  for (const e of d.entries) {
    if (ids.has(e.id)) problems.push(`${e.id}: duplicate id`);
    ids.add(e.id);
    if (!e.sources?.length) problems.push(`${e.id}: no source`);
    for (const s of e.sources ?? []) if (!s.supports) problems.push(`${e.id}: a source does not say what it supports`);
    for (const p of e.phones) {
      if (!PHONE_FORMAT.test(p.as_published)) problems.push(`${e.id}: phone "${p.as_published}" is not well-formed`);
    }
    const box = COUNTRY_BOX[e.country as Country];
    if (box && e.lat !== null && e.lon !== null) {
      if (e.lat < box.minLat || e.lat > box.maxLat || e.lon < box.minLon || e.lon > box.maxLon)
        problems.push(`${e.id}: coordinates outside ${e.country}`);
    }
    if (e.city_id && !d.place(e.city_id)) problems.push(`${e.id}: unknown city_id ${e.city_id}`);
    if (e.region_id && !d.place(e.region_id)) problems.push(`${e.id}: unknown region_id ${e.region_id}`);
  }
  for (const p of d.places) {
    const box = COUNTRY_BOX[p.country as Country];
    if (box && (p.lat < box.minLat || p.lat > box.maxLat || p.lon < box.minLon || p.lon > box.maxLon))
      problems.push(`${p.id}: coordinates outside ${p.country}`);
  }
  for (const c of ["KZ", "KG"] as Country[]) {
    for (const id of [...EMERGENCY_IDS[c], ...TRUST_LINE_IDS[c], ...OTHER_LINE_IDS[c]]) {
      const e = d.byId(id);
      if (!e) problems.push(`${id}: listed for ${c} but missing from the data`);
      else if (!e.phones.length) problems.push(`${id}: listed for ${c} but has no published phone`);
    }
  }
  return problems;
}
