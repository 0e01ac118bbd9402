/** Staying-safe advice and the safety settings (auto-erase, language, country). */
import { numbersOf } from "./lines.ts";
import { menuOption, text, type FlowCtx, type View } from "./context.ts";

export const ERASE_CHOICES = [10, 30, 60] as const;

export function safetyView(ctx: FlowCtx): View {
  const { t } = ctx;
  return {
    messages: [text(t("safety.title"))],
    options: [
      { id: "safety:hide", label: t("safety.hide") },
      { id: "safety:plan", label: t("safety.plan") },
      { id: "safety:take", label: t("safety.take") },
      menuOption(t),
    ],
    columns: 1,
    state: { screen: "safety" },
  };
}

export function safetyTopicView(ctx: FlowCtx, topic: "hide" | "plan" | "take"): View {
  const { t, deps } = ctx;
  const country = ctx.session.country ?? "KZ";
  // The police line as the data marks it (services: police), else the first emergency number.
  const police =
    deps.directory.lines(country, "emergency").find((e) => e.services.includes("police"))?.phones[0]?.as_published ??
    numbersOf(deps.directory, country, "emergency")[0];
  const line = numbersOf(deps.directory, country, "trust")[0];
  const body =
    topic === "hide"
      ? t("safety.hideText")
      : topic === "plan"
        ? t("safety.planText", { police, line })
        : t("safety.takeText");
  const others = (["hide", "plan", "take"] as const).filter((x) => x !== topic);
  return {
    messages: [text(body)],
    options: [...others.map((x) => ({ id: `safety:${x}`, label: t(`safety.${x}`) })), menuOption(t)],
    columns: 1,
    protect: true,
    state: { screen: `safety:${topic}` },
  };
}

export function settingsView(ctx: FlowCtx, lead?: string): View {
  const { t, session } = ctx;
  const erase = session.autoEraseMinutes
    ? t("settings.minutes", { count: session.autoEraseMinutes })
    : t("settings.eraseOff");
  const country = session.country ? t(`country.name${session.country}`) : "—";
  return {
    messages: [text(lead ? `${lead}\n\n${t("settings.title")}` : t("settings.title"))],
    options: [
      { id: "settings:erase", label: t("settings.erase", { value: erase }) },
      { id: "settings:language", label: t("settings.language") },
      { id: "settings:country", label: t("settings.country", { country }) },
      menuOption(t),
    ],
    columns: 1,
    state: { screen: "settings" },
  };
}

export function eraseView(ctx: FlowCtx): View {
  const { t } = ctx;
  return {
    messages: [text(t("settings.eraseAsk"))],
    options: [
      ...ERASE_CHOICES.map((m) => ({ id: `erase:${m}`, label: t("settings.minutes", { count: m }) })),
      { id: "erase:0", label: t("settings.eraseNever") },
    ],
    columns: 2,
    state: { screen: "settings:erase" },
  };
}
