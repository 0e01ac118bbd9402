/** First contact, language and country, and the main menu. */
import { LOCALES, type Locale } from "../../config.ts";
import { COUNTRIES, type Country } from "../types.ts";
import { allNumbers, bothCountriesBlock } from "./lines.ts";
import { text, type FlowCtx, type View } from "./context.ts";

/**
 * The first screen (S10): calm, the emergency numbers of both countries, the
 * exit hint; then the language choice with the client's language first.
 */
export function welcomeView(ctx: FlowCtx): View {
  const { t, deps } = ctx;
  const welcome = t("welcome.text", { emergency: bothCountriesBlock(deps.directory, t), exitHint: t("common.exitHint") });
  const lang = languageView(ctx);
  return { ...lang, messages: [text(welcome, allNumbers(deps.directory, COUNTRIES)), ...lang.messages] };
}

export function languageView(ctx: FlowCtx): View {
  const { deps, locale } = ctx;
  const order: Locale[] = [locale, ...LOCALES.filter((l) => l !== locale)];
  return {
    messages: [text(ctx.t("language.ask"))],
    options: order.map((l) => ({ id: `lang:${l}`, label: deps.translator.t(l, "language.name") })),
    columns: 3,
    state: { screen: "language" },
  };
}

export function countryView(ctx: FlowCtx): View {
  return {
    messages: [text(ctx.t("country.ask"))],
    options: COUNTRIES.map((c) => ({ id: `country:${c}`, label: ctx.t(`country.${c}`) })),
    columns: 2,
    state: { screen: "country" },
  };
}

export function menuView(ctx: FlowCtx, lead?: string): View {
  const { t } = ctx;
  return {
    messages: [text(lead ? `${lead}\n\n${t("menu.title")}` : t("menu.title"))],
    options: [
      { id: "danger", label: t("menu.danger") },
      { id: "near", label: t("menu.near") },
      { id: "lines", label: t("menu.lines") },
      { id: "safety", label: t("menu.safety") },
      { id: "report", label: t("menu.report") },
      { id: "r:mine", label: t("menu.mine") },
      { id: "card", label: t("menu.card") },
      { id: "settings", label: t("menu.settings") },
    ],
    columns: 1,
    state: { screen: "menu" },
  };
}

/** A country the language makes likely; Russian speakers live in both, so they are asked. */
export function countryForLocale(locale: Locale): Country | null {
  return locale === "kk" ? "KZ" : locale === "ky" ? "KG" : null;
}
