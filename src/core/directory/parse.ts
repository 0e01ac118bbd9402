/** How the directory desk reads what staff type: sources, phones, services; and the codes it uses. */
import type { Translator } from "../i18n.ts";
import { parsePhoneNumberFromString, type CountryCode } from "libphonenumber-js/max";
import { isoDay as day, PHONE_FORMAT, phoneDigits, type EntryStatus } from "./search.ts";

export const TYPED: Record<string, "phones" | "hours" | "address" | "services"> = {
  ph: "phones",
  hr: "hours",
  ad: "address",
  sv: "services",
};
export const STATUS_ACTIONS: Record<string, EntryStatus> = { so: "open", sm: "moved", sc: "closed", su: "unknown" };
/** Services staff may name; what survivors see is `services.<code>` in their language. */
export const SERVICE_CODES = [
  "psychological",
  "social",
  "legal",
  "shelter",
  "children",
  "medical",
  "referral",
  "hotline",
  "text_chat",
];
/** Every code the data uses; the national lines' (emergency, police…) are not offered to staff but read back from a spreadsheet. */
export const KNOWN_SERVICE_CODES = [
  ...SERVICE_CODES,
  "emergency",
  "police",
  "police_investigation",
  "ambulance",
  "fire",
];
export const LIST_MAX = 20;
/** How many due entries one verification round posts to a group. */
export const CHECKS_PER_ROUND = 5;

/** "2026-12-05" as staff write it: "05.12.2026". */
export const dotted = (iso: string) => iso.split("-").reverse().join(".");

export const norm = (s: string) =>
  s
    .toLowerCase()
    .replace(/ё/g, "е")
    .replace(/[^\p{L}\p{N}]+/gu, " ")
    .trim();

/**
 * A source as staff give it: a link, or the day they called ("28.11", "28.11.2026", "2026-11-28").
 * `today` is the staff group's own day (YYYY-MM-DD in its time zone), so "today" at 00:30 in
 * Bishkek is not refused as a day in the future.
 */
export function parseSource(text: string, today: string): { source: string } | { error: "source" | "future" } {
  const todayAt = new Date(`${today}T00:00:00Z`);
  const s = text.trim();
  const url = /https?:\/\/\S+/i.exec(s);
  if (url) return { source: `link: ${url[0]}` };
  let y: number, m: number, d: number;
  const iso = /(\d{4})-(\d{2})-(\d{2})/.exec(s);
  const dm = /(\d{1,2})[./](\d{1,2})(?:[./](\d{2,4}))?/.exec(s);
  if (iso) [y, m, d] = [Number(iso[1]), Number(iso[2]), Number(iso[3])];
  else if (dm) {
    d = Number(dm[1]);
    m = Number(dm[2]);
    y = dm[3] ? Number(dm[3].length === 2 ? `20${dm[3]}` : dm[3]) : todayAt.getUTCFullYear();
  } else return { error: "source" };
  const at = new Date(Date.UTC(y, m - 1, d));
  if (at.getUTCMonth() !== m - 1 || at.getUTCDate() !== d) return { error: "source" };
  if (at.getTime() > todayAt.getTime()) return { error: "future" };
  return { source: `called on ${day(at)}` };
}

/**
 * Up to four phones, separated by commas, semicolons or lines; the first that is not a number is
 * refused. A number is one that the phone-number library (its full metadata) holds valid for
 * Kazakhstan or Kyrgyzstan, written with +7, +996 or the national prefix, or a short line of 3–4
 * digits (111, 150, 1966); a number the entry already had is kept as it is, so a spreadsheet
 * exported and imported unchanged changes nothing.
 */
export function parsePhones(
  s: string,
  opts: { country?: string; had?: string[] } = {},
): { phones: string[] } | { bad: string } {
  const parts = s
    .split(/[,;\n]+/)
    .map((p) => p.trim())
    .filter(Boolean);
  const had = new Set((opts.had ?? []).map(phoneDigits));
  const ok = (p: string) =>
    PHONE_FORMAT.test(p) &&
    (had.has(phoneDigits(p)) || /^\d{3,4}$/.test(p.replace(/\D/g, "")) || isCountryNumber(p, opts.country));
  const bad = parts.find((p) => !ok(p));
  if (bad !== undefined || parts.length > 4) return { bad: (bad ?? s).slice(0, 40) };
  return { phones: parts };
}

export function isCountryNumber(p: string, country?: string): boolean {
  const regions: CountryCode[] = country === "KG" ? ["KG", "KZ"] : ["KZ", "KG"];
  return regions.some((r) => {
    const n = parsePhoneNumberFromString(p, r);
    return !!n?.isValid() && (n.country === "KZ" || n.country === "KG");
  });
}

/** Services named by code or in any of the three languages; the first part that is none of them is refused. */
export function parseServices(s: string, translator: Translator): { codes: string[] } | { unknown: string } {
  const names = KNOWN_SERVICE_CODES.map((c) => ({ c, names: [c, ...translator.all(`services.${c}`)].map(norm) }));
  const codes: string[] = [];
  for (const part of s
    .split(/[,;\n]+/)
    .map((p) => p.trim())
    .filter(Boolean)) {
    const w = norm(part);
    // An exact code or name first: "police_investigation" is not "police".
    const hit =
      names.find((n) => n.names.includes(w)) ??
      names.find((n) => n.names.some((x) => (w.length >= 4 && x.startsWith(w)) || (x.length >= 4 && w.startsWith(x))));
    if (!hit) return { unknown: part.slice(0, 40) };
    if (!codes.includes(hit.c)) codes.push(hit.c);
  }
  return codes.length ? { codes } : { unknown: s.slice(0, 40) };
}
