/**
 * Channel-neutral vocabulary of the dialog core. Nothing here knows about
 * Telegram or WhatsApp: adapters translate their updates into `Incoming` and
 * render `Screen`s in their own way (keyboards, numbered text menus).
 */

export type ChannelName = "telegram" | "whatsapp";
export type Country = "KZ" | "KG";
export const COUNTRIES: readonly Country[] = ["KZ", "KG"];

/** "telegram:12345" — the channel and the chat, as one opaque key. */
export type Address = `${ChannelName}:${string}`;

export function makeAddress(channel: ChannelName, chatId: string | number): Address {
  return `${channel}:${chatId}`;
}
export function splitAddress(address: Address): { channel: ChannelName; chatId: string } {
  const i = address.indexOf(":");
  return { channel: address.slice(0, i) as ChannelName, chatId: address.slice(i + 1) };
}

export type MediaKind = "sticker" | "voice" | "photo" | "video" | "document" | "audio" | "contact" | "poll" | "other";

/** What the user did, as the core understands it. */
export type Input =
  | { type: "text"; text: string }
  | { type: "command"; command: string; args: string }
  /** A pressed button: `token` is what the adapter put into it. */
  | { type: "option"; token: string }
  | { type: "location"; lat: number; lon: number }
  /**
   * `ref`: the channel's reference to the file (a Telegram file_id, a sealed WhatsApp message id);
   * `seconds`: a voice note's length.
   */
  | { type: "media"; media: MediaKind; ref?: string; seconds?: number };

export interface Incoming {
  address: Address;
  input: Input;
  /** Id of the user's own message, tracked so quick exit can delete it. */
  messageId?: string;
  /** The client's language (Telegram's language_code), used before a choice is made. */
  languageHint?: string;
  /** Set by adapters once an update cannot be told apart from a retried one. */
  at?: Date;
}

export interface Option {
  id: string;
  label: string;
}

export type OutMessage =
  /** `phones`: numbers in the text that a channel should make tappable. */
  | { kind: "text"; text: string; phones?: string[] }
  /** A map pin. Coordinates in the directory are town centres, never a shelter's address. */
  | { kind: "place"; lat: number; lon: number; title: string; address: string };

/** What the core asks a channel to show. */
export interface Screen {
  messages: OutMessage[];
  /** Choices, attached to the last text message (buttons on Telegram, a numbered list on WhatsApp). */
  options?: Option[];
  /** How many buttons per row, where the channel has buttons. */
  columns?: number;
  /** Offer the channel's "share my location" control. */
  askLocation?: boolean;
  /** Ask the platform to block forwarding and saving (Telegram protect_content). */
  protect?: boolean;
  /**
   * A message the person did not ask for (a knock): its notification may be read over her
   * shoulder, so channels add nothing to it (on WhatsApp: no exit line, no help footer).
   */
  unprompted?: boolean;
}

export interface SentRef {
  id: string;
  at: Date;
}

export interface TrackedRef {
  id: string;
  fromBot: boolean;
  at: Date;
}

/**
 * What a deletion did, id by id (decision 9). `done`: deleted, or refused for good (not found, too
 * old, not ours to delete): forget it. `retry`: the platform failed for now (5xx, network, flood
 * wait): keep it and try again, not before `retryAfterMs` when the platform said so.
 */
export interface DeleteResult {
  done: string[];
  retry: string[];
  retryAfterMs?: number;
}
