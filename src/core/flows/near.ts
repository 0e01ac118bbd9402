/**
 * "Help near me": a shared location, a country → region → town picker, or a
 * typed town name, answered with the nearest centers and the national lines.
 */
import type { Locale } from "../../config.ts";
import type { T } from "../i18n.ts";
import {
  entryName,
  pickerRegions,
  placeName,
  type Directory,
  type Entry,
  type Hit,
  type Place,
} from "../directory/search.ts";
import { COUNTRIES, type Country, type Option, type OutMessage } from "../types.ts";
import { allNumbers, numbersOf, routeLine } from "./lines.ts";
import { menuOption, text, type FlowCtx, type View } from "./context.ts";

export const PAGE_SIZE = 8;
export const RESULTS_PER_PAGE = 3;
const MAX_RESULTS = 12;

export function nearView(ctx: FlowCtx): View {
  const { t } = ctx;
  return {
    messages: [text(t("near.ask")), text(t("near.orChoose"))],
    askLocation: true,
    options: [{ id: "near:regions", label: t("near.chooseRegionButton") }, menuOption(t)],
    columns: 1,
    state: { screen: "near" },
  };
}

export function regionsView(ctx: FlowCtx, page = 0): View {
  const { t, deps, session } = ctx;
  if (!session.country) {
    return {
      messages: [text(t("near.chooseCountry"))],
      options: [...COUNTRIES.map((c) => ({ id: `near:country:${c}`, label: t(`country.${c}`) })), menuOption(t)],
      columns: 2,
      state: { screen: "near:country" },
    };
  }
  const all = pickerRegions(deps.directory, session.country, ctx.locale);
  const pages = Math.max(1, Math.ceil(all.length / PAGE_SIZE));
  const p = Math.min(Math.max(0, page), pages - 1);
  const options: Option[] = all
    .slice(p * PAGE_SIZE, (p + 1) * PAGE_SIZE)
    .map((r) => ({ id: `region:${r.id}`, label: placeName(r, ctx.locale) }));
  if (p > 0) options.push({ id: `regions:${p - 1}`, label: t("common.prev") });
  if (p < pages - 1) options.push({ id: `regions:${p + 1}`, label: t("common.next") });
  options.push(menuOption(t));
  return {
    messages: [text(t("near.chooseRegion", { page: p + 1, pages }))],
    options,
    columns: 2,
    state: { screen: "near:regions", page: p },
  };
}

/** A region lists its towns; a republican city (Almaty, Bishkek…) goes straight to results. */
export function regionChosenView(ctx: FlowCtx, regionId: string): View | null {
  const { t, deps } = ctx;
  const region = deps.directory.place(regionId);
  if (!region || region.kind === "city") return region ? placeResultsView(ctx, region) : null;
  if (region.kind === "city_republican") return placeResultsView(ctx, region);
  const towns = deps.directory.towns(regionId);
  return {
    messages: [text(t("near.chooseTown"))],
    options: [
      ...towns.map((p) => ({ id: `town:${p.id}`, label: placeName(p, ctx.locale) })),
      { id: `town:${regionId}`, label: t("near.wholeRegion") },
      { id: "near:regions", label: t("common.back") },
      menuOption(t),
    ],
    columns: 2,
    state: { screen: "near:towns", regionId },
  };
}

/** Results for a town or region picked from the list or typed. */
export function placeResultsView(ctx: FlowCtx, place: Place): View {
  const d = ctx.deps.directory;
  const hits = ownCountryFirst(placeHits(d, place), place.country as Country, ctx.deps.config.nearRadiusKm);
  return resultsView(
    ctx,
    toResults(hits),
    0,
    ctx.t("near.titleTown", { place: placeName(place, ctx.locale) }),
    false,
    place.country as Country,
    distances(hits),
    place.id,
  );
}

/**
 * Services of the person's own country only, unless none of them is within the radius: then the
 * nearest across the border too, each labelled with its country (formatEntry). A person in Almaty
 * is not sent to a Kyrgyz committee 100 km away while Almaty has its own.
 */
export function ownCountryFirst(hits: Hit[], country: Country, radiusKm: number): Hit[] {
  const own = hits.filter((h) => h.entry.country === country);
  const near = own.some((h) => h.km === null || h.km <= radiusKm);
  return near ? own : hits;
}

function placeHits(d: Directory, place: Place): Hit[] {
  const regionId = place.kind === "city" ? place.region_id : place.id;
  return d.nearest(place.lat, place.lon, { cityId: place.kind === "region" ? undefined : place.id, regionId });
}

/** The next page of results: a picked town's distances are computed again; a shared location's are gone. */
export function moreResultsView(
  ctx: FlowCtx,
  results: string[],
  offset: number,
  title: string,
  fromLocation: boolean,
  placeId?: string,
): View {
  const place = placeId ? ctx.deps.directory.place(placeId) : undefined;
  const country = (place?.country as Country | undefined) ?? ctx.session.country ?? undefined;
  return resultsView(
    ctx,
    results,
    offset,
    title,
    fromLocation,
    country,
    place ? distances(placeHits(ctx.deps.directory, place)) : undefined,
    place?.id,
  );
}

/** Results for a shared location. Neither the point nor a distance is kept: only the ids, in order. */
export function locationResultsView(ctx: FlowCtx, lat: number, lon: number): View {
  const d = ctx.deps.directory;
  const country = d.countryAt(lat, lon);
  if (!country) {
    return { ...regionsView(ctx), messages: [text(ctx.t("near.outside")), ...regionsView(ctx).messages] };
  }
  const near = d.nearestPlace(lat, lon);
  // The country the person is in: someone in Bishkek needs Bishkek's services, whatever they picked.
  const hits = ownCountryFirst(
    d.nearest(lat, lon, { regionId: near?.place.kind === "city" ? near.place.region_id : near?.place.id }),
    country,
    ctx.deps.config.nearRadiusKm,
  );
  return resultsView(ctx, toResults(hits), 0, ctx.t("near.titleHere"), true, country, distances(hits));
}

function toResults(hits: Hit[]): string[] {
  return hits.slice(0, MAX_RESULTS).map((h) => h.entry.id);
}

function distances(hits: Hit[]): Map<string, number | null> {
  return new Map(hits.map((h) => [h.entry.id, h.km === null ? null : Math.round(h.km)]));
}

/** `km`: distances known now, for this screen only; the state keeps none. */
export function resultsView(
  ctx: FlowCtx,
  results: string[],
  offset: number,
  title: string,
  fromLocation: boolean,
  countryHint?: Country,
  km?: Map<string, number | null>,
  placeId?: string,
): View {
  const { t, deps, locale } = ctx;
  const d = deps.directory;
  const page = results.slice(offset, offset + RESULTS_PER_PAGE);
  const entries = page.map((id) => ({ entry: d.byId(id)!, km: km?.get(id) ?? null })).filter((h) => h.entry);
  const country = countryHint ?? ctx.session.country ?? (entries[0]?.entry.country as Country | undefined) ?? "KZ";
  const lines = numbersOf(d, country, "trust");
  const messages: OutMessage[] = [];

  const first = entries[0];
  if (offset === 0 && first) {
    const pin = pinOf(d, first.entry, locale);
    if (pin)
      messages.push({ kind: "place", lat: pin.lat, lon: pin.lon, title: pin.title, address: t("near.pinAddress") });
  }
  const head: string[] = [];
  if (offset === 0 && fromLocation && (first?.km ?? Infinity) > deps.config.nearRadiusKm) {
    head.push(t(`near.nothingNearBy.${country}`, { km: deps.config.nearRadiusKm, line: routeLine(d, country) }));
  } else {
    head.push(offset === 0 ? title : `${title} (${offset + 1}–${offset + entries.length})`);
  }
  const body = entries.map((h, i) => formatEntry(h.entry, h.km, offset + i + 1, t, locale, d, country));
  // The first trust line only: the data audit asks to show KZ 150 once per answer, after 111.
  const always = t("near.always", {
    lines: [...numbersOf(d, country, "emergency").slice(0, 2), ...lines.slice(0, 1)].join(", "),
  });
  const phones = [
    ...new Set([...allNumbers(d, [country]), ...entries.flatMap((h) => h.entry.phones.map((p) => p.as_published))]),
  ];
  messages.push(text([...head, "", body.join("\n\n"), "", always].join("\n"), phones));

  const options: Option[] = [];
  // No phone published nearby: the person can still be written to, through the staff of that region.
  const phoneless = entries.find((h) => !h.entry.phones.length && h.entry.scope !== "national");
  const region = phoneless ? (phoneless.entry.region_id ?? null) : null;
  if (phoneless && deps.reports && deps.reports.staffChatFor(region) !== null)
    options.push({ id: `r:callback:${region ?? ""}`, label: t("near.askWrite") });
  if (deps.reports?.directoryChat) options.push({ id: "r:numbers", label: t("near.numberFailed") });
  if (offset + RESULTS_PER_PAGE < results.length) options.push({ id: "more", label: t("near.more") });
  options.push({ id: "near:regions", label: t("near.chooseRegionButton") }, menuOption(t));
  return {
    messages,
    options,
    columns: 1,
    protect: true,
    state: { screen: "near:results", results, offset, title, fromLocation, ...(placeId ? { placeId } : {}) },
  };
}

/** The entry's town (else region) as the reader names it; null when neither is known. */
export function townOf(d: Directory, e: Entry, locale: Locale): string | null {
  const p = (e.city_id && d.place(e.city_id)) || (e.region_id && d.place(e.region_id)) || null;
  if (p) return placeName(p, locale);
  return (locale === "ru" ? e.city_ru : e.city_local) ?? e.city_ru;
}

function pinOf(d: Directory, e: Entry, locale: Locale): { lat: number; lon: number; title: string } | null {
  const p = e.city_id ? d.place(e.city_id) : undefined;
  const lat = e.lat ?? p?.lat;
  const lon = e.lon ?? p?.lon;
  if (lat === undefined || lon === undefined || lat === null || lon === null) return null;
  return { lat, lon, title: townOf(d, e, locale) ?? entryName(e, locale) };
}

/** "ноябрь 2026", "2026 ж. қараша", "2026-ж. ноябрь" from a YYYY-MM-DD day, in the reader's language and order. */
export function monthYear(t: T, isoDay: string): string {
  return t("monthYear", { month: t(`month.${Number(isoDay.slice(5, 7))}`), year: isoDay.slice(0, 4) });
}

/** An entry as a short block. Shows only what the data's sources support. */
export function formatEntry(
  e: Entry,
  km: number | null,
  n: number,
  t: T,
  locale: Locale,
  d: Directory,
  home?: Country,
): string {
  // Across the border: said at once, with the country.
  const abroad =
    home && e.country !== home && (e.country === "KZ" || e.country === "KG") ? ` · ${t(`country.${e.country}`)}` : "";
  const out = [`${n}. ${entryName(e, locale)}${abroad}`];
  const town = townOf(d, e, locale);
  if (town) out.push(km !== null && km >= 5 ? t("near.distance", { town, km }) : town);
  // Kyrgyzstan's police is still the militsiya.
  const services = e.services
    .filter((s) => s !== "hotline")
    .map((s) => t(s === "police" && e.country === "KG" ? "services.policeKG" : `services.${s}`));
  if (services.length) out.push(t("near.services", { list: services.join(", ") }));
  if (e.phones.length) {
    // Confirmed by staff: when, to the month (issue 16).
    const checked = e.phones
      .map((p) => p.checked ?? "")
      .sort()
      .pop();
    out.push(
      `☎ ${e.phones.map((p) => p.as_published).join(", ")}${checked ? ` · ${t("near.phoneChecked", { month: monthYear(t, checked) })}` : ""}`,
    );
  }
  // A service without a phone points to its own country's route line, with only what a source supports.
  else if (e.country === "KZ" || e.country === "KG")
    out.push(t(`near.noPhoneBy.${e.country}`, { line: routeLine(d, e.country) }));
  if (e.address) out.push(t("near.address", { address: e.address }));
  else if (e.address_note && /not published/i.test(e.address_note)) out.push(t("near.addressHidden"));
  if (e.hours_text) out.push(t("near.hours", { hours: e.hours_text }));
  else if (e.is_24_7) out.push(t("near.hours", { hours: t("hours.always") }));
  if (e.status === "moved") out.push(t("near.moved"));
  const doubtful =
    e.status === "unknown" ||
    (!e.checked_at && (e.confidence.startsWith("old source") || /^(UNSTABLE|DOUBT)/.test(e.status_note ?? "")));
  if (doubtful) out.push(t("near.unconfirmed"));
  if (e.checked_at) out.push(t("near.verified", { month: monthYear(t, e.checked_at) }));
  else out.push(e.latest_source_date ? t("near.checked", { date: e.latest_source_date }) : t("near.checkedUnknown"));
  return out.join("\n");
}
