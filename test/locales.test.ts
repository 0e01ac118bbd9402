import { describe, expect, it } from "vitest";
import { LOCALES } from "../src/config.ts";
import { CHANNEL_SUFFIXES, createTranslator, loadResources } from "../src/core/i18n.ts";

const resources = loadResources();
const flat = (o: Record<string, unknown>, p = ""): Record<string, string> =>
  Object.fromEntries(
    Object.entries(o).flatMap(([k, v]) =>
      v && typeof v === "object"
        ? Object.entries(flat(v as Record<string, unknown>, `${p}${k}.`))
        : [[`${p}${k}`, String(v)]],
    ),
  );
const flatRes = Object.fromEntries(LOCALES.map((l) => [l, flat(resources[l])])) as Record<
  (typeof LOCALES)[number],
  Record<string, string>
>;
const placeholders = (s: string) => [...s.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]).sort();

describe("locales (S13)", () => {
  it("a text that differs per channel exists for every channel, and never also as a shared key that would stand in for one", () => {
    for (const l of LOCALES) {
      const keys = Object.keys(flatRes[l]);
      const split = new Set(
        keys
          .filter((k) => CHANNEL_SUFFIXES.some((s) => k.endsWith(s)))
          .map((k) => k.replace(/_(telegram|whatsapp)$/, "")),
      );
      expect(split.size).toBeGreaterThan(5);
      for (const base of split) {
        for (const s of CHANNEL_SUFFIXES) expect(keys, `${l}: ${base}${s}`).toContain(`${base}${s}`);
        expect(keys, `${l}: ${base} also as a shared key`).not.toContain(base);
      }
    }
    // The channel's own text is what a channel gets.
    const tr = createTranslator();
    expect(tr.forChannel("ru", "whatsapp")("near.ask")).toBe(flatRes.ru["near.ask_whatsapp"]);
    expect(tr.forChannel("ky", "telegram")("near.ask")).toBe(flatRes.ky["near.ask_telegram"]);
    expect(tr.forChannel("kk", "whatsapp")("menu.title")).toBe(flatRes.kk["menu.title"]);
  });

  it("kk, ky and ru have exactly the same keys", () => {
    const ru = Object.keys(flatRes.ru).sort();
    expect(Object.keys(flatRes.kk).sort()).toEqual(ru);
    expect(Object.keys(flatRes.ky).sort()).toEqual(ru);
  });

  it("a counted text has every plural form each language needs (Russian: 1 знак, 2 знака, 5 знаков)", () => {
    const PLURAL = /_(zero|one|two|few|many|other)$/;
    const counted = [
      ...new Set(
        Object.keys(flatRes.ru)
          .filter((k) => PLURAL.test(k))
          .map((k) => k.replace(PLURAL, "")),
      ),
    ];
    expect(counted).toContain("report.tooLong");
    for (const l of LOCALES) {
      for (const k of counted)
        for (const f of new Intl.PluralRules(l).resolvedOptions().pluralCategories)
          expect(Object.keys(flatRes[l]), `${l}: ${k}_${f}`).toContain(`${k}_${f}`);
    }
    const t = createTranslator();
    expect(t.t("ru", "report.tooLong", { count: 2001, max: 2000 })).toMatch(/^Текст длинный: 2001 знак\./);
    expect(t.t("ru", "report.tooLong", { count: 2002, max: 2000 })).toMatch(/^Текст длинный: 2002 знака\./);
    expect(t.t("ru", "report.tooLong", { count: 2005, max: 2000 })).toMatch(/^Текст длинный: 2005 знаков\./);
    expect(t.t("kk", "report.tooLong", { count: 2001, max: 2000 })).toMatch(/^Мәтін ұзын: 2001 белгі\./);
  });

  it("every value is non-empty and uses the same {{placeholders}} as Russian", () => {
    for (const l of LOCALES) {
      for (const [k, v] of Object.entries(flatRes[l])) {
        expect(v.trim(), `${l}:${k}`).not.toBe("");
        expect(placeholders(v), `${l}:${k}`).toEqual(placeholders(flatRes.ru[k]!));
      }
    }
  });

  it("Kyrgyz never uses letters that only Kazakh has, and Kazakh does use them", () => {
    const kazakhOnly = /[әғқұһі]/i;
    for (const [k, v] of Object.entries(flatRes.ky)) expect(kazakhOnly.test(v), `ky:${k}: ${v}`).toBe(false);
    const kkText = Object.values(flatRes.kk).join(" ");
    expect((kkText.match(/[әғқұһі]/gi) ?? []).length).toBeGreaterThan(100);
  });

  it("Kazakh and Kyrgyz are written separately, not copied from each other", () => {
    const keys = Object.keys(flatRes.ru).filter((k) => /[а-яөүң]{4,}/i.test(flatRes.kk[k]!));
    const same = keys.filter((k) => flatRes.kk[k] === flatRes.ky[k]);
    // Only numbers, names and loan words may coincide ("психолог", "{{count}} мин").
    expect(same.length / keys.length).toBeLessThan(0.1);
  });

  it("a key missing in one language falls back to Russian, and a key missing everywhere is never shown raw", () => {
    const res = loadResources();
    delete (res.ky.menu as Record<string, unknown>).title;
    const missing: string[] = [];
    const tr = createTranslator(res, (k) => missing.push(k));
    expect(tr.t("ky", "menu.title")).toBe(flatRes.ru["menu.title"]);
    const none = tr.t("kk", "no.such.key");
    expect(none).not.toContain("no.such.key");
    expect(none).toBe(flatRes.kk["common.unavailable"]);
    expect(missing).toEqual(["menu.title", "no.such.key"]);
  });

  it("negotiates the client's language code, else the default", () => {
    const tr = createTranslator();
    expect(tr.negotiate("kk", "ru")).toBe("kk");
    expect(tr.negotiate("ky-KG", "ru")).toBe("ky");
    expect(tr.negotiate("en", "ru")).toBe("ru");
    expect(tr.negotiate(undefined, "kk")).toBe("kk");
  });
  it("a text with values reads exactly as i18next writes it, in every language", async () => {
    const i18next = (await import("i18next")).default;
    const ref = i18next.createInstance();
    await ref.init({
      lng: "ru",
      fallbackLng: "ru",
      resources: Object.fromEntries(LOCALES.map((l) => [l, { translation: resources[l] }])),
      interpolation: { escapeValue: false },
      showSupportNotice: false,
    });
    const tr = createTranslator();
    let checked = 0;
    for (const l of LOCALES) {
      for (const [k, v] of Object.entries(flatRes[l])) {
        const names = placeholders(v);
        if (!names.length) continue;
        // Texts and numbers, and one value left out (i18next leaves that {{name}} as it is).
        const vars = Object.fromEntries(names.map((n, i) => [n, n === "count" ? 3 : i % 2 ? 42 : `«${n}»`]));
        expect(tr.t(l, k, vars), `${l}:${k}`).toBe(ref.getFixedT(l)(k, vars));
        const partial = Object.fromEntries(Object.entries(vars).slice(1));
        expect(tr.t(l, k, partial), `${l}:${k} without ${names[0]}`).toBe(ref.getFixedT(l)(k, partial));
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(100);
  });

  it("WhatsApp texts say what a quick exit leaves there and how to clear it; none promises the chat is erased", () => {
    const tr = createTranslator();
    const marks = { ru: "«сообщение удалено»", kk: "«хабар жойылды»", ky: "«билдирүү өчүрүлдү»" } as const;
    const clear = { ru: "«Очистить чат»", kk: "«Чатты тазалау»", ky: "«Очистить чат»" } as const;
    for (const l of LOCALES) {
      for (const key of ["common.exitHint_whatsapp", "safety.hideText_whatsapp", "report.limits_whatsapp"]) {
        expect(tr.t(l, key), `${l}:${key}`).toContain(marks[l]);
        expect(tr.t(l, key), `${l}:${key}`).toContain(clear[l]);
      }
      // Auto-erase on WhatsApp takes the bot's messages away, not the chat.
      expect(tr.t(l, "settings.eraseSet_whatsapp", { count: 10 })).not.toMatch(/чат (сотрётся|өшеді|өчөт)/);
    }
  });
});
