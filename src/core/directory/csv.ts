/**
 * The directory as a spreadsheet (issue 16), for the associations that keep
 * their lists in Excel or LibreOffice: one row per service, the editable
 * columns (status, phones, hours, address, services) and, for reference, what
 * identifies the row. An import is planned first: every change it would make,
 * and every row it refuses with the reason and its row number.
 */
import type { Translator } from "../i18n.ts";
import { needsSecondPerson, ENTRY_STATUSES, phoneDigits, type Entry, type EntryStatus, type Place } from "./search.ts";
import { parsePhones, parseServices } from "./desk.ts";

export const COLUMNS = [
  "id",
  "country",
  "region_id",
  "city_id",
  "entry_type",
  "name_ru",
  "name_local",
  "status",
  "phones",
  "hours",
  "address",
  "services",
  "checked_at",
  "phones_checked",
  "phones_waiting",
  "latest_source_date",
  "sources",
] as const;
/** What an import may change on an existing row; the other columns are for reading. */
export const EDITABLE = ["status", "phones", "hours", "address", "services"] as const;
type Editable = (typeof EDITABLE)[number];

/**
 * A spreadsheet runs a cell that starts with = + - @ as a formula: such cells are written with a
 * leading apostrophe (which spreadsheets hide), and read back without it.
 */
const FORMULA = /^[=+\-@\t\r]/;
function cell(v: string): string {
  const safe = FORMULA.test(v) ? `'${v}` : v;
  return /[",;\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
const unguard = (v: string) => (v.startsWith("'") && FORMULA.test(v.slice(1)) ? v.slice(1) : v);

export function toCsv(entries: Entry[], waiting: Map<string, string[]>): string {
  const rows = entries.map((e) =>
    [
      e.id,
      e.country,
      e.region_id ?? "",
      e.city_id ?? "",
      e.entry_type,
      e.name_ru,
      e.name_local ?? "",
      e.status ?? "open",
      e.phones.map((p) => p.as_published).join("; "),
      e.hours_text ?? "",
      e.address ?? "",
      e.services.join("; "),
      e.checked_at ?? "",
      e.phones.map((p) => p.checked ?? "").join("; "),
      (waiting.get(e.id) ?? []).join("; "),
      e.latest_source_date ?? "",
      e.sources.map((s) => s.url ?? s.kind).join(" "),
    ].map((v) => cell(String(v))),
  );
  // A byte-order mark, so that Excel opens Cyrillic and Kazakh letters as UTF-8.
  return `\uFEFF${[COLUMNS.join(","), ...rows.map((r) => r.join(","))].join("\r\n")}\r\n`;
}

/** The largest spreadsheet an import reads: the whole directory is a few dozen kilobytes. */
export const MAX_CSV_BYTES = 2 * 1024 * 1024;

/**
 * The file's bytes as text. Only UTF-8 (with or without a byte-order mark) and UTF-16 with one are
 * read: a file in Windows-1251, as Russian Excel saves «CSV», cannot carry Kazakh and Kyrgyz
 * letters (ә, қ, ө, ү, ң … become "?"), so it is refused with how to save it again, not guessed at.
 */
export function decodeSpreadsheet(bytes: Uint8Array): { text: string } | { error: string } {
  if (bytes.length > MAX_CSV_BYTES)
    return {
      error: `the file is ${Math.ceil(bytes.length / 1024)} KB; an import reads at most ${MAX_CSV_BYTES / 1024 / 1024} MB (the whole directory is far smaller): is it the right file?`,
    };
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return { text: new TextDecoder("utf-16le").decode(bytes.subarray(2)) };
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return { text: new TextDecoder("utf-16be").decode(bytes.subarray(2)) };
  try {
    return { text: new TextDecoder("utf-8", { fatal: true }).decode(bytes) };
  } catch {
    const high = bytes.filter((b) => b >= 0x80);
    const cyrillic1251 = high.filter((b) => b >= 0xc0).length >= high.length * 0.6;
    const how =
      "save it again as UTF-8 (Excel: «Сохранить как» → «CSV UTF-8 (разделитель — запятая)»; LibreOffice: «Кодировка» → «Юникод (UTF-8)») and import that file";
    return {
      error: cyrillic1251
        ? `the file is not UTF-8: it looks like Windows-1251, as Excel saves plain «CSV», which cannot hold Kazakh and Kyrgyz letters; nothing was read. ${how[0]!.toUpperCase()}${how.slice(1)}.`
        : `the file is not UTF-8 text; nothing was read. ${how[0]!.toUpperCase()}${how.slice(1)}.`,
    };
  }
}

/** RFC 4180 text into rows; the delimiter (comma or semicolon, as Excel writes in Russian locales) is the header's. */
export function parseCsv(text: string): string[][] {
  const src = text.replace(/^\uFEFF/, "");
  const firstLine = src.slice(0, src.search(/\r?\n|$/));
  const delim = (firstLine.match(/;/g)?.length ?? 0) > (firstLine.match(/,/g)?.length ?? 0) ? ";" : ",";
  const rows: string[][] = [];
  let row: string[] = [];
  let cur = "";
  let quoted = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (quoted) {
      if (c === '"' && src[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"' && cur === "") quoted = true;
    else if (c === delim) {
      row.push(cur);
      cur = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && src[i + 1] === "\n") i++;
      row.push(cur);
      rows.push(row);
      row = [];
      cur = "";
    } else cur += c;
  }
  if (cur !== "" || row.length) {
    row.push(cur);
    rows.push(row);
  }
  return rows.filter((r) => r.some((v) => v.trim() !== ""));
}

export interface PlannedChange {
  row: number;
  entryId: string;
  field: Editable;
  before: unknown;
  after: unknown;
  /** Adds a number: written as waiting for a supervisor's confirmation. */
  waits: boolean;
}
export interface PlannedEntry {
  row: number;
  entry: Entry;
}
export interface ImportPlan {
  changes: PlannedChange[];
  added: PlannedEntry[];
  refused: Array<{ row: number; reason: string }>;
}

const sameList = (a: string[], b: string[], key = (x: string) => x) =>
  a.length === b.length && a.every((x, i) => key(x) === key(b[i]!));

/** Compares a spreadsheet with the directory: what would change, what would be added, what is refused and why. */
export function planImport(text: string, current: Entry[], places: Place[], translator: Translator): ImportPlan {
  const plan: ImportPlan = { changes: [], added: [], refused: [] };
  const rows = parseCsv(text);
  const header = (rows[0] ?? []).map((h) => h.trim().toLowerCase());
  if (!header.includes("id")) {
    plan.refused.push({
      row: 1,
      reason: `the first row must name the columns, with "id" among them (got: ${header.join(", ") || "nothing"})`,
    });
    return plan;
  }
  const byId = new Map(current.map((e) => [e.id, e]));
  const placeById = new Map(places.map((p) => [p.id, p]));
  const seen = new Set<string>();
  rows.slice(1).forEach((cells, i) => {
    const row = i + 2;
    // A row with a cell too few or too many has lost or gained a delimiter: every column after it is shifted.
    if (cells.length !== header.length) {
      return plan.refused.push({
        row,
        reason: `the row has ${cells.length} cells and the first row names ${header.length} columns: a separator is missing or one too many (a ";" or "," inside a cell needs quotes)`,
      });
    }
    const get = (col: string): string | undefined => {
      const k = header.indexOf(col);
      return k < 0 ? undefined : unguard((cells[k] ?? "").trim());
    };
    const id = get("id") ?? "";
    if (id && seen.has(id)) return plan.refused.push({ row, reason: `"${id}" is on an earlier row too` });
    if (id) seen.add(id);
    const problems: string[] = [];
    const values: Partial<Record<Editable, unknown>> = {};
    const status = get("status");
    if (status !== undefined && status !== "") {
      if (!ENTRY_STATUSES.includes(status as EntryStatus))
        problems.push(`status "${status}" is not one of ${ENTRY_STATUSES.join(", ")}`);
      else values.status = status;
    }
    const phones = get("phones");
    const known = id ? byId.get(id) : undefined;
    if (phones !== undefined) {
      const p = parsePhones(phones, {
        country: known?.country ?? get("country"),
        had: known?.phones.map((x) => x.as_published),
      });
      if ("bad" in p)
        problems.push(
          `phone "${p.bad}" is not a phone number of Kazakhstan or Kyrgyzstan (+7 or 8…, +996 or 0…, or a short line of 3–4 digits; at most four, separated by ";")`,
        );
      else values.phones = p.phones;
    }
    const hours = get("hours");
    if (hours !== undefined) {
      if (hours.length > 80) problems.push("hours are longer than 80 characters");
      else values.hours = hours || null;
    }
    const address = get("address");
    if (address !== undefined) {
      if (address.length > 200) problems.push("the address is longer than 200 characters");
      else values.address = address || null;
    }
    const services = get("services");
    if (services !== undefined && services !== "") {
      const s = parseServices(services, translator);
      if ("unknown" in s)
        problems.push(
          `service "${s.unknown}" is not known (use: psychological, social, legal, shelter, children, medical, referral, hotline, text_chat)`,
        );
      else values.services = s.codes;
    }
    const e = id ? byId.get(id) : undefined;
    if (!e) {
      // A service the directory does not have yet.
      const entry = newEntry(row, id, get, values, placeById, problems);
      if (!entry) return plan.refused.push({ row, reason: problems.join("; ") });
      plan.added.push({ row, entry });
      return;
    }
    if (problems.length) return plan.refused.push({ row, reason: problems.join("; ") });
    const had = e.phones.map((p) => p.as_published);
    if (values.phones && !sameList(had, values.phones as string[], phoneDigits)) {
      const after = values.phones as string[];
      plan.changes.push({
        row,
        entryId: e.id,
        field: "phones",
        before: had,
        after,
        waits: needsSecondPerson(e, "phones", after),
      });
    }
    if (values.status && values.status !== (e.status ?? "open"))
      plan.changes.push({
        row,
        entryId: e.id,
        field: "status",
        before: e.status ?? "open",
        after: values.status,
        waits: needsSecondPerson(e, "status", values.status),
      });
    if (hours !== undefined && (values.hours ?? null) !== (e.hours_text ?? null))
      plan.changes.push({
        row,
        entryId: e.id,
        field: "hours",
        before: e.hours_text ?? null,
        after: values.hours ?? null,
        waits: true,
      });
    if (address !== undefined && (values.address ?? null) !== (e.address ?? null))
      plan.changes.push({
        row,
        entryId: e.id,
        field: "address",
        before: e.address,
        after: values.address ?? null,
        waits: true,
      });
    if (values.services && !sameList([...e.services].sort(), [...(values.services as string[])].sort()))
      plan.changes.push({
        row,
        entryId: e.id,
        field: "services",
        before: e.services,
        after: values.services,
        waits: false,
      });
  });
  return plan;
}

const show = (v: unknown) =>
  Array.isArray(v) ? (v.length ? v.join("; ") : "—") : v === null || v === undefined || v === "" ? "—" : String(v);

/** The plan as lines a coordinator can check against the spreadsheet. */
export function describePlan(plan: ImportPlan): string[] {
  const lines: string[] = [];
  for (const c of plan.changes)
    lines.push(
      `row ${c.row} ${c.entryId}: ${c.field}: ${show(c.before)} → ${show(c.after)}${c.waits ? " (waits for a supervisor's confirmation in the staff group)" : ""}`,
    );
  for (const a of plan.added)
    lines.push(
      `row ${a.row} ${a.entry.id}: new service «${a.entry.name_ru}» in ${a.entry.region_id}${a.entry.phones.length ? " (its numbers wait for a supervisor's confirmation)" : ""}`,
    );
  for (const r of plan.refused) lines.push(`row ${r.row} refused: ${r.reason}`);
  return lines;
}

/** A row for a service the directory does not have yet: checked against the gazetteer, then made an entry (null: see problems). */
function newEntry(
  row: number,
  id: string,
  get: (col: string) => string | undefined,
  values: Partial<Record<Editable, unknown>>,
  placeById: Map<string, Place>,
  problems: string[],
): Entry | null {
  const country = get("country") ?? "";
  const regionId = get("region_id") ?? "";
  const cityId = get("city_id") ?? "";
  const name = get("name_ru") ?? "";
  if (!name) problems.push("a new service needs name_ru");
  if (country !== "KZ" && country !== "KG") problems.push(`a new service needs country KZ or KG (got "${country}")`);
  const region = placeById.get(regionId);
  if (!region || region.kind === "city" || region.country !== country)
    problems.push(`region_id "${regionId}" is not a region of ${country || "the country"} in the gazetteer`);
  const city = cityId ? placeById.get(cityId) : undefined;
  if (cityId && (!city || city.country !== country))
    problems.push(`city_id "${cityId}" is not a town of ${country} in the gazetteer`);
  if (id && !/^(kz|kg)-[a-z0-9-]{2,40}$/.test(id)) problems.push(`a new id must look like kz-town-name (got "${id}")`);
  if (problems.length) return null;
  const newId = id || `${country.toLowerCase()}-${regionId.replace(/^(kz|kg)-/, "")}-${row}`;
  return {
    id: newId,
    country,
    scope: city ? "city" : "region",
    entry_type: get("entry_type") || "crisis_center",
    region_id: regionId,
    city_id: cityId || (region!.kind === "city_republican" ? regionId : null),
    city_ru: city?.name_ru ?? null,
    city_local: city?.name_local ?? null,
    name_ru: name,
    name_local: get("name_local") || null,
    name_local_lang: get("name_local") ? (country === "KZ" ? "kk" : "ky") : null,
    services: (values.services as string[] | undefined) ?? [],
    phones: ((values.phones as string[] | undefined) ?? []).map((n) => ({ as_published: n })),
    unverified_contacts: [],
    address: (values.address as string | null | undefined) ?? null,
    address_note: null,
    hours: null,
    hours_text: (values.hours as string | null | undefined) ?? null,
    is_24_7: null,
    lat: null,
    lon: null,
    sources: [],
    latest_source_date: null,
    confidence: "added by staff",
    status_note: null,
    status: (values.status as EntryStatus | undefined) ?? "open",
  };
}
