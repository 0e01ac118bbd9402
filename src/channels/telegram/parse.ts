/** Telegram messages → the core's channel-neutral Input. */
import type { Message } from "grammy/types";
import type { Input } from "../../core/types.ts";

export function parseMessage(msg: Message, botUsername?: string): Input {
  if (typeof msg.text === "string") {
    const cmd = msg.entities?.find((e) => e.type === "bot_command" && e.offset === 0);
    if (cmd) {
      const [name, at] = msg.text.slice(1, cmd.length).split("@");
      // A command addressed to another bot in the same chat is just text.
      if (!at || !botUsername || at.toLowerCase() === botUsername.toLowerCase()) {
        return { type: "command", command: (name ?? "").toLowerCase(), args: msg.text.slice(cmd.length).trim() };
      }
    }
    return { type: "text", text: msg.text };
  }
  const loc = msg.location ?? msg.venue?.location;
  if (loc) return { type: "location", lat: loc.latitude, lon: loc.longitude };
  if (msg.sticker) return { type: "media", media: "sticker" };
  if (msg.voice) return { type: "media", media: "voice", ref: msg.voice.file_id, seconds: msg.voice.duration };
  if (msg.photo) return { type: "media", media: "photo", ref: msg.photo.at(-1)?.file_id };
  // A round video shows a face: not taken as a voice.
  if (msg.video || msg.animation || msg.video_note) return { type: "media", media: "video" };
  if (msg.audio) return { type: "media", media: "audio" };
  // Files keep their metadata (the place a picture was taken, a recording's author): never taken (P3).
  if (msg.document) return { type: "media", media: "document" };
  if (msg.contact) return { type: "media", media: "contact" };
  if (msg.poll) return { type: "media", media: "poll" };
  return { type: "media", media: "other" };
}
