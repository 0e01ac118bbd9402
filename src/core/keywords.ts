/**
 * Words people type that the bot must act on in any state (S1, S11). These are
 * inputs, not texts the bot shows, so they live here rather than in locales/.
 * Each is a stem matched at the start of a word after normalisation and
 * look-alike folding; the README lists them.
 */
import { hasWord, skeleton } from "./text.ts";

/** Typed alone (the whole message), these mean "quick exit" (S1, W1). */
export const EXIT_WORDS: Record<"kk" | "ky" | "ru" | "en", string[]> = {
  ru: ["выход", "выйти", "стоп", "exit"],
  kk: ["шығу", "тоқта", "шық"],
  ky: ["чыгуу", "токто", "чык"],
  en: ["exit", "stop", "quit"],
};

/**
 * Anywhere in a message, these bring the emergency block at once (S11). A
 * trailing * marks a stem that only has to begin a word; the rest are whole
 * words, so "қан" (blood) does not fire on "қанша" (how much).
 */
export const DANGER_WORDS: Record<"kk" | "ky" | "ru" | "en", string[]> = {
  ru: [
    "убьет*",
    "убить меня",
    "убива*",
    "избива*",
    "бьет меня",
    "душит*",
    "задуш*",
    "изнасил*",
    "помогите",
    "спасите",
    "угрожает*",
    "покончить с собой",
    "не хочу жить",
    "суицид*",
    "с ножом",
    "нож",
    "пистолет*",
    "ружье",
    "кровь",
    "истекаю*",
  ],
  kk: [
    "өлтір*",
    "ұрып жатыр",
    "ұрады",
    "соғып жатыр",
    "тұншықтыр*",
    "зорла*",
    "көмектесіңдер",
    "құтқарыңдар",
    "өмір сүргім келмейді",
    "пышақ*",
    "мылтық*",
    "қан кетіп",
  ],
  ky: [
    "өлтүр*",
    "уруп жатат",
    "сабап жатат",
    "урат",
    "муунт*",
    "зордук*",
    "жардам бергиле",
    "куткаргыла",
    "жашагым келбейт",
    "бычак*",
    "мылтык*",
    "кан агып",
  ],
  en: ["kill*", "beating me", "hits me", "strangl*", "rape*", "help me", "suicid*", "knife", "gun"],
};

const exitSet = new Set(Object.values(EXIT_WORDS).flat().map(skeleton));
const danger = [...new Set(Object.values(DANGER_WORDS).flat())].map((w) => ({
  word: skeleton(w.replace(/\*$/, "")),
  prefix: w.endsWith("*"),
}));

/** Whole-message exit words, plus the exit button's label in any language. */
export function isExitWord(text: string, buttonLabels: readonly string[] = []): boolean {
  const s = skeleton(text);
  if (!s) return false;
  return exitSet.has(s) || buttonLabels.some((l) => labelSkeleton(l) === s);
}

/** The exit button's labels are a handful of fixed texts: each folded once, not on every message. */
const labelSkeletons = new Map<string, string>();
function labelSkeleton(label: string): string {
  let s = labelSkeletons.get(label);
  if (s === undefined) {
    s = skeleton(label);
    if (labelSkeletons.size < 64) labelSkeletons.set(label, s);
  }
  return s;
}

export function hasDangerWords(text: string): boolean {
  const s = skeleton(text);
  return danger.some((d) => hasWord(s, d.word, d.prefix));
}
