/**
 * WhatsApp's photos and voice notes, made fit to reach staff (issue 26). A picture is decoded and
 * encoded anew, so no EXIF, GPS, XMP or author block can survive; a voice note goes as it came when
 * Telegram plays it as a voice (Opus in OGG, MP3, M4A), MP3 tags removed. Nothing is transcribed,
 * analysed or kept: the bytes live only while one delivery runs.
 */
import type { MediaFile } from "../../core/channel.ts";

/**
 * sharp, an optional package like whatsapp-web.js itself: loaded on the first WhatsApp photo, so a
 * Telegram-only production install (`npm ci --omit=optional`) never needs it.
 */
async function loadSharp() {
  return (await import("sharp")).default;
}

/** Whether pictures can be re-encoded here; WhatsApp's start says so when they cannot. */
export async function canCleanPhotos(): Promise<boolean> {
  try {
    await loadSharp();
    return true;
  } catch {
    return false;
  }
}

/** The longest side of a photo staff receive: enough to read a face or a bruise, and small to send. */
const MAX_SIDE = 2560;

/** A picture as new JPEG bytes, turned upright first (the EXIF orientation is the last thing read from it). */
export async function cleanPhoto(bytes: Buffer): Promise<Buffer> {
  const sharp = await loadSharp();
  return sharp(bytes, { failOn: "none" })
    .rotate()
    .resize({ width: MAX_SIDE, height: MAX_SIDE, fit: "inside", withoutEnlargement: true })
    .jpeg({ quality: 85, mozjpeg: true })
    .toBuffer();
}

/** The audio types Telegram shows as a voice note, by what WhatsApp says a file is. */
function voiceMime(mimetype: string): string | null {
  const base = mimetype.split(";")[0]!.trim().toLowerCase();
  if (base === "audio/ogg" || base === "audio/opus") return "audio/ogg";
  if (base === "audio/mpeg" || base === "audio/mp3") return "audio/mpeg";
  if (base === "audio/mp4" || base === "audio/m4a" || base === "audio/x-m4a" || base === "audio/aac")
    return "audio/mp4";
  return null;
}

/** An MP3 without its ID3 tags (title, artist, the recording app's notes). */
export function stripId3(bytes: Buffer): Buffer {
  let out = bytes;
  if (out.length > 10 && out.toString("latin1", 0, 3) === "ID3") {
    const size = ((out[6]! & 0x7f) << 21) | ((out[7]! & 0x7f) << 14) | ((out[8]! & 0x7f) << 7) | (out[9]! & 0x7f);
    const footer = out[5]! & 0x10 ? 10 : 0;
    out = out.subarray(Math.min(out.length, 10 + size + footer));
  }
  if (out.length >= 128 && out.toString("latin1", out.length - 128, out.length - 125) === "TAG")
    out = out.subarray(0, out.length - 128);
  return out;
}

/**
 * What WhatsApp gave for one message, as staff will receive it; null when it cannot be sent as it
 * must be (an audio format Telegram does not play as a voice, a picture that does not decode).
 */
export async function toStaffMedia(type: string, media: { mimetype: string; data: string }): Promise<MediaFile | null> {
  const bytes = Buffer.from(media.data, "base64");
  if (type === "image") {
    try {
      return { kind: "photo", bytes: await cleanPhoto(bytes), mime: "image/jpeg" };
    } catch {
      // Not a picture sharp can read, or sharp not installed: never sent as it came (it would keep its EXIF).
      return null;
    }
  }
  if (type === "ptt" || type === "audio") {
    const mime = voiceMime(media.mimetype);
    if (!mime) return null;
    return { kind: "voice", bytes: mime === "audio/mpeg" ? stripId3(bytes) : bytes, mime };
  }
  return null;
}
