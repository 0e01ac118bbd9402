/**
 * The playground (issue 17): the real bot, the same code as production, on
 * the built-in Bot API emulator, a fake WhatsApp client and a real SQLite
 * file, with a local web page where partners can try it without a token, an
 * account or a phone: a survivor's and a neighbour's Telegram chat, the same
 * dialogs as WhatsApp renders them, and the staff group beside them.
 *
 * Served on 127.0.0.1 only. The API answers only requests addressed to that
 * host (a page elsewhere cannot rebind a name to it) with a JSON body (a form
 * elsewhere cannot post to it). Nothing leaves the machine.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import type { AddressInfo } from "node:net";
import sharp from "sharp";
import { loadConfig, isLocale, type Locale } from "../config.ts";
import { createLogger } from "../logger.ts";
import { startApp, type App } from "../app.ts";
import { loadSeed, placeName } from "../core/directory/search.ts";
import { BotApiEmulator, type ChatViewMessage } from "./fakes/bot-api-emulator.ts";
import { FakeWaClient } from "./fakes/fake-whatsapp.ts";
import { reviewPage } from "./review.ts";
import { crawlScreens, type CrawledScreen } from "./screens.ts";

/** The people of the playground: two phones on Telegram, one on WhatsApp, one staff group. */
export const PEOPLE = { survivor: 1001, neighbour: 1002 } as const;
export type Who = keyof typeof PEOPLE;
export const STAFF_CHAT = -1001000000001;
/** The staff member at the group's phone: a supervisor, so every button works. */
export const STAFF_USER = 5001;
const WA_JID = "playground@c.us";
const PAGE = path.join(path.dirname(new URL(import.meta.url).pathname), "page.html");

interface World {
  emu: BotApiEmulator;
  wa: FakeWaClient;
  app: App;
  dir: string;
  /** What the WhatsApp person typed (the fake client keeps only what the bot sent). */
  waTyped: Array<{ id: string; at: number; text: string; media?: "voice" | "photo" }>;
}

export interface Playground {
  url: string;
  stop(): Promise<void>;
  reset(): Promise<void>;
  world(): World;
}

async function makeWorld(lang: Locale): Promise<World> {
  const emu = await new BotApiEmulator().start();
  emu.protectedChats.add(STAFF_CHAT);
  emu.setMember(STAFF_CHAT, STAFF_USER, "member");
  for (const id of Object.values(PEOPLE)) emu.people.set(id, { languageCode: lang, firstName: "Playground" });
  const wa = new FakeWaClient();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "qorgau-playground-"));
  const config = loadConfig({
    BOT_TOKEN: emu.token,
    TELEGRAM_API_ROOT: emu.apiRoot,
    DATABASE_URL: `file:${path.join(dir, "qorgau.db")}`,
    BACKUP_DIR: path.join(dir, "backups"),
    // A fresh key per playground: its database is thrown away on reset and at the end.
    ENCRYPTION_KEY: crypto.randomBytes(32).toString("base64"),
    ADMIN_CHAT_ID: String(STAFF_CHAT),
    STAFF_SUPERVISORS: String(STAFF_USER),
    STAFF_LOCALE: lang,
    WHATSAPP_ENABLED: "true",
    SYNC_BOT_PROFILE: "false",
    GROUP_MESSAGES_PER_MINUTE: "600",
    CHAT_UPDATES_PER_MINUTE: "600",
    REPORTS_PER_DAY: "50",
    WA_SEND_DELAY_MS: "0",
  });
  const logger = createLogger({
    level: "warn",
    secrets: [config.botToken],
    write: (l) => process.stderr.write(`${l}\n`),
  });
  const app = await startApp(config, logger, {
    jobs: false,
    onStopped: () => undefined,
    onFatal: () => undefined,
    whatsappClient: {
      client: wa,
      makeLocation: (lat, lon, name, address) => ({ kind: "location", lat, lon, name, address }),
    },
  });
  return { emu, wa, app, dir, waTyped: [] };
}

/** Bytes standing for a recorded voice note: the playground's staff group shows it, nobody plays it. */
const SAMPLE_VOICE = Buffer.concat([Buffer.from("OggS"), Buffer.alloc(256, 1)]);
let sample: Promise<Buffer> | undefined;
/** A photo as a phone camera writes it, with a GPS position in its EXIF block, for the bot to strip. */
function samplePhoto(): Promise<Buffer> {
  sample ??= sharp({ create: { width: 480, height: 360, channels: 3, background: { r: 120, g: 90, b: 60 } } })
    .jpeg()
    .withExif({
      IFD3: { GPSLatitudeRef: "N", GPSLatitude: "42/1 18/1 0/1", GPSLongitudeRef: "E", GPSLongitude: "69/1 36/1 0/1" },
    })
    .toBuffer();
  return sample;
}

async function dropWorld(w: World) {
  await w.app.stop();
  await w.emu.stop();
  fs.rmSync(w.dir, { recursive: true, force: true });
}

/** A Telegram message as the page draws it. */
function tgMessage(m: ChatViewMessage) {
  const p = m.payload;
  const markup = m.markup as
    | {
        inline_keyboard?: Array<Array<{ text: string; callback_data?: string }>>;
        keyboard?: Array<Array<{ text: string; request_location?: boolean }>>;
        remove_keyboard?: boolean;
        force_reply?: boolean;
      }
    | undefined;
  return {
    id: m.id,
    fromBot: m.fromBot,
    at: m.date,
    text: m.text ?? null,
    kind:
      m.method === "sendVenue"
        ? "venue"
        : m.method === "sendLocation" || p.location
          ? "location"
          : m.method === "sendVoice" || p.voice
            ? "voice"
            : m.method === "sendPhoto" || p.photo
              ? "photo"
              : "text",
    venue: m.method === "sendVenue" ? { title: p.title, address: p.address } : null,
    inline:
      markup?.inline_keyboard?.map((row) => row.map((b) => ({ text: b.text, data: b.callback_data ?? "" }))) ?? null,
    keyboard:
      markup?.keyboard?.map((row) => row.map((b) => ({ text: b.text, location: !!b.request_location }))) ?? null,
    removeKeyboard: !!markup?.remove_keyboard,
    forceReply: !!markup?.force_reply,
    protect: !!p.protect_content,
    from: m.fromBot ? null : (p.from?.first_name ?? null),
  };
}

function waMessages(w: World) {
  const mine = w.wa.sent
    .filter((s) => s.chatId === WA_JID)
    .map((s) => {
      const c = s.content as { kind?: string; name?: string; address?: string } | string;
      const n = Number(s.id.split("_").pop());
      return {
        id: s.id,
        order: n,
        fromBot: true,
        text: s.text,
        location: typeof c === "object" && c?.kind === "location" ? { name: c.name, address: c.address } : null,
        deleted: s.deletedFor === "everyone",
      };
    });
  const typed = w.waTyped.map((t) => ({
    id: t.id,
    order: Number(t.id.split("_").pop()),
    fromBot: false,
    text: t.text,
    media: t.media ?? null,
    location: null,
    deleted: false,
  }));
  return [...mine, ...typed].sort((a, b) => a.order - b.order);
}

export async function startPlayground(opts: { port?: number; lang?: Locale } = {}): Promise<Playground> {
  let lang: Locale = opts.lang ?? "ru";
  let w = await makeWorld(lang);
  let resetting: Promise<void> | null = null;
  let files = 0;
  const page = fs.readFileSync(PAGE, "utf8");
  // The composed screens for the review page: walked once, in the background, from this checkout's code and texts.
  let screens: CrawledScreen[] = [];
  const walked = crawlScreens().then(
    (s) => void (screens = s),
    (err: Error) => process.stderr.write(`playground: the screens for review could not be walked: ${err.message}\n`),
  );
  const places = loadSeed().places.map((p) => ({
    id: p.id,
    country: p.country,
    kind: p.kind,
    lat: p.lat,
    lon: p.lon,
    names: { ru: placeName(p, "ru"), kk: placeName(p, "kk"), ky: placeName(p, "ky") },
  }));

  const reset = async () => {
    resetting ??= (async () => {
      const old = w;
      await dropWorld(old);
      w = await makeWorld(lang);
    })().finally(() => (resetting = null));
    await resetting;
  };

  function state() {
    const e = w.emu;
    return {
      lang,
      changed: e.changed + w.wa.sent.length + w.waTyped.length + w.wa.sent.filter((s) => s.deletedFor).length,
      telegram: Object.fromEntries(Object.entries(PEOPLE).map(([who, chat]) => [who, e.view(chat).map(tgMessage)])),
      staff: e.view(STAFF_CHAT).map(tgMessage),
      whatsapp: waMessages(w),
      answers: e.answers.slice(-10).map((a) => ({
        at: a.at,
        where: a.chatId === STAFF_CHAT ? "staff" : (Object.entries(PEOPLE).find(([, c]) => c === a.chatId)?.[0] ?? "?"),
        text: a.text,
      })),
    };
  }

  async function act(route: string, body: Record<string, any>): Promise<unknown> {
    if (resetting) await resetting;
    const e = w.emu;
    if (route === "/api/reset") {
      if (body.lang && isLocale(body.lang)) lang = body.lang;
      await reset();
      return state();
    }
    if (route === "/api/telegram") {
      // Only the page's own people: anything else (a made-up role, "toString", "__proto__") is refused.
      if (typeof body.who !== "string" || !Object.hasOwn(PEOPLE, body.who)) throw new BadRequest("unknown person");
      const who = body.who as Who;
      const chat = PEOPLE[who];
      if (body.action === "text" && typeof body.text === "string" && body.text.trim())
        e.sendText(chat, body.text.slice(0, 4096), { languageCode: lang });
      else if (body.action === "press" && Number.isInteger(body.messageId) && typeof body.data === "string")
        e.press(chat, body.messageId, body.data, { languageCode: lang });
      else if (body.action === "location" && Number.isFinite(body.lat) && Number.isFinite(body.lon))
        e.sendLocation(chat, body.lat, body.lon, { languageCode: lang });
      // A voice note and a photo as the person would send them: here, by a made-up file id (issue 26).
      else if (body.action === "voice")
        e.sendVoice(chat, { languageCode: lang }, { fileId: `playground-voice-${++files}`, seconds: 7 });
      else if (body.action === "photo") e.sendPhoto(chat, { languageCode: lang }, `playground-photo-${++files}`);
      else throw new BadRequest("unknown telegram action");
      return { ok: true };
    }
    if (route === "/api/staff") {
      if (body.action === "text" && typeof body.text === "string" && body.text.trim())
        e.groupMessage(
          STAFF_CHAT,
          STAFF_USER,
          body.text.slice(0, 4096),
          Number.isInteger(body.replyTo) ? body.replyTo : undefined,
        );
      else if (body.action === "press" && Number.isInteger(body.messageId) && typeof body.data === "string")
        e.press(STAFF_CHAT, body.messageId, body.data, { id: STAFF_USER });
      else throw new BadRequest("unknown staff action");
      return { ok: true };
    }
    if (route === "/api/whatsapp") {
      let id: string;
      if (body.action === "text" && typeof body.text === "string" && body.text.trim())
        id = w.wa.text(WA_JID, body.text.slice(0, 4096));
      else if (body.action === "location" && Number.isFinite(body.lat) && Number.isFinite(body.lon))
        id = w.wa.location(WA_JID, body.lat, body.lon);
      // WhatsApp's files are downloaded by the bot: a short recording, and a camera photo with its GPS.
      else if (body.action === "voice") id = w.wa.voice(WA_JID, SAMPLE_VOICE, 7);
      else if (body.action === "photo") id = w.wa.photo(WA_JID, await samplePhoto());
      else throw new BadRequest("unknown whatsapp action");
      const media = body.action === "voice" || body.action === "photo" ? (body.action as "voice" | "photo") : undefined;
      w.waTyped.push({ id, at: Date.now(), text: body.action === "text" ? body.text.slice(0, 4096) : "📍", media });
      return { ok: true };
    }
    throw new NotFound();
  }

  const server = http.createServer((req, res) => {
    void (async () => {
      const send = (status: number, type: string, body: string) => {
        res.writeHead(status, {
          "content-type": type,
          "cache-control": "no-store",
          "x-content-type-options": "nosniff",
          "referrer-policy": "no-referrer",
        });
        res.end(body);
      };
      const port = (server.address() as AddressInfo).port;
      // Only this machine's own names: a rebinding attack brings a foreign Host header.
      if (req.headers.host !== `127.0.0.1:${port}` && req.headers.host !== `localhost:${port}`)
        return send(421, "text/plain", "misdirected request");
      const url = new URL(req.url ?? "/", `http://127.0.0.1:${port}`);
      try {
        if (req.method === "GET" && url.pathname === "/") return send(200, "text/html; charset=utf-8", page);
        if (req.method === "GET" && url.pathname === "/review") {
          await Promise.race([walked, new Promise((r) => setTimeout(r, 10_000))]);
          return send(200, "text/html; charset=utf-8", reviewPage(screens));
        }
        if (req.method === "GET" && url.pathname === "/api/state")
          return send(200, "application/json", JSON.stringify(state()));
        if (req.method === "GET" && url.pathname === "/api/places")
          return send(200, "application/json", JSON.stringify(places));
        if (req.method === "POST" && url.pathname.startsWith("/api/")) {
          if (!(req.headers["content-type"] ?? "").startsWith("application/json"))
            return send(415, "text/plain", "JSON only");
          const chunks: Buffer[] = [];
          let size = 0;
          for await (const c of req) {
            size += (c as Buffer).length;
            if (size > 64 * 1024) return send(413, "text/plain", "too large");
            chunks.push(c as Buffer);
          }
          const body = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as Record<string, any>;
          return send(200, "application/json", JSON.stringify(await act(url.pathname, body)));
        }
        return send(404, "text/plain", "not found");
      } catch (err) {
        if (err instanceof NotFound) return send(404, "text/plain", "not found");
        if (err instanceof BadRequest || err instanceof SyntaxError)
          return send(400, "text/plain", (err as Error).message);
        process.stderr.write(`playground: ${(err as Error).stack ?? err}\n`);
        return send(500, "text/plain", "error");
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return {
    url,
    reset,
    world: () => w,
    async stop() {
      await walked;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await dropWorld(w);
    },
  };
}

class BadRequest extends Error {}
class NotFound extends Error {}
