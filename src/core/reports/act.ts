/** The report flow's dispatcher: the options ("r:…"), typed text, media and locations that reach it. */
import { normalizeCode } from "../safety/sealer.ts";
import type { Country, OutMessage } from "../types.ts";
import { text, type View } from "../flows/context.ts";
import { dangerView } from "../flows/lines.ts";
import { menuView } from "../flows/start.ts";
import { ABOUT, CONTACT, REPORT_KINDS, type Contact, type Draft } from "./types.ts";
import { beginCallback, numberFailed, numbersView, startCallback } from "../directory/signals.ts";
import { MAX_REPORT_TEXT, MIN_CASE_WORD, RISK_QUESTIONS, type ReportCtx, saveDraft, wordRequired } from "./context.ts";
import { advance, beginDraft, limitsView, stepView, submit, whereRegionsView } from "./draft.ts";
import {
  ANSWER_WINDOW_MINUTES,
  addInfo,
  addInfoPrompt,
  myReportsView,
  reportStatusView,
  resumeContact,
  resumeContactAsk,
  stopContact,
  stopContactAsk,
  unlock,
  unlockMine,
} from "./mine.ts";

/** Options pressed inside the report flow ("r:…"). Returns null for ids it does not own. */
export async function reportAct(ctx: ReportCtx, id: string): Promise<View | null> {
  const { t, rd } = ctx;
  const parts = id.split(":");
  const [, act, arg] = parts;
  if (act === "cancel") {
    await rd.reports.deleteDraft(ctx.address);
    return menuView(ctx, t("report.cancelled"));
  }
  if (act === "go") {
    ctx.session.limitsShown = true;
    return beginDraft(ctx);
  }
  if (act === "callback") return startCallback(ctx, arg ?? "");
  if (act === "numbers") return numbersView(ctx);
  if (act === "sig") return numberFailed(ctx, arg ?? "");
  if (act === "gocb") {
    ctx.session.limitsShown = true;
    return beginCallback(ctx, arg || null);
  }
  if (act === "mine") return myReportsView(ctx);
  if (act === "open") return reportStatusView(ctx, arg ?? "");
  if (act === "older") return reportStatusView(ctx, arg ?? "", false, Math.max(0, Number(parts[3]) || 0));
  if (act === "add" || act === "answer") return addInfoPrompt(ctx, arg ?? "");
  if (act === "stopcontact") return stopContactAsk(ctx, arg ?? "");
  if (act === "stopyes") return stopContact(ctx, arg ?? "");
  if (act === "resumecontact") return resumeContactAsk(ctx, arg ?? "");

  const d = await rd.reports.getDraft(ctx.address);
  if (act === "restart") {
    await rd.reports.deleteDraft(ctx.address);
    return ctx.session.limitsShown ? beginDraft(ctx) : limitsView(ctx);
  }
  if (!d) return menuView(ctx, t("report.expired"));
  if (act === "resume") return stepView(ctx, d);

  let next: Draft = d;
  let lead: OutMessage[] | undefined;
  switch (act) {
    case "about":
      if (!ABOUT.includes(arg as never)) return stepView(ctx, d);
      next = advance({ ...d, about: arg as Draft["about"] });
      break;
    case "kind": {
      const k = arg as Draft["kinds"][number];
      if (!REPORT_KINDS.includes(k)) return stepView(ctx, d);
      next = { ...d, kinds: d.kinds.includes(k) ? d.kinds.filter((x) => x !== k) : [...d.kinds, k] };
      break;
    }
    case "kinds":
      if (!d.kinds.length) return stepView(ctx, d, [text(t("report.pickOne"))]);
      next = advance(d);
      break;
    case "danger":
      next = advance({ ...d, urgent: arg === "yes" });
      // Danger now: the emergency numbers first, then the next question (the report is marked urgent).
      if (arg === "yes") lead = dangerView(ctx).messages;
      break;
    case "where":
      if (arg === "skip") next = advance({ ...d, regionId: null });
      else {
        await saveDraft(ctx, d);
        return whereRegionsView(ctx, d, 0);
      }
      break;
    case "wcountry":
      if (arg !== "KZ" && arg !== "KG") return stepView(ctx, d);
      next = { ...d, country: arg };
      await saveDraft(ctx, next);
      return whereRegionsView(ctx, next, 0);
    case "wpage":
      return whereRegionsView(ctx, d, Number(arg) || 0);
    case "wregion": {
      const p = ctx.deps.directory.place(arg ?? "");
      if (!p) return whereRegionsView(ctx, d, 0);
      next = advance({ ...d, regionId: p.id, country: p.country as Country });
      break;
    }
    case "risk":
      if (arg === "start") next = { ...d, step: "risk", risk: "" };
      else if (arg === "skip") next = advance({ ...d, step: "risk" });
      else {
        const risk = (d.risk ?? "") + (arg === "y" ? "y" : "n");
        next = risk.length >= RISK_QUESTIONS ? advance({ ...d, risk, step: "risk" }) : { ...d, risk };
      }
      if (arg === "skip" && (next.risk ?? "").length < RISK_QUESTIONS) next = { ...next, risk: undefined };
      break;
    case "contact":
      if (!CONTACT.includes(arg as Contact)) return stepView(ctx, d);
      next = advance({ ...d, contact: arg as Contact });
      break;
    case "caseword":
      if (wordRequired(d)) return stepView(ctx, d);
      next = advance({ ...d, caseWord: null });
      break;
    case "photos":
      next = advance(d);
      break;
    case "send":
      return submit(ctx, d);
    default:
      return null;
  }
  await saveDraft(ctx, next);
  return stepView(ctx, next, lead);
}

/** Text typed during the flow. Returns null when the step does not take text. */
export async function reportText(ctx: ReportCtx, raw: string, hasDanger: boolean): Promise<View | null> {
  const { t, rd } = ctx;
  const screen = ctx.session.state?.screen ?? "";
  if (screen.startsWith("report:add:")) return addInfo(ctx, screen.slice("report:add:".length), raw);
  if (screen.startsWith("report:answer:")) {
    // Typed right after reading a staff reply: her answer (issue 14). After a while, ordinary text.
    const [id, shownAt] = screen.slice("report:answer:".length).split("@");
    if (id && rd.now().getTime() - Number(shownAt) <= ANSWER_WINDOW_MINUTES * 60_000) return addInfo(ctx, id, raw);
    return null;
  }
  if (screen.startsWith("report:resumeword:"))
    return resumeContact(ctx, screen.slice("report:resumeword:".length), raw);
  if (screen.startsWith("report:unlock:")) return unlock(ctx, screen.slice("report:unlock:".length), raw);
  if (screen === "report:unlockmine") return unlockMine(ctx, raw.trim());
  if (!screen.startsWith("report:")) return null;
  const d = await rd.reports.getDraft(ctx.address);
  if (!d) return null;
  if (d.step === "text") {
    const body = raw.trim();
    if (!body) return stepView(ctx, d);
    // Nothing is lost: the draft stays as it was, and the person is asked for a shorter text.
    if (body.length > MAX_REPORT_TEXT)
      return stepView(ctx, d, [text(t("report.tooLong", { max: MAX_REPORT_TEXT, count: body.length }))]);
    // Describing what happened often names violence; that marks the report urgent instead of interrupting it.
    const next = advance({ ...d, text: body, urgent: d.urgent || hasDanger });
    await saveDraft(ctx, next);
    return stepView(ctx, next, hasDanger && !d.urgent ? dangerView(ctx).messages : undefined);
  }
  if (d.step === "caseword") {
    const word = raw.trim();
    if (word.length < MIN_CASE_WORD || word.length > 40)
      return stepView(ctx, d, [text(t("report.caseWordBad", { min: MIN_CASE_WORD }))]);
    // A word shaped like a report code would be the first thing someone who saw the code tries.
    if (normalizeCode(word)) return stepView(ctx, d, [text(t("report.caseWordLikeCode"))]);
    const next = advance({ ...d, caseWord: word });
    await saveDraft(ctx, next);
    return stepView(ctx, next);
  }
  if (d.step === "where") {
    const place = ctx.deps.towns.match(raw);
    if (!place) return stepView(ctx, d, [text(t("near.notFound"))]);
    const regionId = place.kind === "city" ? (place.region_id ?? place.id) : place.id;
    const next = advance({ ...d, regionId, country: place.country as Country });
    await saveDraft(ctx, next);
    return stepView(ctx, next);
  }
  // Words of danger in the middle of the form: the emergency block, then the same question to continue (S11).
  return stepView(ctx, d, hasDanger ? dangerView(ctx).messages : [text(t("report.useButtons"))]);
}

export async function reportLocation(ctx: ReportCtx, lat: number, lon: number): Promise<View | null> {
  if (ctx.session.state?.screen !== "report:where") return null;
  const d = await ctx.rd.reports.getDraft(ctx.address);
  if (!d || d.step !== "where") return null;
  const near = ctx.deps.directory.nearestPlace(lat, lon);
  const place = near && near.km <= 400 ? near.place : null;
  const regionId = place ? (place.kind === "city" ? (place.region_id ?? place.id) : place.id) : null;
  const next = advance({ ...d, regionId, country: (place?.country as Country | undefined) ?? d.country ?? null });
  await saveDraft(ctx, next);
  return stepView(ctx, next);
}
