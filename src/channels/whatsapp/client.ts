/**
 * The real whatsapp-web.js client with the project's options: LocalAuth in a
 * protected folder outside the project (W3), and the system Chromium through
 * puppeteer's executablePath, so nothing downloads a browser.
 */
import fs from "node:fs";
import path from "node:path";
import type { Config } from "../../config.ts";
import { projectRoot } from "../../paths.ts";
import type { WaClientLike } from "./index.ts";

export class WhatsAppSetupError extends Error {
  override name = "WhatsAppSetupError";
}

/** Creates the session folder with mode 0700, or refuses one that others can read or that sits in the project (W3). */
export function ensureSessionDir(dir: string): void {
  const abs = path.resolve(dir);
  if ((abs + path.sep).startsWith(projectRoot + path.sep))
    throw new WhatsAppSetupError(
      `WA_DATA_DIR (${abs}) is inside the project folder; move it outside: it is a live WhatsApp login`,
    );
  fs.mkdirSync(abs, { recursive: true, mode: 0o700 });
  const mode = fs.statSync(abs).mode & 0o777;
  if (mode & 0o077)
    throw new WhatsAppSetupError(
      `WA_DATA_DIR (${abs}) has mode ${mode.toString(8)}; run  chmod 700 ${abs}  (only the service user may read a WhatsApp session)`,
    );
}

export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export async function createWhatsAppClient(config: Pick<Config, "whatsappDataDir" | "chromePath">): Promise<{
  client: WaClientLike;
  makeLocation: (lat: number, lon: number, name: string, address: string) => unknown;
}> {
  ensureSessionDir(config.whatsappDataDir);
  let mod: { default?: typeof import("whatsapp-web.js") } & typeof import("whatsapp-web.js");
  try {
    mod = (await import("whatsapp-web.js")) as unknown as typeof mod;
  } catch {
    // An optional dependency: a Telegram-only install (npm ci --omit=optional) leaves it out.
    throw new WhatsAppSetupError(
      "WHATSAPP_ENABLED=true, but the optional package whatsapp-web.js is not installed: run  npm install --include=optional  (or npm ci without --omit=optional)",
    );
  }
  const wa = mod.default ?? mod;
  const client = new wa.Client({
    authStrategy: new wa.LocalAuth({ dataPath: config.whatsappDataDir }),
    // Puppeteer's own signal handlers would close Chromium and exit the process (130) before
    // Qorgau's shutdown drains Telegram and the database: Qorgau closes the browser itself.
    puppeteer: {
      executablePath: config.chromePath,
      headless: true,
      args: CHROMIUM_ARGS,
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
    },
  });
  return {
    client,
    makeLocation: (lat, lon, name, address) => new wa.Location(lat, lon, { name, address }),
  };
}
