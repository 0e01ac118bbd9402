/**
 * The report wizard, channel-neutral: the limits of erasing, then one step a screen, a review, and
 * the commit. Cancellable at every step; answers are kept in a sealed draft (24 h, R7); the report
 * is committed with its outbox rows before the person is told it was received (R1).
 */
import crypto from "node:crypto";
import { pickerRegions, placeName } from "../directory/search.ts";
import { newReportCode } from "../safety/sealer.ts";
import type { Option, OutMessage } from "../types.ts";
import { COUNTRIES } from "../types.ts";
import { text, type FlowCtx, type View } from "../flows/context.ts";
import { numbersOf } from "../flows/lines.ts";
import { menuView } from "../flows/start.ts";
import { PAGE_SIZE } from "../flows/near.ts";
import { ABOUT, CONTACT, REPORT_KINDS, type Draft, type ReportRecord } from "./types.ts";
import {
  MAX_PHOTOS,
  MAX_VOICES,
  MAX_REPORT_TEXT,
  MIN_CASE_WORD,
  RISK_QUESTIONS,
  type ReportCtx,
  cancel,
  isHighRisk,
  regionLabel,
  saveDraft,
  wordRequired,
} from "./context.ts";

/**
 * A chat that already sent its reports for the day is told so kindly, with the lines to call now: a
 * flood of junk reports must not bury a real one (issue 14). Null when it may send another.
 */
export async function capView(ctx: ReportCtx): Promise<View | null> {
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

/** Menu entry and /report. The limits of erasing come first, once per chat (S4). */
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

export function limitsView(ctx: ReportCtx, go = "r:go"): View {
  const { t } = ctx;
  return {
    messages: [text(t("report.limits", { exit: t("common.exitButton") }))],
    options: [{ id: go, label: t("report.understood") }, cancel(t)],
    columns: 1,
    state: { screen: "report:limits" },
  };
}

export async function beginDraft(ctx: ReportCtx): Promise<View> {
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
          // Before the first voice note: a voice can be recognised, and who will hear it (issue 26).
          messages: [
            text(
              `${t("report.askText", { max: MAX_REPORT_TEXT })}\n\n${t("report.voiceNote", { voices: MAX_VOICES })}`,
            ),
          ],
          options: [cancel(t)],
          state: { screen: "report:text" },
        };
      case "photos":
        return {
          messages: [text(t("report.askPhotos", { max: MAX_PHOTOS, voices: MAX_VOICES }))],
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

export function reviewView(ctx: ReportCtx, d: Draft): View {
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
    ...(d.voices?.length ? [t("report.reviewVoices", { count: d.voices.length })] : []),
    "",
    `${t("report.reviewText")}:`,
    d.text ?? "—",
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
export function advance(d: Draft): Draft {
  const order =
    d.request === "callback"
      ? ["about", "contact", "caseword", "review"]
      : ["about", "kinds", "danger", "where", "text", "photos", "riskAsk", "contact", "caseword", "review"];
  // The danger questions ("risk") are one step of the order, however many are answered.
  let i = order.indexOf(d.step === "risk" ? "riskAsk" : d.step) + 1;
  if (order[i] === "riskAsk" && d.about !== "self") i++;
  return { ...d, step: order[i] ?? "review" };
}

export function whereRegionsView(ctx: ReportCtx, d: Draft, page: number): View {
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

export async function submit(ctx: ReportCtx, d: Draft): Promise<View> {
  const { t, rd } = ctx;
  const story = d.request !== "callback";
  // A story is typed or spoken: a voice note stands for the text (issue 26).
  const told = !!d.text || !!d.voices?.length;
  if (!d.about || (story && !told) || (story && !d.kinds.length) || !d.contact || (wordRequired(d) && !d.caseWord))
    return stepView(ctx, {
      ...d,
      step: !d.about
        ? "about"
        : story && !d.kinds.length
          ? "kinds"
          : story && !told
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
        voices: d.voices ?? [],
        contact: d.contact,
        caseWord: d.caseWord ?? null,
        staffChatId,
        request: d.request ?? null,
      },
      ctx.address,
      [
        { dedupeKey: `card:${id}`, target: `staff:${staffChatId}`, payload: { type: "card", reportId: id } },
        // Photos and voice notes follow their card, each as a photo or a voice, never a forward (P2).
        ...(d.photos ?? []).map((ref, i, all) => ({
          dedupeKey: `photo:${id}:${i}`,
          target: `staff:${staffChatId}`,
          payload: { type: "to_staff_photo" as const, reportId: id, ref, index: i + 1, count: all.length },
        })),
        ...(d.voices ?? []).map((v, i, all) => ({
          dedupeKey: `voice:${id}:${i}`,
          target: `staff:${staffChatId}`,
          payload: {
            type: "to_staff_voice" as const,
            reportId: id,
            ref: v.ref,
            seconds: v.seconds,
            index: i + 1,
            count: all.length,
          },
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

export function confirmView(t: FlowCtx["t"], r: ReportRecord): View {
  const next = r.contact === "none" ? t("report.nextNoContact") : t("report.nextContact");
  return {
    messages: [
      text(t("report.received", { code: r.code }) + "\n\n" + next + (r.urgent ? `\n\n${t("report.urgentNote")}` : "")),
    ],
    state: { screen: "menu" },
  };
}
