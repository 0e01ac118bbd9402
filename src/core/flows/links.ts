/**
 * Campaign links (issue 17): `t.me/<bot>?start=<payload>` on a poster, a
 * school's page or a TV spot sets the language, the country and the region at
 * once, and names where the person came from. Payload: `<lang>_<country>_<region
 * or 0>_<source>`, e.g. `kk_KZ_kz-shymkent_poster1` (Telegram allows A–Z a–z
 * 0–9 _ - and 64 characters). Any part may be empty or unknown; it is then left
 * out. The source is counted per day, never tied to the chat, and only under a
 * name listed in src/data/campaigns.json: anyone can type a link, and made-up
 * names must not fill the partners' counts; they count as "other".
 */
import fs from "node:fs";
import path from "node:path";
import { isLocale, type Locale } from "../../config.ts";
import { projectRoot } from "../../paths.ts";
import type { Directory } from "../directory/search.ts";
import type { Country } from "../types.ts";

export interface StartLink {
  locale?: Locale;
  country?: Country;
  regionId?: string;
  source?: string;
}

const SOURCE = /^[a-z0-9-]{1,24}$/;

export function parseStartLink(payload: string, directory: Directory): StartLink | null {
  if (!payload || payload.length > 64 || !/^[A-Za-z0-9_-]+$/.test(payload)) return null;
  const [lang, country, region, source] = payload.split("_");
  const link: StartLink = {};
  if (lang && isLocale(lang)) link.locale = lang;
  if (country === "KZ" || country === "KG") link.country = country;
  const place = region && region !== "0" ? directory.place(region) : undefined;
  if (place && (!link.country || place.country === link.country)) {
    link.regionId = place.id;
    link.country ??= place.country as Country;
  }
  if (source && SOURCE.test(source)) link.source = source;
  return Object.keys(link).length ? link : null;
}

export function startLink(botUsername: string, link: StartLink): string {
  return `https://t.me/${botUsername}?start=${[link.locale ?? "", link.country ?? "", link.regionId ?? "0", link.source ?? ""].join("_")}`;
}

/** A source that src/data/campaigns.json does not list is counted under this name. */
export const OTHER_SOURCE = "other";

/** The sources the campaigns file lists (read once at start; `npm run links` writes links from it). */
export function loadCampaignSources(file = path.join(projectRoot, "src", "data", "campaigns.json")): Set<string> {
  const config = JSON.parse(fs.readFileSync(file, "utf8")) as { links?: Array<{ source?: unknown }> };
  return new Set((config.links ?? []).map((l) => l.source).filter((s): s is string => typeof s === "string"));
}

/** What a link's source is counted as. */
export const countedSource = (source: string, listed: ReadonlySet<string>) =>
  listed.has(source) ? source : OTHER_SOURCE;
