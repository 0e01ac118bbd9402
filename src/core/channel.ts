/**
 * The contract between the dialog core and a messaging channel. An adapter
 * (Telegram, WhatsApp) implements it; the core never sees platform types.
 */
import type { Locale } from "../config.ts";
import type { ChannelName, DeleteResult, Screen, SentRef, TrackedRef } from "./types.ts";

export interface Channel {
  readonly name: ChannelName;
  /** Whether the bot can delete the user's own messages (Telegram private chats: yes; WhatsApp: no). */
  readonly canDeleteUserMessages: boolean;
  /** Shows a screen; returns the ids of the messages it sent, in order. */
  send(chatId: string, screen: Screen, locale: Locale): Promise<SentRef[]>;
  /**
   * Deletes what it can of the given messages and says, id by id, what is finished and what may be
   * tried again (never throws): an id is forgotten only when it is finished.
   */
  deleteMessages(chatId: string, refs: TrackedRef[]): Promise<DeleteResult>;
  /** Sends the harmless cover message, removing any keyboard. Not tracked. Throws when it did not go out. */
  sendCover(chatId: string, text: string, locale: Locale): Promise<void>;
}

/** Errors a channel may throw from `send`, mapped from the platform's own. */
export class ChannelError extends Error {
  constructor(
    readonly kind: "blocked" | "throttled" | "unavailable" | "bad_request",
    readonly retryable: boolean,
    readonly retryAfterSeconds?: number,
    /** The platform's own error code and method, for logs (never the payload). */
    readonly error_code?: number,
    readonly method?: string,
  ) {
    super(`channel error: ${kind}`);
    this.name = "ChannelError";
  }
  /** Messages of the screen that went out before the failure: they are tracked like any other (S2). */
  sent: SentRef[] = [];
}

/**
 * A photo or a voice note a channel fetched for staff (issue 26), already stripped of what could
 * name her phone or place: pictures re-encoded without EXIF, GPS or author.
 */
export interface MediaFile {
  kind: "photo" | "voice";
  bytes: Buffer;
  /** What the bytes are: "image/jpeg", "audio/ogg", "audio/mpeg" or "audio/mp4". */
  mime: string;
}

/**
 * Fetches a file by the reference its channel put into an `Input`. Resolves null when the file is
 * gone for good or cannot be sent as it must be; throws when a later try may work.
 */
export type FetchMedia = (ref: string) => Promise<MediaFile | null>;
