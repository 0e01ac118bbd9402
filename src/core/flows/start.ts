/** First contact, language and country, and the main menu. */
import { LOCALES, type Locale } from "../../config.ts";
import { COUNTRIES, type Country, type OutMessage } from "../types.ts";
import { allNumbers, bothCountriesBlock } from "./lines.ts";
import { text, type FlowCtx, type View } from "./context.ts";

/**
 * The first screen (S10): calm, the emergency numbers of both countries, the
 * exit hint; then the language choice with the client's language first.
 */
/** The first words: calm, the emergency numbers of both countries, and how to leave at once. */
export function welcomeMessage(ctx: FlowCtx): OutMessage {
  const { t, deps } = ctx;
  return text(
    t("welcome.text", { emergency: bothCountriesBlock(deps.directory, t), exitHint: t("common.exitHint") }),
    allNumbers(deps.directory, COUNTRIES),
  );
}

/** The welcome, then `next` (by default the language question). */
export function welcomeView(ctx: FlowCtx, next: View = languageView(ctx)): View {
  return { ...next, messages: [welcomeMessage(ctx), ...next.messages] };
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
