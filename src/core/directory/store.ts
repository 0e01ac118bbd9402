/**
 * The directory's storage port: what the directory desk, the search and the Telegram directory
 * screens need of stored entries, their change history, and the prompts staff answer by reply.
 * `db/directory.ts` implements it on the message connection.
 */
import type { Entry } from "./search.ts";

export type EditField = "phones" | "hours" | "address" | "services" | "status" | "verified" | "new" | "seed";

export interface ChangeRecord {
  id: number;
  entryId: string;
  field: EditField;
  before: unknown;
  after: unknown;
  source: string;
  by: string;
  byName: string | null;
  state: "applied" | "pending" | "rejected";
  decidedBy: string | null;
  at: Date;
}

export interface NewChange {
  entryId: string;
  field: Exclude<EditField, "seed" | "new">;
  /** phones: string[]; hours, address: string | null; services: string[]; status: EntryStatus; verified: null. */
  after: unknown;
  source: string;
  /** "staff:<telegram id>" or "file:<name>". */
  by: string;
  byName?: string | null;
}

export interface Prompt {
  id: number;
  chatId: number;
  messageId: number | null;
  userId: number;
  entryId: string;
  field: string;
  value: unknown;
  at: Date;
}

export interface DirectoryStore {
  /**
   * Brings the file's entries in: new ones are added; for entries already here, each field staff
   * never changed follows the file, and fields they changed keep their value. Idempotent.
   */
  syncSeed(
    seed: Entry[],
    at: Date,
  ): Promise<{
    added: number;
    updated: number;
  }>;
  /** Every stored entry, with its status and last check. */
  all(): Promise<Entry[]>;
  get(id: string): Promise<Entry | null>;
  /** Adds an entry that was not in the data (an import row): shown at once, its phones wait for confirmation. */
  create(
    e: Entry,
    source: string,
    by: string,
    at: Date,
  ): Promise<{
    change: ChangeRecord;
    phones: ChangeRecord | null;
  }>;
  /**
   * Records a change. One that gives or takes away a way to reach a service (needsSecondPerson)
   * waits (`pending`) for a supervisor; anything else applies at once and counts as a check of the
   * entry. Null when the entry does not exist.
   */
  change(c: NewChange, at: Date): Promise<ChangeRecord | null>;
  /**
   * A supervisor's decision on a pending change. "self" when its author tries to confirm it,
   * "gone" when it was decided already (or replaced by a later change of the same entry's phones).
   */
  decide(id: number, approve: boolean, by: string, at: Date): Promise<ChangeRecord | "self" | "gone">;
  changeById(id: number): Promise<ChangeRecord | null>;
  history: (entryId: string, limit?: number) => Promise<ChangeRecord[]>;
  pendingOf: (entryId: string) => Promise<ChangeRecord[]>;
  /** Pending changes whose confirmation card has not gone to staff yet (an import's, a restart's). */
  unposted: () => Promise<ChangeRecord[]>;
  markPosted(id: number, at: Date): Promise<void>;
  /** Entries of KZ and KG not closed whose last check (or latest source) is before `before`, most signalled first, then oldest. */
  due(
    before: Date,
    at: Date,
  ): Promise<
    Array<{
      entry: Entry;
      signals: number;
    }>
  >;
  savePrompt(
    p: {
      chatId: number;
      messageId: number | null;
      userId: number;
      entryId: string;
      field: string;
      value?: unknown;
    },
    at: Date,
  ): Promise<number>;
  setPromptMessage(id: number, messageId: number): Promise<void>;
  prompt(
    where:
      | {
          id: number;
        }
      | {
          chatId: number;
          messageId: number;
        },
    at: Date,
  ): Promise<Prompt | null>;
  dropPrompt(id: number): Promise<void>;
  purgePrompts(at: Date): Promise<void>;
}
