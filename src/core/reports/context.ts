/** What every part of the report flow shares: its dependencies, its context, its limits and small helpers. */
import { crashPoint } from "../../crash-points.ts";
import type { Locale } from "../../config.ts";
import { placeName } from "../directory/search.ts";
import type { Address, Option } from "../types.ts";
import { type FlowCtx } from "../flows/context.ts";
import { type Draft, type ReportStore } from "./types.ts";

export const MAX_REPORT_TEXT = 2000;
export const RISK_QUESTIONS = 5;
/** A case word is at least this long, and required whenever staff may contact the reporter (decision 10). */
export const MIN_CASE_WORD = 5;
export const MAX_PHOTOS = 5;
/** Voice notes one report may carry (issue 26); their longest length is configured (VOICE_MAX_SECONDS). */
export const MAX_VOICES = 3;
/** How long a shown staff reply stays in the chat (S8). */
export const SHOWN_REPLY_MINUTES = 30;

export interface ReportDeps {
  reports: ReportStore;
  /** Staff chat for a region (the committee's), else the admin chat; null when reports are not set up. */
  staffChatFor(regionId: string | null): number | null;
  /** Tries to deliver these outbox rows now (bounded), so the confirmation follows the commit at once. */
  deliverNow(dedupeKeys: string[]): Promise<void>;
  caseWordAfterHours: number;
  /** The longest voice note a report takes, in seconds (VOICE_MAX_SECONDS). */
  voiceMaxSeconds: number;
  /** Reports one chat may send in 24 hours (REPORTS_PER_DAY). */
  reportsPerDay: number;
  /** Where "a number did not work" goes (DIRECTORY_CHAT_ID, else the admin chat); null: nowhere. */
  directoryChat?: number | null;
  /** The staff groups' language (STAFF_LOCALE), for names in their notices. */
  staffLocale?: Locale;
  now: () => Date;
  /** Wakes the outbox: held deliveries were released. */
  kick?(): void;
}

export interface ReportCtx extends FlowCtx {
  rd: ReportDeps;
  address: Address;
}

export const cancel = (t: FlowCtx["t"]): Option => ({ id: "r:cancel", label: t("report.cancel") });

export async function saveDraft(ctx: ReportCtx, d: Draft) {
  await ctx.rd.reports.saveDraft(ctx.address, d, ctx.rd.now());
  if (d.step === "danger") crashPoint("after_draft_step");
}

export const wordRequired = (d: Draft) => !!d.contact && d.contact !== "none";

export function regionLabel(ctx: FlowCtx, regionId: string | null | undefined): string {
  const p = regionId ? ctx.deps.directory.place(regionId) : undefined;
  return p ? placeName(p, ctx.locale) : ctx.t("report.notGiven");
}

/**
 * In the spirit of the DA-5 short danger screen: three or more "yes", or a
 * "yes" to strangulation (question 4) or a weapon (question 2), is high risk.
 */
export function isHighRisk(answers: string | null): boolean {
  if (!answers) return false;
  const yes = [...answers].filter((a) => a === "y").length;
  return yes >= 3 || answers[1] === "y" || answers[3] === "y";
}
