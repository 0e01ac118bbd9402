/**
 * WhatsApp messages → the core's Input. Menus are numbered text (W1), so a
 * digit, a keycap emoji or a number word is an answer; 0 is always the quick
 * exit (S1).
 */
import type { Input, MediaKind } from "../../core/types.ts";
import { normalize } from "../../core/text.ts";

/** The subset of whatsapp-web.js's Message the adapter reads. */
export interface WaIncoming {
  from: string;
  fromMe: boolean;
  type: string;
  body: string;
  isStatus?: boolean;
  author?: string;
  location?: { latitude: number | string; longitude: number | string };
  id: { _serialized: string };
  timestamp?: number;
  /** A voice note's or recording's length in seconds (the library gives a string). */
  duration?: string | number;
}

const NUMBER_WORDS: Record<string, number> = {
  // ru
  ноль: 0,
  один: 1,
  одна: 1,
  два: 2,
  две: 2,
  три: 3,
  четыре: 4,
  пять: 5,
  шесть: 6,
  семь: 7,
  восемь: 8,
  девять: 9,
  // kk
  нөл: 0,
  бір: 1,
  екі: 2,
  үш: 3,
  төрт: 4,
  бес: 5,
  алты: 6,
  жеті: 7,
  сегіз: 8,
  тоғыз: 9,
  // ky (and common spellings without the special letters)
  нөль: 0,
  бир: 1,
  эки: 2,
  уч: 3,
  беш: 5,
  жети: 7,
  сегиз: 8,
  тогуз: 9,
  // Latin
  nol: 0,
  bir: 1,
  eki: 2,
  uch: 3,
  ush: 3,
  tort: 4,
  bes: 5,
  besh: 5,
  alty: 6,
  alti: 6,
  zheti: 7,
  jeti: 7,
  segiz: 8,
  togyz: 9,
  toguz: 9,
  zero: 0,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
};

/** "1", "1️⃣", " 2. ", "бір", "bir" → the number; anything else → null. */
export function menuNumber(text: string): number | null {
  const s = normalize(text)
    .replace(/[\uFE0F\u20E3]/g, "")
    .replace(/[.)\s]+$/, "");
  if (/^\d{1,2}$/.test(s)) return Number(s);
  const word = NUMBER_WORDS[s];
  return word === undefined ? null : word;
}

/** Message types a person sends (besides text and location), as whatsapp-web.js names them. */
const PERSON_SENT: Record<string, MediaKind> = {
  image: "photo",
  ptt: "voice",
  // A recording sent from the phone's own recorder: spoken like a voice note, and taken as one.
  audio: "voice",
  sticker: "sticker",
  video: "video",
  document: "document",
  vcard: "contact",
  multi_vcard: "contact",
  poll_creation: "poll",
};

/** What the adapter makes of a WhatsApp message, or null for what it must ignore. */
export function parseWa(msg: WaIncoming): Input | null {
  // Never our own echoes, status broadcasts or groups (W: the bot answers only one-to-one chats).
  if (
    msg.fromMe ||
    msg.isStatus ||
    msg.from === "status@broadcast" ||
    msg.from.endsWith("@g.us") ||
    msg.from.endsWith("@broadcast") ||
    msg.author
  )
    return null;
  switch (msg.type) {
    case "chat": {
      const n = menuNumber(msg.body);
      if (n === 0) return { type: "command", command: "exit", args: "" };
      if (n !== null) return { type: "text", text: String(n) };
      if (/^\/[a-z]+/i.test(msg.body.trim())) {
        const [cmd, ...rest] = msg.body.trim().slice(1).split(/\s+/);
        return { type: "command", command: (cmd ?? "").toLowerCase(), args: rest.join(" ") };
      }
      return { type: "text", text: msg.body };
    }
    case "location": {
      const lat = Number(msg.location?.latitude);
      const lon = Number(msg.location?.longitude);
      return Number.isFinite(lat) && Number.isFinite(lon)
        ? { type: "location", lat, lon }
        : { type: "media", media: "other" };
    }
    default: {
      // Only what a person sends. WhatsApp's own notices (e2e_notification, notification_template,
      // call_log, protocol, revoked, reactions, group notices, …) are not a person writing: they get
      // no answer, and after a quick exit they must not bring one (S6).
      const kind = PERSON_SENT[msg.type];
      if (!kind) return null;
      const seconds = Number(msg.duration);
      return kind === "voice" && Number.isFinite(seconds)
        ? { type: "media", media: kind, seconds }
        : { type: "media", media: kind };
    }
  }
}
