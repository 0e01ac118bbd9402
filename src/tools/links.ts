/**
 * `npm run links [-- --config FILE] [--out DIR]`: the campaign links of a small config file
 * (src/data/campaigns.json by default) as Telegram deep links, WhatsApp links when a number is
 * given, and a QR code per link as PNG (for print) and SVG (for designers), ready for posters
 * (issue 17). Each link sets language, country and region at once and names its source, which the
 * bot counts per day, never per person. Nothing is sent anywhere: the files are written locally.
 */
import fs from "node:fs";
import path from "node:path";
import QRCode from "qrcode";
import { projectRoot } from "../paths.ts";
import { isLocale } from "../config.ts";
import { loadSeed } from "../core/directory/search.ts";
import { parseStartLink, startLink, type StartLink } from "../core/flows/links.ts";
import { createDirectory } from "../core/directory/search.ts";

interface CampaignFile {
  telegramBot?: string;
  whatsappNumber?: string | null;
  links: Array<{ source: string; lang?: string; country?: string; region?: string; note?: string }>;
}

export interface MadeLink {
  source: string;
  note: string;
  telegram: string;
  whatsapp: string | null;
  files: string[];
}

class LinksError extends Error {}

/** Checks the file and makes the links and their QR images in `outDir`. */
export async function makeLinks(file: CampaignFile, outDir: string): Promise<MadeLink[]> {
  const seed = loadSeed();
  const directory = createDirectory(seed.entries, seed.places);
  // Never a default: a poster pointing at someone else's bot would send people to a stranger.
  const bot = (file.telegramBot || process.env.TELEGRAM_HANDLE || "").replace(/^@/, "");
  if (!/^[A-Za-z0-9_]{5,32}$/.test(bot))
    throw new LinksError(
      `set "telegramBot" in the config file (or TELEGRAM_HANDLE) to your bot's username, such as qorgau_bot (got "${bot}")`,
    );
  const wa = file.whatsappNumber ? file.whatsappNumber.replace(/[^\d]/g, "") : null;
  if (file.whatsappNumber && (!wa || wa.length < 10 || wa.length > 15))
    throw new LinksError(
      `"whatsappNumber" must be the bot's number in international form, such as +7 700 000 00 00 (got "${file.whatsappNumber}")`,
    );
  const problems: string[] = [];
  const seen = new Set<string>();
  const wanted: Array<{ link: StartLink; note: string }> = [];
  file.links.forEach((l, i) => {
    const where = `links[${i}] (${l.source ?? "no source"})`;
    if (!/^[a-z0-9-]{1,24}$/.test(l.source ?? ""))
      return problems.push(`${where}: source must be 1–24 of a–z, 0–9 and -`);
    if (seen.has(l.source)) return problems.push(`${where}: the same source twice`);
    seen.add(l.source);
    if (l.lang && !isLocale(l.lang)) return problems.push(`${where}: lang must be kk, ky or ru`);
    if (l.country && l.country !== "KZ" && l.country !== "KG")
      return problems.push(`${where}: country must be KZ or KG`);
    const place = l.region && l.region !== "0" ? directory.place(l.region) : undefined;
    if (l.region && l.region !== "0" && (!place || (l.country && place.country !== l.country)))
      return problems.push(
        `${where}: region "${l.region}" is not a place of ${l.country ?? "KZ or KG"} in the gazetteer`,
      );
    const link: StartLink = {
      source: l.source,
      ...(l.lang ? { locale: l.lang as StartLink["locale"] } : {}),
      ...(l.country ? { country: l.country as StartLink["country"] } : {}),
      ...(place ? { regionId: place.id } : {}),
    };
    // What the bot will read from it must be what was asked.
    const payload = startLink(bot, link).split("?start=")[1]!;
    const back = parseStartLink(payload, directory);
    if (
      payload.length > 64 ||
      JSON.stringify(back) !==
        JSON.stringify({
          ...(link.locale && { locale: link.locale }),
          ...(link.country && { country: link.country }),
          ...(link.regionId && { regionId: link.regionId }),
          source: link.source,
        })
    ) {
      return problems.push(`${where}: the link would be too long or read differently by the bot (${payload})`);
    }
    wanted.push({ link, note: l.note ?? "" });
  });
  if (problems.length) throw new LinksError(problems.join("\n"));
  fs.mkdirSync(outDir, { recursive: true });
  const made: MadeLink[] = [];
  for (const { link, note } of wanted) {
    const telegram = startLink(bot, link);
    const payload = telegram.split("?start=")[1]!;
    const whatsapp = wa ? `https://wa.me/${wa}?text=${encodeURIComponent(`#${payload}`)}` : null;
    const files: string[] = [];
    for (const [name, url] of [
      [link.source!, telegram],
      ...(whatsapp ? [[`${link.source}-whatsapp`, whatsapp]] : []),
    ] as Array<[string, string]>) {
      const png = path.join(outDir, `${name}.png`);
      const svg = path.join(outDir, `${name}.svg`);
      // Level M survives a scuffed poster; 600 px prints sharp at 5 cm.
      await QRCode.toFile(png, url, { type: "png", errorCorrectionLevel: "M", margin: 4, width: 600 });
      fs.writeFileSync(svg, await QRCode.toString(url, { type: "svg", errorCorrectionLevel: "M", margin: 4 }));
      files.push(png, svg);
    }
    made.push({ source: link.source!, note, telegram, whatsapp, files });
  }
  return made;
}

async function main(argv: string[]): Promise<number> {
  const arg = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const configFile = arg("--config") ?? path.join(projectRoot, "src", "data", "campaigns.json");
  const outDir = path.resolve(arg("--out") ?? "campaign-links");
  try {
    if (!fs.existsSync(configFile)) throw new LinksError(`there is no config file ${configFile}`);
    let file: CampaignFile;
    try {
      file = JSON.parse(fs.readFileSync(configFile, "utf8")) as CampaignFile;
    } catch (err) {
      throw new LinksError(`${configFile} is not valid JSON (${(err as Error).message})`);
    }
    if (!Array.isArray(file.links)) throw new LinksError(`${configFile} needs a "links" list`);
    const made = await makeLinks(file, outDir);
    for (const m of made) {
      process.stdout.write(
        `${m.source}${m.note ? ` (${m.note})` : ""}\n  Telegram: ${m.telegram}\n${m.whatsapp ? `  WhatsApp: ${m.whatsapp}\n` : ""}  QR: ${m.files.map((f) => path.relative(process.cwd(), f)).join(", ")}\n`,
      );
    }
    process.stdout.write(`${made.length} link(s); QR codes in ${outDir}\n`);
    return 0;
  } catch (err) {
    if (err instanceof LinksError) {
      process.stderr.write(`links: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename ?? ""))
  process.exitCode = await main(process.argv.slice(2));
