/**
 * i18next for the three languages. One fixed `t` per message and locale; the
 * shared instance's language is never changed (R, emails/i18n.ts explains why).
 * A key missing in kk or ky falls back to ru; a key missing everywhere is
 * never shown raw (S13).
 */
import fs from "node:fs";
import path from "node:path";
import i18next, { type i18n as I18n } from "i18next";
import { LOCALES, type Locale } from "../config.ts";
import { projectRoot } from "../paths.ts";

export type T = (key: string, vars?: Record<string, unknown>) => string;

export interface Translator {
  t(locale: Locale, key: string, vars?: Record<string, unknown>): string;
  fixed(locale: Locale): T;
  /** Every locale's value of a key (for matching typed words in any language). */
  all(key: string): string[];
  /** Best locale for a client language code ("ru-RU", "kk", "ky"), else the default. */
  negotiate(code: string | undefined, fallback: Locale): Locale;
  /**
   * A `t` for one channel: a key that differs per channel ("near.ask" → "near.ask_telegram",
   * "near.ask_whatsapp") gives that channel's text; every other key is shared.
   */
  forChannel(locale: Locale, channel: string): T;
}

/** Suffixes of the keys that differ per channel. Each such key exists for every channel (test/locales.test.ts). */
export const CHANNEL_SUFFIXES = ["_telegram", "_whatsapp"] as const;

/** A text split at its `{{name}}`s: parts[0], vars[0], parts[1], … */
type Template = { parts: string[]; names: string[] };

/** Options i18next reads from the same object as the values: those texts go through i18next. */
const OPTION_NAMES = new Set([
  "count",
  "context",
  "ordinal",
  "lng",
  "lngs",
  "fallbackLng",
  "ns",
  "defaultValue",
  "replace",
  "interpolation",
  "returnObjects",
  "joinArrays",
  "postProcess",
  "keyPrefix",
  "nsSeparator",
  "keySeparator",
]);

function compile(raw: string): Template | null {
  if (raw.includes("$t(") || /\{\{[^}]*,/.test(raw)) return null; // nesting or formatting: i18next's work
  const parts: string[] = [];
  const names: string[] = [];
  const re = /\{\{\s*([\w.]+)\s*\}\}/g;
  let last = 0;
  for (let m = re.exec(raw); m; m = re.exec(raw)) {
    parts.push(raw.slice(last, m.index));
    names.push(m[1]!);
    last = m.index + m[0].length;
  }
  parts.push(raw.slice(last));
  return { parts, names };
}

/** The text with its values, or undefined when i18next must do it. */
function fill(tpl: Template | null, vars: Record<string, unknown>): string | undefined {
  if (!tpl) return undefined;
  for (const k in vars) if (OPTION_NAMES.has(k)) return undefined;
  let out = tpl.parts[0]!;
  for (let i = 0; i < tpl.names.length; i++) {
    const v = vars[tpl.names[i]!];
    if (typeof v === "string") out += v;
    else if (typeof v === "number") out += String(v);
    else return undefined;
    out += tpl.parts[i + 1]!;
  }
  return out;
}

export const LOCALES_DIR = path.join(projectRoot, "locales");

export function loadResources(dir = LOCALES_DIR): Record<Locale, Record<string, unknown>> {
  const out = {} as Record<Locale, Record<string, unknown>>;
  for (const l of LOCALES) out[l] = JSON.parse(fs.readFileSync(path.join(dir, l, "translation.json"), "utf8"));
  return out;
}

export function createTranslator(resources = loadResources(), onMissing?: (key: string) => void): Translator {
  const inst: I18n = i18next.createInstance();
  void inst.init({
    initAsync: false,
    lng: "ru",
    fallbackLng: "ru",
    supportedLngs: [...LOCALES],
    resources: Object.fromEntries(Object.entries(resources).map(([l, r]) => [l, { translation: r }])),
    interpolation: { escapeValue: false },
    returnNull: false,
    returnEmptyString: false,
    showSupportNotice: false,
  });
  const fixedCache = new Map<Locale, ReturnType<I18n["getFixedT"]>>();
  const fixedT = (l: Locale) => {
    let f = fixedCache.get(l);
    if (!f) fixedCache.set(l, (f = inst.getFixedT(l)));
    return f;
  };
  // Texts without variables never change once loaded: each is looked up once (the benchmark
  // found i18next's lookup among the larger costs of a message).
  // By locale, then key: a lookup builds no string (it runs tens of times per update).
  const byLocale = <V>() => new Map<Locale, Map<string, V>>();
  const at = <V>(m: Map<Locale, Map<string, V>>, l: Locale) => {
    let inner = m.get(l);
    if (!inner) m.set(l, (inner = new Map()));
    return inner;
  };
  const plain = byLocale<string>();
  // Texts with variables: split once into text and names, filled by hand when i18next would do no
  // more than put the values in (no plural, no options, only strings and numbers).
  const templates = byLocale<Template | null>();
  const templateOf = (locale: Locale, key: string): Template | null => {
    const mine = at(templates, locale);
    let tpl = mine.get(key);
    if (tpl === undefined) {
      // Only the locale's own text: a missing one goes through i18next, which falls back and reports it.
      const raw = inst.getResource(locale, "translation", key);
      mine.set(key, (tpl = typeof raw === "string" ? compile(raw) : null));
    }
    return tpl;
  };
  const t = (locale: Locale, key: string, vars?: Record<string, unknown>): string => {
    if (vars) {
      const filled = fill(templateOf(locale, key), vars);
      if (filled !== undefined) return filled;
    }
    const memo = vars ? undefined : at(plain, locale);
    const hit = memo?.get(key);
    if (hit !== undefined) return hit;
    // A counted text exists as its plural forms (key_one, key_other…), which i18next picks by count.
    const has = (l: Locale) =>
      inst.getResource(l, "translation", key) !== undefined ||
      (vars?.count !== undefined && inst.getResource(l, "translation", `${key}_other`) !== undefined);
    if (!has(locale)) {
      onMissing?.(key);
      // Never render the raw key: fall back to the generic "not available" text.
      if (!has("ru")) return String(fixedT(locale)("common.unavailable"));
    }
    const out = String(fixedT(locale)(key, vars ?? {}));
    memo?.set(key, out);
    return out;
  };
  // Keys that exist per channel, by their shared name, found once in the reference locale.
  const perChannel = new Set<string>();
  const walk = (o: Record<string, unknown>, prefix: string) => {
    for (const [k, v] of Object.entries(o)) {
      if (v && typeof v === "object") walk(v as Record<string, unknown>, `${prefix}${k}.`);
      else
        for (const suffix of CHANNEL_SUFFIXES)
          if (k.endsWith(suffix)) perChannel.add(prefix + k.slice(0, -suffix.length));
    }
  };
  walk(resources.ru ?? {}, "");
  const channelT = byLocale<T>();
  return {
    t,
    fixed: (l) => (key, vars) => t(l, key, vars),
    forChannel: (l, channel) => {
      // One function per language and channel, made once: every flow context asks for one.
      const mine = at(channelT, l);
      let f = mine.get(channel);
      if (!f) mine.set(channel, (f = (key, vars) => t(l, perChannel.has(key) ? `${key}_${channel}` : key, vars)));
      return f;
    },
    all: (key) => LOCALES.map((l) => t(l, key)),
    negotiate(code, fallback) {
      const base = code?.toLowerCase().split(/[-_]/)[0];
      return LOCALES.includes(base as Locale) ? (base as Locale) : fallback;
    },
  };
}
