/**
 * The report flow, channel-neutral. Cancellable at every step; answers are
 * kept in a sealed draft (24 h, R7); the report is committed with its
 * outbox rows before the person is told it was received (R1).
 */
import crypto from "node:crypto";
import { crashPoint } from "../../crash-points.ts";
import type { Locale } from "../../config.ts";
import { entryName, pickerRegions, placeName, type Entry } from "../directory/search.ts";
import { newReportCode, normalizeCode } from "../safety/sealer.ts";
import type { Address, ChannelName, Country, Option, OutMessage } from "../types.ts";
import { COUNTRIES } from "../types.ts";
import { menuOption, text, type FlowCtx, type View } from "../flows/context.ts";
import { dangerView, numbersOf } from "../flows/lines.ts";
import { menuView } from "../flows/start.ts";
import { PAGE_SIZE, RESULTS_PER_PAGE } from "../flows/near.ts";
import {
  ABOUT,
  CONTACT,
  REPORT_KINDS,
  type Contact,
  type Draft,
  type ReportRecord,
  type ReportStore,
} from "./types.ts";

export const MAX_REPORT_TEXT = 2000;
export const RISK_QUESTIONS = 5;
/** A case word is at least this long, and required whenever staff may contact the reporter (decision 10). */
export const MIN_CASE_WORD = 5;
export const MAX_PHOTOS = 5;
/** How long a shown staff reply stays in the chat (S8). */
export const SHOWN_REPLY_MINUTES = 30;

export interface ReportDeps {
  reports: ReportStore;
  /** Staff chat for a region (the committee's), else the admin chat; null when reports are not set up. */
  staffChatFor(regionId: string | null): number | null;
  /** Tries to deliver these outbox rows now (bounded), so the confirmation follows the commit at once. */
  deliverNow(dedupeKeys: string[]): Promise<void>;
  caseWordAfterHours: number;
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

const cancel = (t: FlowCtx["t"]): Option => ({ id: "r:cancel", label: t("report.cancel") });

async function saveDraft(ctx: ReportCtx, d: Draft) {
  await ctx.rd.reports.saveDraft(ctx.address, d, ctx.rd.now());
  if (d.step === "danger") crashPoint("after_draft_step");
}

/** Menu entry and /report. The limits of erasing come first, once per chat (S4). */
/**
 * A chat that already sent its reports for the day is told so kindly, with the lines to call now: a
 * flood of junk reports must not bury a real one (issue 14). Null when it may send another.
 */
async function capView(ctx: ReportCtx): Promise<View | null> {
  const n = await ctx.rd.reports.sentFrom(ctx.address, new Date(ctx.rd.now().getTime() - 24 * 3600_000));
  if (n < ctx.rd.reportsPerDay) return null;
  const d = ctx.deps.directory;
  const countries = ctx.session.country ? [ctx.session.country] : COUNTRIES;
  const lines = [
    ...new Set(
      countries.flatMap((c) => [...numbersOf(d, c, "emergency").slice(0, 2), ...numbersOf(d, c, "trust").slice(0, 1)]),
    ),
  ];
  await ctx.rd.reports.audit(
    { actor: "reporter", action: "submit", reportId: null, result: "daily cap" },
    ctx.rd.now(),
  );
  return menuView(ctx, ctx.t("report.capReached", { n, lines: lines.join(", ") }));
}

export async function startReport(ctx: ReportCtx): Promise<View> {
  if (ctx.rd.staffChatFor(null) === null) return menuView(ctx, ctx.t("report.unavailable"));
  const capped = await capView(ctx);
  if (capped) return capped;
  const existing = await ctx.rd.reports.getDraft(ctx.address);
  if (existing && existing.step !== "about") {
    return {
      messages: [text(ctx.t("report.resumeAsk"))],
      options: [
        { id: "r:resume", label: ctx.t("report.resume") },
        { id: "r:restart", label: ctx.t("report.restart") },
        cancel(ctx.t),
      ],
      columns: 1,
      state: { screen: "report:resume" },
    };
  }
  if (!ctx.session.limitsShown) return limitsView(ctx);
  return beginDraft(ctx);
}

/** The numbers on the results screen just shown, and the national trust lines: the ones a person may have tried. */
function numbersShown(ctx: ReportCtx): Entry[] {
  const d = ctx.deps.directory;
  const st = ctx.session.state;
  const shown = (st?.results ?? [])
    .slice(st?.offset ?? 0, (st?.offset ?? 0) + RESULTS_PER_PAGE)
    .map((id) => d.byId(id));
  const country = ctx.session.country ?? (shown[0]?.country as Country | undefined) ?? "KZ";
  const all = [...shown, ...d.lines(country, "trust")].filter((e): e is Entry => !!e && e.phones.length > 0);
  return [...new Map(all.map((e) => [e.id, e])).values()];
}

/** "A number did not work" (issue 16): which one? Nothing about the person is asked or passed on. */
function numbersView(ctx: ReportCtx): View {
  const { t } = ctx;
  const entries = numbersShown(ctx);
  if (!entries.length || !ctx.rd.directoryChat) return menuView(ctx);
  return {
    messages: [text(t("near.numberWhich"))],
    options: [
      ...entries.map((e) => ({
        id: `r:sig:${e.id}`,
        label: `${e.phones.map((p) => p.as_published).join(", ")} · ${entryName(e, ctx.locale)}`.slice(0, 60),
      })),
      menuOption(t),
    ],
    columns: 1,
    state: { screen: "report:numbers" },
  };
}

async function numberFailed(ctx: ReportCtx, entryId: string): Promise<View> {
  const { t, rd } = ctx;
  const e = ctx.deps.directory.byId(entryId);
  const chat = rd.directoryChat;
  if (!e || !e.phones.length || !chat) return menuView(ctx);
  const at = rd.now();
  const name = entryName(e, rd.staffLocale ?? "ru");
  const phones = e.phones.map((p) => p.as_published).join(", ");
  await rd.reports.noteSignal(e.id, at, (n) => [
    // Content-free: which entry, when (the notice's time), how often; nothing about who.
    {
      dedupeKey: `signal:${e.id}:${Math.floor(at.getTime() / 3600_000)}`,
      target: `staff:${chat}`,
      payload: { type: "notice", key: "staff.notice.numberFailed", vars: { name, phones, n } },
    },
  ]);
  rd.kick?.();
  const c = (e.country === "KG" ? "KG" : "KZ") as Country;
  return menuView(
    ctx,
    t("near.numberThanks", { lines: numbersOf(ctx.deps.directory, c, "emergency").slice(0, 2).join(", ") }),
  );
}

/**
 * "Ask them to write to me" (issue 16): where the nearest service publishes no phone, a short,
 * anonymous request into that region's staff queue, answered through the same relay as a report.
 * Who it is for, when it is safe to write, a case word: no story.
 */
export async function startCallback(ctx: ReportCtx, regionId: string): Promise<View> {
  const region = regionId ? ctx.deps.directory.place(regionId) : undefined;
  if (ctx.rd.staffChatFor(region?.id ?? null) === null) return menuView(ctx, ctx.t("report.unavailable"));
  const capped = await capView(ctx);
  if (capped) return capped;
  const existing = await ctx.rd.reports.getDraft(ctx.address);
  if (existing && existing.step !== "about") return startReport(ctx); // a report being written: resume or restart it first
  if (!ctx.session.limitsShown) return limitsView(ctx, `r:gocb:${region?.id ?? ""}`);
  return beginCallback(ctx, region?.id ?? null);
}

async function beginCallback(ctx: ReportCtx, regionId: string | null): Promise<View> {
  const region = regionId ? ctx.deps.directory.place(regionId) : undefined;
  const d: Draft = {
    step: "about",
    kinds: [],
    request: "callback",
    regionId: region?.id ?? null,
    country: (region?.country as Country | undefined) ?? ctx.session.country,
  };
  await saveDraft(ctx, d);
  return stepView(ctx, d);
}

function limitsView(ctx: ReportCtx, go = "r:go"): View {
  const { t } = ctx;
  return {
    messages: [text(t("report.limits", { exit: t("common.exitButton") }))],
    options: [{ id: go, label: t("report.understood") }, cancel(t)],
    columns: 1,
    state: { screen: "report:limits" },
  };
}

async function beginDraft(ctx: ReportCtx): Promise<View> {
  const d: Draft = { step: "about", kinds: [], country: ctx.session.country };
  await saveDraft(ctx, d);
  return stepView(ctx, d);
}

/** The screen for the draft's current step. */
export function stepView(ctx: ReportCtx, d: Draft, lead?: OutMessage[]): View {
  const { t } = ctx;
  const v = ((): View => {
    switch (d.step) {
      case "about":
        return {
          messages:
            d.request === "callback"
              ? [text(`${t("report.callbackIntro")}\n\n${t("report.askAbout")}`)]
              : [text(t("report.askAbout"))],
          options: [...ABOUT.map((a) => ({ id: `r:about:${a}`, label: t(`report.about.${a}`) })), cancel(t)],
          columns: 1,
          state: { screen: "report:about" },
        };
      case "kinds":
        return {
          messages: [text(t("report.askKinds"))],
          options: [
            ...REPORT_KINDS.filter((k) => k !== "neglect" || d.about === "child").map((k) => ({
              id: `r:kind:${k}`,
              label: `${d.kinds.includes(k) ? "✅" : "▫️"} ${t(`report.kind.${k}`)}`,
            })),
            { id: "r:kinds:done", label: t("report.done") },
            cancel(t),
          ],
          columns: 1,
          state: { screen: "report:kinds" },
        };
      case "danger":
        return {
          messages: [text(t("report.askDanger"))],
          options: [
            { id: "r:danger:yes", label: t("report.yes") },
            { id: "r:danger:no", label: t("report.no") },
            cancel(t),
          ],
          columns: 2,
          state: { screen: "report:danger" },
        };
      case "where":
        return {
          messages: [text(t("report.askWhere", { button: t("near.locationButton") }))],
          askLocation: true,
          options: [
            { id: "r:where:pick", label: t("near.chooseRegionButton") },
            { id: "r:where:skip", label: t("report.skip") },
            cancel(t),
          ],
          columns: 1,
          state: { screen: "report:where" },
        };
      case "text":
        return {
          messages: [text(t("report.askText", { max: MAX_REPORT_TEXT }))],
          options: [cancel(t)],
          state: { screen: "report:text" },
        };
      case "photos":
        return {
          messages: [text(t("report.askPhotos", { max: MAX_PHOTOS }))],
          options: [{ id: "r:photos:done", label: t("report.photosDone") }, cancel(t)],
          columns: 1,
          state: { screen: "report:photos" },
        };
      case "riskAsk":
        return {
          messages: [text(t("report.riskIntro"))],
          options: [
            { id: "r:risk:start", label: t("report.riskStart") },
            { id: "r:risk:skip", label: t("report.skip") },
            cancel(t),
          ],
          columns: 1,
          state: { screen: "report:riskAsk" },
        };
      case "risk": {
        const n = (d.risk ?? "").length;
        return {
          messages: [text(`${n + 1}/${RISK_QUESTIONS}. ${t(`report.risk.q${n + 1}`)}`)],
          options: [
            { id: "r:risk:y", label: t("report.yes") },
            { id: "r:risk:n", label: t("report.no") },
            { id: "r:risk:skip", label: t("report.skipRest") },
          ],
          columns: 2,
          state: { screen: "report:risk" },
        };
      }
      case "contact":
        return {
          // A request to be written to has no "do not contact me".
          messages: [text(t(d.request === "callback" ? "report.askContactCallback" : "report.askContact"))],
          options: [
            ...CONTACT.filter((c) => d.request !== "callback" || c !== "none").map((c) => ({
              id: `r:contact:${c}`,
              label: t(`report.contact.${c}`),
            })),
            cancel(t),
          ],
          columns: 1,
          state: { screen: "report:contact" },
        };
      case "caseword":
        // Whoever may get staff replies in this chat must be able to lock them away (decision 10).
        return wordRequired(d)
          ? {
              messages: [text(t("report.askCaseWordRequired", { min: MIN_CASE_WORD }))],
              options: [cancel(t)],
              columns: 1,
              state: { screen: "report:caseword" },
            }
          : {
              messages: [text(t("report.askCaseWord", { min: MIN_CASE_WORD }))],
              options: [{ id: "r:caseword:skip", label: t("report.skip") }, cancel(t)],
              columns: 1,
              state: { screen: "report:caseword" },
            };
      default:
        return reviewView(ctx, d);
    }
  })();
  return lead?.length ? { ...v, messages: [...lead, ...v.messages] } : v;
}

const wordRequired = (d: Draft) => !!d.contact && d.contact !== "none";

function regionLabel(ctx: FlowCtx, regionId: string | null | undefined): string {
  const p = regionId ? ctx.deps.directory.place(regionId) : undefined;
  return p ? placeName(p, ctx.locale) : ctx.t("report.notGiven");
}

function reviewView(ctx: ReportCtx, d: Draft): View {
  const { t } = ctx;
  if (d.request === "callback") {
    const lines = [
      t("report.callbackReviewTitle"),
      "",
      `${t("report.reviewAbout")}: ${d.about ? t(`report.about.${d.about}`) : "—"}`,
      `${t("report.reviewWhere")}: ${regionLabel(ctx, d.regionId)}`,
      `${t("report.reviewContact")}: ${t(`report.contact.${d.contact ?? "any"}`)}`,
      `${t("report.reviewCaseWord")}: ${d.caseWord ? t("report.caseWordSet") : t("report.notGiven")}`,
    ];
    return {
      messages: [text(lines.join("\n"))],
      options: [{ id: "r:send", label: t("report.callbackSend") }, cancel(t)],
      columns: 1,
      protect: true,
      state: { screen: "report:review" },
    };
  }
  const lines = [
    t("report.reviewTitle"),
    "",
    `${t("report.reviewAbout")}: ${d.about ? t(`report.about.${d.about}`) : "—"}`,
    `${t("report.reviewKinds")}: ${d.kinds.map((k) => t(`report.kind.${k}`)).join(", ") || "—"}`,
    `${t("report.reviewUrgent")}: ${d.urgent ? t("report.yes") : t("report.no")}`,
    `${t("report.reviewWhere")}: ${regionLabel(ctx, d.regionId)}`,
    `${t("report.reviewContact")}: ${t(`report.contact.${d.contact ?? "none"}`)}`,
    `${t("report.reviewCaseWord")}: ${d.caseWord ? t("report.caseWordSet") : t("report.notGiven")}`,
    ...(d.photos?.length ? [`${t("report.reviewPhotos")}: ${d.photos.length}`] : []),
    "",
    `${t("report.reviewText")}:`,
    d.text ?? "",
  ];
  return {
    messages: [text(lines.join("\n"))],
    options: [{ id: "r:send", label: t("report.send") }, cancel(t)],
    columns: 1,
    protect: true,
    state: { screen: "report:review" },
  };
}

/** The step after the current one, given the answers so far and where the person is. */
function advance(d: Draft, channel: ChannelName): Draft {
  const order =
    d.request === "callback"
      ? ["about", "contact", "caseword", "review"]
      : ["about", "kinds", "danger", "where", "text", "photos", "riskAsk", "contact", "caseword", "review"];
  // The danger questions ("risk") are one step of the order, however many are answered.
  let i = order.indexOf(d.step === "risk" ? "riskAsk" : d.step) + 1;
  // Photos are offered only where they are relayed with their metadata stripped: Telegram's photos.
  if (order[i] === "photos" && channel !== "telegram") i++;
  if (order[i] === "riskAsk" && d.about !== "self") i++;
  return { ...d, step: order[i] ?? "review" };
}

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
      next = advance({ ...d, about: arg as Draft["about"] }, ctx.channel);
      break;
    case "kind": {
      const k = arg as Draft["kinds"][number];
      if (!REPORT_KINDS.includes(k)) return stepView(ctx, d);
      next = { ...d, kinds: d.kinds.includes(k) ? d.kinds.filter((x) => x !== k) : [...d.kinds, k] };
      break;
    }
    case "kinds":
      if (!d.kinds.length) return stepView(ctx, d, [text(t("report.pickOne"))]);
      next = advance(d, ctx.channel);
      break;
    case "danger":
      next = advance({ ...d, urgent: arg === "yes" }, ctx.channel);
      // Danger now: the emergency numbers first, then the next question (the report is marked urgent).
      if (arg === "yes") lead = dangerView(ctx).messages;
      break;
    case "where":
      if (arg === "skip") next = advance({ ...d, regionId: null }, ctx.channel);
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
      next = advance({ ...d, regionId: p.id, country: p.country as Country }, ctx.channel);
      break;
    }
    case "risk":
      if (arg === "start") next = { ...d, step: "risk", risk: "" };
      else if (arg === "skip") next = advance({ ...d, step: "risk" }, ctx.channel);
      else {
        const risk = (d.risk ?? "") + (arg === "y" ? "y" : "n");
        next = risk.length >= RISK_QUESTIONS ? advance({ ...d, risk, step: "risk" }, ctx.channel) : { ...d, risk };
      }
      if (arg === "skip" && (next.risk ?? "").length < RISK_QUESTIONS) next = { ...next, risk: undefined };
      break;
    case "contact":
      if (!CONTACT.includes(arg as Contact)) return stepView(ctx, d);
      next = advance({ ...d, contact: arg as Contact }, ctx.channel);
      break;
    case "caseword":
      if (wordRequired(d)) return stepView(ctx, d);
      next = advance({ ...d, caseWord: null }, ctx.channel);
      break;
    case "photos":
      next = advance(d, ctx.channel);
      break;
    case "send":
      return submit(ctx, d);
    default:
      return null;
  }
  await saveDraft(ctx, next);
  return stepView(ctx, next, lead);
}

function whereRegionsView(ctx: ReportCtx, d: Draft, page: number): View {
  const { t, deps } = ctx;
  const country = d.country ?? ctx.session.country;
  if (!country) {
    return {
      messages: [text(t("near.chooseCountry"))],
      options: [...COUNTRIES.map((c) => ({ id: `r:wcountry:${c}`, label: t(`country.${c}`) })), cancel(t)],
      columns: 2,
      state: { screen: "report:where" },
    };
  }
  const all = pickerRegions(deps.directory, country, ctx.locale);
  const pages = Math.ceil(all.length / PAGE_SIZE);
  const p = Math.min(Math.max(0, page), pages - 1);
  const options: Option[] = all
    .slice(p * PAGE_SIZE, (p + 1) * PAGE_SIZE)
    .map((r) => ({ id: `r:wregion:${r.id}`, label: placeName(r, ctx.locale) }));
  if (p > 0) options.push({ id: `r:wpage:${p - 1}`, label: t("common.prev") });
  if (p < pages - 1) options.push({ id: `r:wpage:${p + 1}`, label: t("common.next") });
  options.push({ id: "r:where:skip", label: t("report.skip") }, cancel(t));
  return {
    messages: [text(t("near.chooseRegion", { page: p + 1, pages }))],
    options,
    columns: 2,
    state: { screen: "report:where" },
  };
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
    const next = advance({ ...d, text: body, urgent: d.urgent || hasDanger }, ctx.channel);
    await saveDraft(ctx, next);
    return stepView(ctx, next, hasDanger && !d.urgent ? dangerView(ctx).messages : undefined);
  }
  if (d.step === "caseword") {
    const word = raw.trim();
    if (word.length < MIN_CASE_WORD || word.length > 40)
      return stepView(ctx, d, [text(t("report.caseWordBad", { min: MIN_CASE_WORD }))]);
    // A word shaped like a report code would be the first thing someone who saw the code tries.
    if (normalizeCode(word)) return stepView(ctx, d, [text(t("report.caseWordLikeCode"))]);
    const next = advance({ ...d, caseWord: word }, ctx.channel);
    await saveDraft(ctx, next);
    return stepView(ctx, next);
  }
  if (d.step === "where") {
    const place = ctx.deps.towns.match(raw);
    if (!place) return stepView(ctx, d, [text(t("near.notFound"))]);
    const regionId = place.kind === "city" ? (place.region_id ?? place.id) : place.id;
    const next = advance({ ...d, regionId, country: place.country as Country }, ctx.channel);
    await saveDraft(ctx, next);
    return stepView(ctx, next);
  }
  // Words of danger in the middle of the form: the emergency block, then the same question to continue (S11).
  return stepView(ctx, d, hasDanger ? dangerView(ctx).messages : [text(t("report.useButtons"))]);
}

/** A photo, voice note or sticker sent inside the flow: say what is accepted, keep the place (C#3). */
export async function reportMedia(
  ctx: ReportCtx,
  media: { media: string; ref?: string; image?: boolean },
): Promise<View | null> {
  if (!ctx.session.state?.screen.startsWith("report:")) return null;
  const { t } = ctx;
  const d = await ctx.rd.reports.getDraft(ctx.address);
  if (!d) return null;
  if (d.step === "photos" || d.step === "text") {
    // A picture sent as a file keeps its EXIF data, GPS included: it is not taken (P3).
    if (media.media === "document" && media.image) return stepView(ctx, d, [text(t("report.photoAsFile"))]);
    if (media.media === "photo" && media.ref) {
      const photos = d.photos ?? [];
      if (photos.length >= MAX_PHOTOS) return stepView(ctx, d, [text(t("report.photoLimit", { max: MAX_PHOTOS }))]);
      const next = { ...d, photos: [...photos, media.ref] };
      await saveDraft(ctx, next);
      return stepView(ctx, next, [text(t("report.photoAdded", { count: next.photos.length, max: MAX_PHOTOS }))]);
    }
  }
  return stepView(ctx, d, [text(t("report.textOnly"))]);
}

export async function reportLocation(ctx: ReportCtx, lat: number, lon: number): Promise<View | null> {
  if (ctx.session.state?.screen !== "report:where") return null;
  const d = await ctx.rd.reports.getDraft(ctx.address);
  if (!d || d.step !== "where") return null;
  const near = ctx.deps.directory.nearestPlace(lat, lon);
  const place = near && near.km <= 400 ? near.place : null;
  const regionId = place ? (place.kind === "city" ? (place.region_id ?? place.id) : place.id) : null;
  const next = advance(
    { ...d, regionId, country: (place?.country as Country | undefined) ?? d.country ?? null },
    ctx.channel,
  );
  await saveDraft(ctx, next);
  return stepView(ctx, next);
}

async function submit(ctx: ReportCtx, d: Draft): Promise<View> {
  const { t, rd } = ctx;
  const story = d.request !== "callback";
  if (!d.about || (story && !d.text) || (story && !d.kinds.length) || !d.contact || (wordRequired(d) && !d.caseWord))
    return stepView(ctx, {
      ...d,
      step: !d.about
        ? "about"
        : story && !d.kinds.length
          ? "kinds"
          : story && !d.text
            ? "text"
            : !d.contact
              ? "contact"
              : "caseword",
    });
  const staffChatId = rd.staffChatFor(d.regionId ?? null);
  if (staffChatId === null) return menuView(ctx, t("report.unavailable"));
  // Checked again at the end: a draft begun before the day's last report was sent.
  const capped = await capView(ctx);
  if (capped) return capped;
  const risk = d.risk && d.risk.length === RISK_QUESTIONS ? d.risk : null;
  const id = crypto.randomBytes(12).toString("base64url");
  const now = rd.now();
  const confirmKey = `confirm:${id}`;
  try {
    await rd.reports.submit(
      {
        id,
        code: newReportCode(),
        channel: ctx.address.split(":")[0] as ReportRecord["channel"],
        locale: ctx.locale,
        country: d.country ?? ctx.session.country,
        regionId: d.regionId ?? null,
        about: d.about,
        kinds: d.kinds,
        urgent: !!d.urgent,
        highRisk: isHighRisk(risk),
        riskAnswers: risk,
        text: d.text ?? "",
        photos: d.photos ?? [],
        contact: d.contact,
        caseWord: d.caseWord ?? null,
        staffChatId,
        request: d.request ?? null,
      },
      ctx.address,
      [
        { dedupeKey: `card:${id}`, target: `staff:${staffChatId}`, payload: { type: "card", reportId: id } },
        // Photos follow their card, each as a photo (Telegram already stripped their metadata).
        ...(d.photos ?? []).map((ref, i, all) => ({
          dedupeKey: `photo:${id}:${i}`,
          target: `staff:${staffChatId}`,
          payload: { type: "to_staff_photo" as const, reportId: id, ref, index: i + 1, count: all.length },
        })),
        { dedupeKey: confirmKey, target: `relay:${id}`, payload: { type: "confirm", reportId: id } },
      ],
      now,
    );
  } catch {
    // Busy, locked or full: not saved, and never said to be (D2). The draft is still there.
    return {
      messages: [text(t("report.notSaved"))],
      options: [{ id: "r:send", label: t("report.sendAgain") }, cancel(t)],
      columns: 1,
      state: { screen: "report:review" },
    };
  }
  await rd.deliverNow([confirmKey]);
  return menuView(ctx);
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

export function confirmView(t: FlowCtx["t"], r: ReportRecord): View {
  const next = r.contact === "none" ? t("report.nextNoContact") : t("report.nextContact");
  return {
    messages: [
      text(t("report.received", { code: r.code }) + "\n\n" + next + (r.urgent ? `\n\n${t("report.urgentNote")}` : "")),
    ],
    state: { screen: "menu" },
  };
}

/**
 * "My reports": the reports whose relay points to this chat. Those a quick exit or auto-erase
 * locked are not listed, not even by code, until a case word is typed (decision 10).
 */
async function myReportsView(ctx: ReportCtx): Promise<View> {
  const { t } = ctx;
  const mine = await ctx.rd.reports.ofAddress(ctx.address);
  const open: ReportRecord[] = [];
  let locked = 0;
  for (const r of mine) (await ctx.rd.reports.relayInfo(r.id))?.lockedAt ? locked++ : open.push(r);
  if (!open.length && !locked) return menuView(ctx, t("report.noneYet"));
  if (!open.length)
    return {
      messages: [text(t("report.mineLocked"))],
      options: [menuOption(t)],
      state: { screen: "report:unlockmine" },
    };
  return {
    messages: [text(locked ? `${t("report.mineTitle")}\n\n${t("report.mineSomeLocked")}` : t("report.mineTitle"))],
    options: [
      ...open
        .slice(0, 8)
        .map((r) => ({ id: `r:open:${r.id}`, label: `${r.code} · ${t(`report.status.${r.status}`)}` })),
      menuOption(t),
    ],
    columns: 1,
    state: { screen: locked ? "report:unlockmine" : "report:mine" },
  };
}

/** Whether this chat is the report's own and not locked by an exit. */
async function openHere(ctx: ReportCtx, reportId: string): Promise<{ sameChat: boolean; locked: boolean }> {
  const sameChat = (await ctx.rd.reports.relayAddress(reportId)) === ctx.address;
  const locked = sameChat && !!(await ctx.rd.reports.relayInfo(reportId))?.lockedAt;
  return { sameChat, locked };
}

/**
 * The case word is asked when the chat was wiped since (quick exit, auto-erase), when the case was
 * last used by its reporter more than CASE_WORD_AFTER_HOURS ago, or from another chat. Only a
 * verified use restarts that clock: a wrong word, or just writing to the bot, does not (S12).
 */
async function needsCaseWord(
  ctx: ReportCtx,
  r: ReportRecord,
  here: { sameChat: boolean; locked: boolean },
): Promise<boolean> {
  if (!r.hasCaseWord) return false;
  if (!here.sameChat || here.locked) return true;
  const relay = await ctx.rd.reports.relayInfo(r.id);
  if (!relay) return true;
  return ctx.rd.now().getTime() - relay.lastInboundAt.getTime() > ctx.rd.caseWordAfterHours * 3600_000;
}

/** How long after a staff reply is shown what the reporter types goes to staff as her answer. */
export const ANSWER_WINDOW_MINUTES = 30;

/** Longest status screen: the newest messages first, older ones on the next page (never cut silently). */
export const STATUS_CHARS = 3500;

/** Status and staff replies of one report, newest first; the case word first after an exit or long silence (S12). */
export async function reportStatusView(ctx: ReportCtx, reportId: string, unlocked = false, from = 0): Promise<View> {
  const { t, rd } = ctx;
  const r = await rd.reports.byId(reportId);
  if (!r) return menuView(ctx, t("report.notFound"));
  const here = await openHere(ctx, r.id);
  if (!unlocked && (await needsCaseWord(ctx, r, here))) {
    return {
      messages: [text(t("report.askCaseWordUnlock"))],
      options: [menuOption(t)],
      state: { screen: `report:unlock:${r.id}` },
    };
  }
  if ((!here.sameChat || here.locked) && !unlocked) {
    // A code typed from another chat, or in a wiped chat, with no case word to prove it: the status only.
    return menuView(ctx, t("report.statusOnly", { code: r.code, status: t(`report.status.${r.status}`) }));
  }
  const msgs = (await rd.reports.messages(r.id)).reverse();
  await rd.reports.markRead(r.id, rd.now());
  if (here.sameChat) await rd.reports.noteVerified(r.id, rd.now());
  const head = t("report.statusLine", { code: r.code, status: t(`report.status.${r.status}`) });
  const lines = [head];
  let length = head.length;
  let shown = 0;
  for (const m of msgs.slice(from)) {
    const block = `\n\n${m.direction === "out" ? t("report.fromStaff") : t("report.fromYou")} · ${formatWhen(m.createdAt, r.country)}:\n${m.body}`;
    // The first message of a page is always shown whole (a message is at most 2,000 characters).
    if (shown && length + block.length > STATUS_CHARS) break;
    lines.push(block);
    length += block.length;
    shown++;
  }
  const older = msgs.length - from - shown;
  if (older > 0) lines.push(`\n\n${t("report.olderLeft", { n: older })}`);
  const showsReply = msgs.some((m) => m.direction === "out");
  // After a staff reply, what she types next is her answer: the screen says so, with a way not to.
  const answering = showsReply && r.contact !== "none" && r.status !== "closed" && here.sameChat;
  if (answering) lines.push(`\n\n${t("report.answerHint")}`);
  const options: Option[] = [];
  if (older > 0) options.push({ id: `r:older:${r.id}:${from + shown}`, label: t("report.olderButton") });
  if (r.status !== "closed" && here.sameChat && !answering)
    options.push({ id: `r:add:${r.id}`, label: t("report.addInfo") });
  if (r.contact !== "none" && r.status !== "closed" && here.sameChat)
    options.push({ id: `r:stopcontact:${r.id}`, label: t("report.stopContact") });
  if (r.contactStopped && r.status !== "closed" && here.sameChat)
    options.push({ id: `r:resumecontact:${r.id}`, label: t("report.resumeContact") });
  options.push(answering ? { id: "menu", label: t("report.answerCancel") } : menuOption(t));
  const screen = answering ? `report:answer:${r.id}@${rd.now().getTime()}` : `report:status:${r.id}`;
  // Staff replies shown on the phone are deleted after 30 minutes (S8).
  return {
    messages: [text(lines.join(""))],
    options,
    columns: 1,
    protect: true,
    expireMinutes: showsReply ? SHOWN_REPLY_MINUTES : undefined,
    state: { screen },
  };
}

/** "30.11 14:05" in the reporter's country time. */
function formatWhen(d: Date, country: Country | null): string {
  const zone = country === "KG" ? "Asia/Bishkek" : "Asia/Almaty";
  return new Intl.DateTimeFormat("ru-RU", {
    timeZone: zone,
    day: "2-digit",
    month: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
  })
    .format(d)
    .replace(",", "");
}

async function unlock(ctx: ReportCtx, reportId: string, word: string): Promise<View> {
  const { t, rd } = ctx;
  const result = await rd.reports.tryCaseWord(reportId, word, rd.now(), ctx.address);
  if (result === "ok") return opened(ctx, reportId);
  await rd.reports.audit({ actor: "reporter", action: "unlock", reportId, result: "denied" }, rd.now());
  // Nothing about the case — not even its code — without the word.
  return menuView(ctx, t(result === "locked" ? "report.caseWordLocked" : "report.caseWordWrong"));
}

/** The right case word was given: audited, the report shown, and in its own chat the lock lifted. */
async function opened(ctx: ReportCtx, reportId: string): Promise<View> {
  const { rd } = ctx;
  await rd.reports.audit({ actor: "reporter", action: "unlock", reportId, result: "ok" }, rd.now());
  const locked = (await openHere(ctx, reportId)).locked;
  // Shown (and so marked read) before the hold is lifted: a knock for what she is reading now is not sent.
  const view = await reportStatusView(ctx, reportId, true);
  if (locked && (await rd.reports.unlockRelay(reportId, rd.now()))) rd.kick?.();
  return view;
}

/** A case word typed at «My reports» when some are locked: it opens the report it belongs to. */
async function unlockMine(ctx: ReportCtx, word: string): Promise<View> {
  const { t, rd } = ctx;
  const mine = await rd.reports.ofAddress(ctx.address);
  let denied: "wrong" | "locked" = "wrong";
  for (const r of mine) {
    if (!r.hasCaseWord || !(await rd.reports.relayInfo(r.id))?.lockedAt) continue;
    const result = await rd.reports.tryCaseWord(r.id, word, rd.now(), ctx.address);
    // Checked once: a second check would run scrypt again and count again.
    if (result === "ok") return opened(ctx, r.id);
    if (result === "locked") denied = "locked";
  }
  await rd.reports.audit({ actor: "reporter", action: "unlock", result: "denied" }, rd.now());
  return menuView(ctx, t(denied === "locked" ? "report.caseWordLocked" : "report.caseWordWrong"));
}

async function addInfoPrompt(ctx: ReportCtx, reportId: string): Promise<View> {
  const r = await ctx.rd.reports.byId(reportId);
  const here = r && (await openHere(ctx, r.id));
  if (!r || !here || r.status === "closed" || !here.sameChat || here.locked)
    return menuView(ctx, ctx.t("report.notFound"));
  return {
    messages: [text(ctx.t("report.askAddInfo", { max: MAX_REPORT_TEXT }))],
    options: [menuOption(ctx.t)],
    state: { screen: `report:add:${r.id}` },
  };
}

async function addInfo(ctx: ReportCtx, reportId: string, raw: string): Promise<View> {
  const { t, rd } = ctx;
  const body = raw.trim();
  if (!body) return addInfoPrompt(ctx, reportId);
  if (body.length > MAX_REPORT_TEXT)
    return {
      ...(await addInfoPrompt(ctx, reportId)),
      messages: [text(t("report.tooLong", { max: MAX_REPORT_TEXT, count: body.length }))],
    };
  const r = await rd.reports.byId(reportId);
  const here = r && (await openHere(ctx, r.id));
  if (!r || !here || r.status === "closed" || !here.sameChat || here.locked) return menuView(ctx, t("report.notFound"));
  await rd.reports.noteVerified(r.id, rd.now());
  await rd.reports.addMessage(
    r.id,
    "in",
    body,
    rd.now(),
    { actor: "reporter", action: "add_info", reportId: r.id, result: "ok" },
    (mid) => [
      {
        dedupeKey: `to_staff:${mid}`,
        target: `staff:${r.staffChatId}`,
        payload: { type: "to_staff", reportId: r.id, messageId: mid },
      },
    ],
  );
  return menuView(ctx, t("report.addedInfo", { code: r.code }));
}

/** «Don't contact me» asks once: it cannot be taken back without the case word. */
async function stopContactAsk(ctx: ReportCtx, reportId: string): Promise<View> {
  const { t, rd } = ctx;
  const r = await rd.reports.byId(reportId);
  const here = r && (await openHere(ctx, r.id));
  if (!r || !here || !here.sameChat || here.locked || r.contact === "none") return menuView(ctx, t("report.notFound"));
  return {
    messages: [text(t("report.stopContactAsk", { code: r.code }))],
    options: [
      { id: `r:stopyes:${r.id}`, label: t("report.stopContactYes") },
      { id: `r:open:${r.id}`, label: t("report.stopContactNo") },
      menuOption(t),
    ],
    columns: 1,
    state: { screen: `report:stopask:${r.id}` },
  };
}

/** Contact stopped by mistake: the case word is asked every time (whoever holds the phone may not be her). */
async function resumeContactAsk(ctx: ReportCtx, reportId: string): Promise<View> {
  const r = await ctx.rd.reports.byId(reportId);
  const here = r && (await openHere(ctx, r.id));
  if (!r || !here || !here.sameChat || here.locked || !r.contactStopped || !r.hasCaseWord)
    return menuView(ctx, ctx.t("report.notFound"));
  return {
    messages: [text(ctx.t("report.askCaseWordResume"))],
    options: [menuOption(ctx.t)],
    state: { screen: `report:resumeword:${r.id}` },
  };
}

async function resumeContact(ctx: ReportCtx, reportId: string, word: string): Promise<View> {
  const { t, rd } = ctx;
  const r = await rd.reports.byId(reportId);
  const here = r && (await openHere(ctx, r.id));
  if (!r || !here || !here.sameChat || here.locked || !r.contactStopped) return menuView(ctx, t("report.notFound"));
  const result = await rd.reports.tryCaseWord(r.id, word, rd.now(), ctx.address);
  if (result !== "ok") {
    await rd.reports.audit(
      { actor: "reporter", action: "contact_resumed", reportId: r.id, result: "denied" },
      rd.now(),
    );
    return menuView(ctx, t(result === "locked" ? "report.caseWordLocked" : "report.caseWordWrong"));
  }
  const at = rd.now();
  await rd.reports.resumeContact(
    r.id,
    at,
    { actor: "reporter", action: "contact_resumed", reportId: r.id, result: "ok" },
    [
      {
        dedupeKey: `notice:contact:${r.id}:${at.getTime()}`,
        target: `staff:${r.staffChatId}`,
        payload: { type: "notice", key: "staff.notice.contactResumed", vars: { code: r.code }, reportId: r.id },
      },
      {
        dedupeKey: `card_edit:${r.id}:${at.getTime()}`,
        target: `staff:${r.staffChatId}`,
        payload: { type: "card_edit", reportId: r.id },
      },
    ],
  );
  rd.kick?.();
  return menuView(ctx, t("report.contactResumed", { code: r.code }));
}

async function stopContact(ctx: ReportCtx, reportId: string): Promise<View> {
  const { t, rd } = ctx;
  const r = await rd.reports.byId(reportId);
  const here = r && (await openHere(ctx, r.id));
  if (!r || !here || !here.sameChat || here.locked) return menuView(ctx, t("report.notFound"));
  await rd.reports.update(
    r.id,
    { status: r.status, from: [r.status] },
    rd.now(),
    { actor: "reporter", action: "contact_withdrawn", reportId: r.id, result: "ok" },
    [
      {
        dedupeKey: `notice:nocontact:${r.id}:${rd.now().getTime()}`,
        target: `staff:${r.staffChatId}`,
        payload: { type: "notice", key: "staff.notice.contactWithdrawn", vars: { code: r.code }, reportId: r.id },
      },
      {
        dedupeKey: `card_edit:${r.id}:${rd.now().getTime()}`,
        target: `staff:${r.staffChatId}`,
        payload: { type: "card_edit", reportId: r.id },
      },
    ],
  );
  await rd.reports.withdrawContact(r.id);
  return menuView(ctx, t("report.contactStopped"));
}

/** A report code typed anywhere ("K7M4-QX2P", "k7m4qx2p"). */
export async function codeTyped(ctx: ReportCtx, raw: string): Promise<View | null> {
  const code = normalizeCode(raw);
  if (!code) return null;
  const r = await ctx.rd.reports.byCode(code);
  if (!r) return null;
  return reportStatusView(ctx, r.id);
}
