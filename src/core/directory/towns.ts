/**
 * Finds a town or region from what a person typed, in Kazakh, Kyrgyz, Russian
 * or Latin spelling, tolerating small typos ("Шимкент", "Almati").
 */
import type { Place } from "./search.ts";
import { editDistance, latinKey, normalize } from "../text.ts";

// Words around a name that say what it is, in the three languages and Latin.
const NOISE =
  /\b(г|гор|город|qala|kala|kalasy|shaary|shaar|city|oblast|oblys|oblysy|oblusu|region|obl|obl\.|район|rayon|audany)\b/g;
const NOISE_CYR = /(^|\s)(г\.|город|қаласы|шаары|облысы|облусу|область|обл\.|ауданы|району)(?=\s|$)/g;

interface IndexedName {
  /** The name as written (letters only), for exact matches in its own script. */
  plain: string;
  /** Its Latin key, for matches across scripts and with typos. */
  key: string;
  place: Place;
}

const plainOf = (s: string) => normalize(s).replace(/[^\p{L}\p{N}]/gu, "");

export interface TownMatcher {
  /** Best match, or null when nothing is close enough. */
  match(text: string): Place | null;
}

function namesOf(p: Place): string[] {
  const names = [p.name_ru, p.name_local, p.name_latin];
  if (p.name_latin_alt)
    names.push(
      ...p.name_latin_alt.split(/[,/()]|\bor\b/).map((s) => s.replace(/\d{4}(-\d{4})?|until|historical/g, "")),
    );
  return names;
}

function clean(text: string): string {
  return text.toLowerCase().replace(NOISE_CYR, " ").replace(NOISE, " ");
}

export function createTownMatcher(places: Place[]): TownMatcher {
  // Names by their spelling as written (the exact match), and by the length of their Latin key: a
  // typo of at most two letters is looked for only among keys of nearly the same length.
  const byPlain = new Map<string, IndexedName[]>();
  const byLength: IndexedName[][] = [];
  // The order names were indexed in decides between equally good ones, as a single list did.
  const order = new Map<IndexedName, number>();
  for (const p of places) {
    for (const n of namesOf(p)) {
      const key = latinKey(clean(n));
      if (key.length < 2) continue;
      const entry = { plain: plainOf(clean(n)), key, place: p };
      order.set(entry, order.size);
      (byPlain.get(entry.plain) ?? byPlain.set(entry.plain, []).get(entry.plain)!).push(entry);
      (byLength[key.length] ??= []).push(entry);
    }
  }
  return {
    match(text) {
      const key = latinKey(clean(text));
      if (key.length < 2 || key.length > 40) return null;
      // "Каракол" and "Кара-Көл" share a Latin key; the spelling as typed decides.
      const exact = byPlain.get(plainOf(clean(text)));
      if (exact?.length) return (exact.find((n) => n.place.kind !== "region") ?? exact[0]!).place;
      const allowed = key.length <= 4 ? 0 : key.length <= 7 ? 1 : 2;
      let best: { d: number; place: Place; at: number } | null = null;
      for (let len = key.length - allowed; len <= key.length + allowed; len++) {
        for (const n of byLength[len] ?? []) {
          const d = editDistance(key, n.key, allowed);
          if (d > allowed) continue;
          const at = order.get(n)!;
          // On a tie prefer a town to a region (a region shares its centre's name), then the first indexed.
          const better =
            !best ||
            d < best.d ||
            (d === best.d && n.place.kind !== "region" && best.place.kind === "region") ||
            (d === best.d && (n.place.kind !== "region") === (best.place.kind !== "region") && at < best.at);
          if (better) best = { d, place: n.place, at };
        }
      }
      return best?.place ?? null;
    },
  };
}
