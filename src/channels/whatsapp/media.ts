/**
 * WhatsApp's photos and voice notes, made fit to reach staff (issue 26). A picture is decoded and
 * encoded anew, so no EXIF, GPS, XMP or author block can survive. A voice note (Opus in OGG, as
 * Telegram expects) goes as it came; any other recording is converted to Opus in OGG by ffmpeg,
 * its tags dropped, or without ffmpeg goes as MP3 without its tags or as M4A, and otherwise not at
 * all. Nothing is transcribed, analysed or kept: the bytes live only while one delivery runs.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { MediaFile } from "../../core/channel.ts";

/**
 * sharp, an optional package like whatsapp-web.js itself: loaded only where WhatsApp runs (its start
 * checks it is there), so a Telegram-only production install (`npm ci --omit=optional`) never needs it.
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

/** Whether recordings can be converted here (FFMPEG_PATH); WhatsApp's start says so when they cannot. */
export function canConvertAudio(ffmpeg: string | undefined): ffmpeg is string {
  return !!ffmpeg && fs.existsSync(ffmpeg);
}

/** The private folders a conversion writes a recording into for ffmpeg: `<tmp>/qorgau-audio-XXXXXX`. */
const AUDIO_DIR_PREFIX = "qorgau-audio-";

/**
 * Recordings a conversion left behind because the process was killed while ffmpeg read them: removed
 * when WhatsApp starts, so her voice does not stay on the disk past a crash.
 */
export async function removeLeftoverRecordings(tmp = os.tmpdir()): Promise<number> {
  let removed = 0;
  for (const name of await fs.promises.readdir(tmp).catch(() => [] as string[])) {
    if (!name.startsWith(AUDIO_DIR_PREFIX)) continue;
    await fs.promises.rm(path.join(tmp, name), { recursive: true, force: true }).catch(() => undefined);
    removed++;
  }
  return removed;
}

/** The largest recording handed to ffmpeg, and the longest it may take (a stranger's file: bounded). */
const MAX_AUDIO_BYTES = 20 * 1024 * 1024;
const CONVERT_TIMEOUT_MS = 60_000;

/**
 * Any recording as Opus in OGG, mono, speech bitrate, with no metadata carried over. ffmpeg reads it
 * from a file (an M4A's index may sit at its end, out of reach of a pipe): a private folder, removed
 * as soon as ffmpeg is done, whatever happened.
 */
export async function toOpus(ffmpeg: string, bytes: Buffer): Promise<Buffer> {
  if (bytes.length > MAX_AUDIO_BYTES) throw new Error("recording too large");
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), AUDIO_DIR_PREFIX));
  try {
    const input = path.join(dir, "in");
    await fs.promises.writeFile(input, bytes, { mode: 0o600 });
    return await new Promise<Buffer>((resolve, reject) => {
      const args = ["-hide_banner", "-loglevel", "error", "-nostdin", "-i", input, "-map", "0:a:0"];
      args.push("-map_metadata", "-1", "-vn", "-ac", "1", "-c:a", "libopus", "-b:a", "32k");
      args.push("-application", "voip", "-f", "ogg", "pipe:1");
      const child = spawn(ffmpeg, args, { stdio: ["ignore", "pipe", "ignore"] });
      const out: Buffer[] = [];
      let size = 0;
      const timer = setTimeout(() => child.kill("SIGKILL"), CONVERT_TIMEOUT_MS);
      child.stdout.on("data", (d: Buffer) => {
        size += d.length;
        if (size > MAX_AUDIO_BYTES) child.kill("SIGKILL");
        else out.push(d);
      });
      child.on("error", (err) => (clearTimeout(timer), reject(err)));
      child.on("close", (code) => {
        clearTimeout(timer);
        if (code === 0 && size > 0 && size <= MAX_AUDIO_BYTES) resolve(Buffer.concat(out));
        else reject(new Error(`ffmpeg could not convert the recording (exit ${code})`));
      });
    });
  } finally {
    await fs.promises.rm(dir, { recursive: true, force: true });
  }
}

/**
 * What WhatsApp gave for one message, as staff will receive it; null when it cannot be sent as it
 * must be (a recording neither Telegram nor ffmpeg can make a voice of, a picture that does not decode).
 */
export async function toStaffMedia(
  type: string,
  media: { mimetype: string; data: string },
  opts: { ffmpeg?: string } = {},
): Promise<MediaFile | null> {
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
    if (mime === "audio/ogg") return { kind: "voice", bytes, mime };
    // Converted where needed: another format, or tags (title, artist) a phone's recorder wrote.
    if (canConvertAudio(opts.ffmpeg)) {
      try {
        return { kind: "voice", bytes: await toOpus(opts.ffmpeg, bytes), mime: "audio/ogg" };
      } catch {
        return null;
      }
    }
    if (mime === "audio/mpeg") return { kind: "voice", bytes: stripId3(bytes), mime };
    return mime ? { kind: "voice", bytes, mime } : null;
  }
  return null;
}
