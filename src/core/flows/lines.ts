/** Emergency numbers, trust lines and the hotline card, always from the sourced directory. */
import type { T } from "../i18n.ts";
import { ROUTE_LINE_IDS, type Directory, type Entry } from "../directory/search.ts";
import { COUNTRIES, type Country } from "../types.ts";
import { menuOption, text, type FlowCtx, type View } from "./context.ts";

/** What a line is for: in full on the lines screen, neutral on the copyable card ("card.about"). */
const aboutKey = (e: Entry, base = "lines.about") => `${base}.${e.id.replace(/-/g, "_")}`;

function hoursOf(e: Entry, t: T): string {
  return e.is_24_7 ? t("hours.always") : t("hours.unknown");
}

/** "111 — what it is for, 24/7" for every published number of an entry. */
export function lineItems(e: Entry, t: T, withHours = true, about = "lines.about"): string[] {
  return e.phones.map((p) => {
    const prefix = p.dial_note?.match(/dial (\d{3,5}) first/)?.[1];
    const extra = [withHours ? hoursOf(e, t) : null, prefix ? t("lines.dialPrefix", { prefix }) : null]
      .filter(Boolean)
      .join("; ");
    return t("lines.item", { number: p.as_published, about: t(aboutKey(e, about)) }) + (extra ? `, ${extra}` : "");
  });
}

/** Every published number of the national lines of the given countries. */
export function allNumbers(d: Directory, countries: readonly Country[]): string[] {
  return [
    ...new Set(
      countries.flatMap((c) =>
        (["emergency", "trust", "other"] as const).flatMap((k) =>
          d.lines(c, k).flatMap((e) => e.phones.map((p) => p.as_published)),
        ),
      ),
    ),
  ];
}

/** The number a service without a phone points to (ROUTE_LINE_IDS). */
export function routeLine(d: Directory, country: Country): string {
  return d.byId(ROUTE_LINE_IDS[country])?.phones[0]?.as_published ?? "";
}

export function numbersOf(d: Directory, country: Country, kind: "emergency" | "trust"): string[] {
  return d.lines(country, kind).flatMap((e) => e.phones.map((p) => p.as_published));
}

/** One line per country: "🇰🇿 Казахстан: 112, 102, 103, 111". Used where the country is not known yet. */
export function bothCountriesBlock(d: Directory, t: T): string {
  return COUNTRIES.map((c) => {
    const nums = [...numbersOf(d, c, "emergency"), ...numbersOf(d, c, "trust").slice(0, 1)];
    return `${t(`country.${c}`)}: ${[...new Set(nums)].join(", ")}`;
  }).join("\n");
}

function emergencyBlock(d: Directory, t: T, country: Country | null): string {
  if (!country) return bothCountriesBlock(d, t);
  return d
    .lines(country, "emergency")
    .flatMap((e) => lineItems(e, t, false))
    .join("\n");
}

function trustBlock(d: Directory, t: T, country: Country | null): string {
  const countries = country ? [country] : COUNTRIES;
  return countries.flatMap((c) => d.lines(c, "trust").flatMap((e) => lineItems(e, t))).join("\n");
}

export function dangerView(ctx: FlowCtx): View {
  const { t, deps } = ctx;
  const c = ctx.session.country;
  return {
    messages: [
      text(
        t("danger.text", { emergency: emergencyBlock(deps.directory, t, c), trust: trustBlock(deps.directory, t, c) }),
        allNumbers(deps.directory, c ? [c] : COUNTRIES),
      ),
    ],
    options: [{ id: "near", label: t("menu.near") }, menuOption(t)],
    protect: true,
    state: { screen: "danger" },
  };
}

export function linesView(ctx: FlowCtx): View {
  const { t, deps } = ctx;
  const countries = ctx.session.country ? [ctx.session.country] : COUNTRIES;
  const parts = countries.map((c) => {
    const other = deps.directory.lines(c, "other").flatMap((e) => lineItems(e, t));
    return [
      t("lines.title", { country: t(`country.name${c}`) }),
      "",
      t("lines.emergencyTitle"),
      ...deps.directory.lines(c, "emergency").flatMap((e) => lineItems(e, t, false)),
      "",
      t("lines.trustTitle"),
      ...deps.directory.lines(c, "trust").flatMap((e) => lineItems(e, t)),
      ...(other.length ? ["", t("lines.other"), ...other] : []),
    ].join("\n");
  });
  return {
    messages: [text(parts.join("\n\n"), allNumbers(deps.directory, countries))],
    options: [{ id: "card", label: t("menu.card") }, menuOption(t)],
    protect: true,
    state: { screen: "lines" },
  };
}

/**
 * The hotline card: one plain block to copy or keep. Not protected, so it can
 * be copied; its title is neutral in case someone else sees it.
 */
export function cardView(ctx: FlowCtx): View {
  const { t, deps } = ctx;
  const countries = ctx.session.country ? [ctx.session.country] : COUNTRIES;
  const blocks = countries.map((c) =>
    [
      t("card.title", { country: t(`country.name${c}`) }),
      // Neutral descriptions: the card is left unprotected to be copied, and someone else may see it.
      ...deps.directory.lines(c, "emergency").flatMap((e) => lineItems(e, t, false, "card.about")),
      ...deps.directory.lines(c, "trust").flatMap((e) => lineItems(e, t, true, "card.about")),
    ].join("\n"),
  );
  return {
    messages: [text(blocks.join("\n\n"), allNumbers(deps.directory, countries)), text(t("card.hint"))],
    options: [menuOption(t)],
    state: { screen: "card" },
  };
}
