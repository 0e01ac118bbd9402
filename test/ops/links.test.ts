/**
 * `npm run links` (issue 17): every printed link comes back out of its QR
 * code, and the bot reads from it what the config asked for. Run as a partner
 * would, as a process; the PNGs are decoded with jsQR.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import jsQR from "jsqr";
import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import { distTool } from "../support/dist.ts";
import { projectRoot } from "../../src/paths.ts";
import { parseStartLink } from "../../src/core/flows/links.ts";
import { loadDirectory } from "../../src/core/directory/search.ts";
import { tempDir } from "../support/harness.ts";

const run = promisify(execFile);
const links = (args: string[], env: Record<string, string> = {}) =>
  run(process.execPath, [distTool("links.ts"), ...args], {
    cwd: projectRoot,
    env: { PATH: process.env.PATH ?? "", ...env },
  }).then(
    (r) => ({ code: 0, out: r.stdout + r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
  );
const decode = (file: string) => {
  const png = PNG.sync.read(fs.readFileSync(file));
  return jsQR(new Uint8ClampedArray(png.data), png.width, png.height)?.data;
};

describe("npm run links (issue 17)", () => {
  it("prints each link, and each QR image decodes back to it; the bot reads the language, country, region and source", async () => {
    const dir = tempDir();
    const out = path.join(dir, "qr");
    const config = path.join(dir, "campaigns.json");
    fs.writeFileSync(
      config,
      JSON.stringify({
        telegramBot: "example_test_bot",
        whatsappNumber: "+7 700 000 00 00",
        links: [
          { source: "poster-shymkent", lang: "kk", country: "KZ", region: "kz-shymkent", note: "posters" },
          { source: "committee-balykchy", lang: "ky", country: "KG", region: "kg-c-balykchy" },
          { source: "tv-16days", lang: "ru", country: "KZ", region: "0" },
        ],
      }),
    );
    const r = await links(["--config", config, "--out", out]);
    expect(r.code).toBe(0);
    const telegram = [...r.out.matchAll(/Telegram: (\S+)/g)].map((m) => m[1]!);
    const whatsapp = [...r.out.matchAll(/WhatsApp: (\S+)/g)].map((m) => m[1]!);
    expect(telegram).toEqual([
      "https://t.me/example_test_bot?start=kk_KZ_kz-shymkent_poster-shymkent",
      "https://t.me/example_test_bot?start=ky_KG_kg-c-balykchy_committee-balykchy",
      "https://t.me/example_test_bot?start=ru_KZ_0_tv-16days",
    ]);
    expect(whatsapp[0]).toBe("https://wa.me/77000000000?text=%23kk_KZ_kz-shymkent_poster-shymkent");
    for (const [i, source] of ["poster-shymkent", "committee-balykchy", "tv-16days"].entries()) {
      expect(decode(path.join(out, `${source}.png`))).toBe(telegram[i]);
      expect(decode(path.join(out, `${source}-whatsapp.png`))).toBe(whatsapp[i]);
      expect(fs.readFileSync(path.join(out, `${source}.svg`), "utf8")).toMatch(
        /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/,
      );
    }
    const d = loadDirectory();
    expect(parseStartLink(telegram[1]!.split("?start=")[1]!, d)).toEqual({
      locale: "ky",
      country: "KG",
      regionId: "kg-c-balykchy",
      source: "committee-balykchy",
    });
  });

  it("refuses a config that would send people to the wrong place: no bot name, an unknown region, a region of the other country", async () => {
    const dir = tempDir();
    const config = path.join(dir, "c.json");
    fs.writeFileSync(config, JSON.stringify({ telegramBot: "", links: [{ source: "a" }] }));
    let r = await links(["--config", config, "--out", path.join(dir, "o")]);
    expect(r.code).toBe(1);
    expect(r.out).toContain('links: set "telegramBot" in the config file (or TELEGRAM_HANDLE)');
    fs.writeFileSync(
      config,
      JSON.stringify({
        telegramBot: "example_test_bot",
        links: [
          { source: "a", region: "kz-nowhere" },
          { source: "b", country: "KZ", region: "kg-osh-city" },
        ],
      }),
    );
    r = await links(["--config", config, "--out", path.join(dir, "o")]);
    expect(r.code).toBe(1);
    expect(r.out).toContain('links[0] (a): region "kz-nowhere" is not a place of KZ or KG in the gazetteer');
    expect(r.out).toContain('links[1] (b): region "kg-osh-city" is not a place of KZ in the gazetteer');
    expect(fs.existsSync(path.join(dir, "o"))).toBe(false);
  });
});
