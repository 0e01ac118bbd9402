/** The shapes the Telegram emulator keeps and shows: calls, stored messages, faults, people. */
export interface EmuCall {
  method: string;
  payload: Record<string, any>;
  at: number;
}

export interface StoredMessage {
  id: number;
  fromBot: boolean;
  date: number; // ms
  deleted: boolean;
  text?: string;
  markup?: unknown;
  /** What made the message: the bot's call (method and payload), or the user's fields. */
  method?: string;
  payload?: Record<string, any>;
}

/** A message as a chat shows it now (the playground draws these). */
export interface ChatViewMessage {
  id: number;
  fromBot: boolean;
  date: number;
  text?: string;
  /** The current inline keyboard or reply keyboard, as sent or last edited. */
  markup?: any;
  /** sendMessage, sendVenue, sendLocation, sendPhoto; "user" for the person's own. */
  method: string;
  payload: Record<string, any>;
}

export type Fault = { error_code: number; description: string; retry_after?: number; migrate_to_chat_id?: number };
export interface Override {
  method: string;
  times: number;
  fault?: Fault;
  delayMs?: number;
  /** Close the connection without an answer, as a network that drops a request does. */
  drop?: boolean;
  when?: (payload: Record<string, any>) => boolean;
  /** A fault that lasts until this time (ms, Date.now()) instead of a number of calls. */
  until?: number;
}

export const DELETE_WINDOW_MS = 48 * 3600_000;

export interface UserSpec {
  id?: number;
  languageCode?: string;
  firstName?: string;
  username?: string;
}
