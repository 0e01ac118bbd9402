/**
 * Finds a town or region from what a person typed, in Kazakh, Kyrgyz, Russian
 * or Latin spelling, tolerating small typos ("Шимкент", "Almati").
 */
import type { Place } from "./directory.ts";
import { editDistance, latinKey, normalize } from "../text.ts";

// Words around a name that say what it is, in the three languages and Latin.
const NOISE = /\b(г|гор|город|qala|kala|kalasy|shaary|shaar|city|oblast|oblys|oblysy|oblusu|region|obl|obl\.|район|rayon|audany)\b/g;
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
  if (p.name_latin_alt) names.push(...p.name_latin_alt.split(/[,/()]|\bor\b/).map((s) => s.replace(/\d{4}(-\d{4})?|until|historical/g, "")));
  return names;
}

function clean(text: string): string {
  return text.toLowerCase().replace(NOISE_CYR, " ").replace(NOISE, " ");
}

export function createTownMatcher(places: Place[]): TownMatcher {
  const index: IndexedName[] = [];
  for (const p of places) {
    for (const n of namesOf(p)) {
      const key = latinKey(clean(n));
      if (key.length >= 2) index.push({ plain: plainOf(clean(n)), key, place: p });
    }
  }
  return {
    match(text) {
      const key = latinKey(clean(text));
      if (key.length < 2 || key.length > 40) return null;
      // "Каракол" and "Кара-Көл" share a Latin key; the spelling as typed decides.
      const plain = plainOf(clean(text));
      const exact = index.filter((n) => n.plain === plain);
      if (exact.length) return (exact.find((n) => n.place.kind !== "region") ?? exact[0]!).place;
      const allowed = key.length <= 4 ? 0 : key.length <= 7 ? 1 : 2;
      let best: { d: number; place: Place } | null = null;
      for (const n of index) {
        const d = editDistance(key, n.key, allowed);
        if (d > allowed) continue;
        // On a tie prefer a town to a region (a region shares its centre's name).
        const better = !best || d < best.d || (d === best.d && n.place.kind !== "region" && best.place.kind === "region");
        if (better) best = { d, place: n.place };
      }
      return best?.place ?? null;
    },
  };
}
