/**
 * Text normalisation shared by keyword, option and town matching: Unicode
 * NFKC, case folding, invisible characters removed, Latin/Cyrillic
 * look-alikes folded together (S1), and a Latin transliteration so that
 * "Шымкент", "Shymkent" and "Şymkent" meet.
 */

const INVISIBLE = /[\u200B-\u200F\u202A-\u202E\u2060-\u2064\uFEFF\u00AD]/g;

/** Lower case, NFKC, no invisible marks, single spaces, trimmed. */
export function normalize(s: string): string {
  return s.normalize("NFKC").replace(INVISIBLE, "").toLowerCase().replace(/ё/g, "е").replace(/\s+/g, " ").trim();
}

// Latin letters that look like Cyrillic ones, folded to the Cyrillic form.
const HOMOGLYPHS: Record<string, string> = {
  a: "а",
  c: "с",
  e: "е",
  o: "о",
  p: "р",
  x: "х",
  y: "у",
  k: "к",
  m: "м",
  t: "т",
  h: "н",
  b: "в",
  i: "і",
};

const LOOKALIKE = new RegExp(`[${Object.keys(HOMOGLYPHS).join("")}]`, "g");

/** For keywords only: folds mixed-script look-alikes ("cтоп" with a Latin c) together. */
export function skeleton(s: string): string {
  // One pass per rule, no array of characters: it runs on every typed message, twice or more.
  return normalize(s)
    .replace(/[^\p{L}\p{N} ]/gu, "")
    .replace(LOOKALIKE, (ch) => HOMOGLYPHS[ch]!);
}

const CYR_TO_LAT: Record<string, string> = {
  а: "a",
  ә: "a",
  б: "b",
  в: "v",
  г: "g",
  ғ: "g",
  д: "d",
  е: "e",
  ж: "zh",
  з: "z",
  и: "i",
  й: "i",
  і: "i",
  к: "k",
  қ: "k",
  л: "l",
  м: "m",
  н: "n",
  ң: "n",
  о: "o",
  ө: "o",
  п: "p",
  р: "r",
  с: "s",
  т: "t",
  у: "u",
  ұ: "u",
  ү: "u",
  ф: "f",
  х: "kh",
  һ: "h",
  ц: "ts",
  ч: "ch",
  ш: "sh",
  щ: "shch",
  ъ: "",
  ы: "y",
  ь: "",
  э: "e",
  ю: "yu",
  я: "ya",
};

// Kazakh and Turkish-style Latin letters that stand for two-letter sounds.
const LATIN_DIGRAPHS: Record<string, string> = { ş: "sh", ç: "ch", ǵ: "g", ğ: "g" };

/** A Latin key for fuzzy comparison of place names written in any of the scripts. */
export function latinKey(s: string): string {
  const lower = normalize(s);
  let out = "";
  for (const ch of lower) out += CYR_TO_LAT[ch] ?? LATIN_DIGRAPHS[ch] ?? ch;
  return (
    out
      .normalize("NFD")
      .replace(/\p{M}/gu, "") // ş → s, ı → i, ä → a
      .replace(/ı/g, "i")
      .replace(/[^a-z0-9]/g, "")
      // Spelling variants that mean the same sound.
      .replace(/j/g, "zh")
      .replace(/q/g, "k")
      .replace(/x/g, "kh")
      .replace(/w/g, "v")
      .replace(/iy|yi/g, "i")
      .replace(/y/g, "i")
  );
}

// Three rows reused by every call: the matcher compares a typed name with every town name, and a
// fresh matrix per pair was a large share of the bot's garbage (bench/README.md).
let rows = [new Int32Array(64), new Int32Array(64), new Int32Array(64)];

/**
 * Damerau-Levenshtein (optimal string alignment) distance, bounded: anything above `max` is
 * returned as `max + 1` as soon as a whole row exceeds it.
 */
export function editDistance(a: string, b: string, max = 3): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  if (a === b) return 0;
  const n = b.length;
  if (rows[0]!.length <= n) rows = [new Int32Array(n + 1), new Int32Array(n + 1), new Int32Array(n + 1)];
  let [prev2, prev, cur] = rows as [Int32Array, Int32Array, Int32Array];
  for (let j = 0; j <= n; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    let rowMin = i;
    const ai = a.charCodeAt(i - 1);
    const aPrev = i > 1 ? a.charCodeAt(i - 2) : -1;
    for (let j = 1; j <= n; j++) {
      const bj = b.charCodeAt(j - 1);
      let v = prev[j - 1]! + (ai === bj ? 0 : 1);
      const del = prev[j]! + 1;
      const ins = cur[j - 1]! + 1;
      if (del < v) v = del;
      if (ins < v) v = ins;
      if (i > 1 && j > 1 && ai === b.charCodeAt(j - 2) && aPrev === bj && prev2[j - 2]! + 1 < v) v = prev2[j - 2]! + 1;
      cur[j] = v;
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > max) return max + 1;
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return prev[n]!;
}

/**
 * True when `word` (skeletonised) stands in `hay` (skeletonised) as a whole
 * word or phrase; with `prefix`, it only has to begin a word ("убива" finds
 * "убивает").
 */
const WORD_CHAR = /[\p{L}\p{N}]/u;
const isWordChar = (c: string | undefined) => c !== undefined && WORD_CHAR.test(c);

export function hasWord(hay: string, word: string, prefix = false): boolean {
  if (!word) return false;
  for (let i = hay.indexOf(word); i >= 0; i = hay.indexOf(word, i + 1)) {
    if (isWordChar(hay[i - 1])) continue;
    if (prefix || !isWordChar(hay[i + word.length])) return true;
  }
  return false;
}
