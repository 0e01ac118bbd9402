/** The directory desk's dependencies, the views it hands the Telegram adapter, and what the adapter does after a press or a typed answer. */
import type { Locale } from "../../config.ts";
import type { Translator } from "../i18n.ts";
import type { OutboxPayload } from "../reports/types.ts";
import type { StaffButton, StaffView } from "../staff-view.ts";
import type { Directory, Entry } from "./search.ts";
import type { DirectoryStore } from "./store.ts";

export type DirButton = Required<StaffButton>;
export type DirView = StaffView<DirButton>;
/** What the adapter does after a press or a typed answer. */
export type DirResult =
  | { kind: "answer"; answer: string }
  | { kind: "edit"; answer: string; view: DirView }
  | { kind: "send"; answer: string; view: DirView }
  /** Ask for a typed value: the adapter sends `text` as a forced reply and records the prompt with its message id. */
  | { kind: "ask"; answer: string; text: string; prompt: { entryId: string; field: string; value?: unknown } }
  /** Ask for the source: `view` carries the "called today" button; its message id goes to prompt `promptId`. */
  | { kind: "source"; answer: string; view: DirView; promptId: number };

/** Fields staff edit by typing, by the action that opens them. */

export interface DirectoryDeskDeps {
  store: DirectoryStore;
  directory: Directory & { replace(entries: Entry[]): void };
  translator: Translator;
  staffLocale: Locale;
  now: () => Date;
  /** Queues outbox items (confirmation and check cards) and wakes the outbox. */
  enqueue(items: Array<{ dedupeKey: string; target: string; payload: OutboxPayload }>): Promise<void>;
  audit(actor: string, action: string, result: string): Promise<void>;
  /** The staff chat that checks a region's entries: its region group, else the directory group. */
  chatFor(regionId: string | null): number | null;
  /** Whose entries a staff chat's members may edit: every entry (the directory group), or its regions'. */
  scopeOf(chatId: number): "all" | string[];
  /** The time zone a staff chat lives in, for "today" and the dates it is shown. */
  zoneOf(chatId: number): string;
}
