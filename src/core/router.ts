/**
 * Where an input goes: commands, a pressed option (by its id's prefix), a location, media, and
 * typed text (an option's number or words, a report step, danger words, a report code, a town).
 * Each branch returns the view of a flow; the dialog shows it.
 */
import { isLocale } from "../config.ts";
import { hasDangerWords } from "./keywords.ts";
import type { SessionRecord } from "./store.ts";
import { normalize } from "./text.ts";
import type { Input } from "./types.ts";
import type { Directory } from "./directory/search.ts";
import type { TownMatcher } from "./directory/towns.ts";
import type { FlowCtx, View } from "./flows/context.ts";
import { cardView, dangerView, linesView } from "./flows/lines.ts";
import {
  locationResultsView,
  moreResultsView,
  nearView,
  placeResultsView,
  regionChosenView,
  regionsView,
  RESULTS_PER_PAGE,
} from "./flows/near.ts";
import { eraseView, safetyTopicView, safetyView, settingsView } from "./flows/safety.ts";
import { countryForLocale, countryView, languageView, menuView, welcomeView } from "./flows/start.ts";
import { reportAct, reportLocation, reportText } from "./reports/act.ts";
import { reportMedia, voiceOutsideView } from "./reports/media.ts";
import type { ReportCtx } from "./reports/context.ts";
import { startReport } from "./reports/draft.ts";
import { codeTyped, reportStatusView } from "./reports/mine.ts";

/** What routing needs of the dialog: the contexts of a session, and the dialog's dependencies. */
/** Longest text a message may hold (Telegram's limit); longer typed text gets a kind reply. */
export const MAX_TEXT = 4096;

export interface Router {
  ctxFor(session: SessionRecord): FlowCtx;
  reportCtx(session: SessionRecord): ReportCtx | null;
  deps: { towns: TownMatcher; directory: Directory; reports?: { sign(value: string): string } };
}

export async function route(r: Router, session: SessionRecord, input: Input): Promise<View> {
  const { ctxFor, reportCtx, deps } = r;
  const ctx = ctxFor(session);
  const { t } = ctx;
  const rctx = reportCtx(session);
  switch (input.type) {
    case "command":
      switch (input.command) {
        case "start":
          return welcomeView(ctx);
        case "report":
          return rctx ? startReport(rctx) : menuView(ctx, t("report.unavailable"));
        case "language":
          return languageView(ctx);
        case "menu":
        case "help":
          return menuView(ctx);
        default:
          return menuView(ctx, t("fallback.unknownCommand"));
      }
    case "option": {
      if (input.token.startsWith("k:")) {
        // A knock's button: a signed report id, valid whatever screen came since.
        const [, id, sig] = input.token.split(":");
        if (rctx && id && sig && deps.reports!.sign(id) === sig) return reportStatusView(rctx, id);
        return menuView(ctx, t("fallback.stale"));
      }
      const [nonce, index] = input.token.split(".");
      const state = session.state;
      const option =
        state && nonce === state.nonce && /^\d{1,2}$/.test(index ?? "") ? state.options[Number(index)] : undefined;
      return option ? act(r, session, option.id) : menuView(ctx, t("fallback.stale"));
    }
    case "location":
      if (!Number.isFinite(input.lat) || !Number.isFinite(input.lon)) return menuView(ctx, t("fallback.text"));
      return (
        (rctx && (await reportLocation(rctx, input.lat, input.lon))) || locationResultsView(ctx, input.lat, input.lon)
      );
    case "media":
      return (
        (rctx && (await reportMedia(rctx, input))) ||
        (input.media === "voice"
          ? voiceOutsideView(ctx, (rctx?.rd.staffChatFor(null) ?? null) !== null)
          : menuView(ctx, t("fallback.media")))
      );
    case "text": {
      const raw = input.text;
      const inReport = !!session.state?.screen.startsWith("report:");
      const danger = hasDangerWords(raw);
      const chosen = resolveOption(session, raw);
      if (chosen) return act(r, session, chosen);
      // In the report flow text is an answer (long texts get their own kind reply there).
      if (rctx && inReport) {
        const v = await reportText(rctx, raw, danger);
        if (v) return v;
      }
      if (raw.length > MAX_TEXT) return menuView(ctx, t("fallback.tooLong"));
      if (danger) return dangerView(ctx);
      if (rctx) {
        const v = await codeTyped(rctx, raw);
        if (v) return v;
      }
      if (raw.length <= 60) {
        const place = deps.towns.match(raw);
        if (place) return placeResultsView(ctx, place);
        if (session.state?.screen.startsWith("near"))
          return { ...nearView(ctx), messages: [{ kind: "text", text: t("near.notFound") }], askLocation: false };
      }
      return menuView(ctx, t("fallback.text"));
    }
  }
}

/** A typed answer to the options last shown: the number (WhatsApp menus) or the label. */
function resolveOption(session: SessionRecord, raw: string): string | null {
  const options = session.state?.options ?? [];
  const s = normalize(raw).replace(/[\u20E3\uFE0F]/g, "");
  if (/^\d{1,2}$/.test(s)) return options[Number(s) - 1]?.id ?? null;
  // The words of an option, without its emoji or punctuation ("Телефоны доверия" for "☎ Телефоны доверия").
  const words = (x: string) =>
    normalize(x)
      .replace(/[^\p{L}\p{N}]+/gu, " ")
      .trim();
  const w = words(raw);
  if (!w) return null;
  const hit = options.find((o) => words(o.label) === w);
  return hit?.id ?? null;
}

async function act(r: Router, session: SessionRecord, id: string): Promise<View> {
  const { ctxFor, reportCtx, deps } = r;
  const [head, arg, arg2] = id.split(":");
  const ctx = ctxFor(session);
  const { t } = ctx;
  const rctx = reportCtx(session);
  if (head === "report") return rctx ? startReport(rctx) : menuView(ctx, t("report.unavailable"));
  if (head === "r")
    return (rctx && (await reportAct(rctx, id))) || menuView(ctx, rctx ? t("fallback.stale") : t("report.unavailable"));
  switch (head) {
    case "menu":
      return menuView(ctx);
    case "danger":
      return dangerView(ctx);
    case "lines":
      return linesView(ctx);
    case "card":
      return cardView(ctx);
    case "near":
      if (arg === "regions") return regionsView(ctx, 0);
      if (arg === "country" && (arg2 === "KZ" || arg2 === "KG")) {
        session.country = arg2;
        return regionsView(ctx, 0);
      }
      return nearView(ctx);
    case "regions":
      return regionsView(ctx, Number(arg) || 0);
    case "region":
      return regionChosenView(ctx, arg ?? "") ?? regionsView(ctx, 0);
    case "town": {
      const place = deps.directory.place(arg ?? "");
      return place ? placeResultsView(ctx, place) : regionsView(ctx, 0);
    }
    case "more": {
      const st = session.state;
      if (!st?.results) return menuView(ctx);
      const offset = (st.offset ?? 0) + RESULTS_PER_PAGE;
      if (offset >= st.results.length) return menuView(ctx, t("near.noMore"));
      return moreResultsView(ctx, st.results, offset, st.title ?? t("near.titleHere"), !!st.fromLocation, st.placeId);
    }
    case "safety":
      return arg === "hide" || arg === "plan" || arg === "take" ? safetyTopicView(ctx, arg) : safetyView(ctx);
    case "settings":
      if (arg === "erase") return eraseView(ctx);
      if (arg === "language") return languageView(ctx);
      if (arg === "country") return countryView(ctx);
      return settingsView(ctx);
    case "erase": {
      const minutes = Number(arg);
      session.autoEraseMinutes = minutes > 0 ? minutes : null;
      return settingsView(ctx, minutes > 0 ? t("settings.eraseSet", { count: minutes }) : t("settings.eraseCleared"));
    }
    case "lang": {
      if (!isLocale(arg)) return languageView(ctx);
      session.locale = arg;
      session.country ??= countryForLocale(arg);
      const next = ctxFor(session);
      const lead = next.t("language.set");
      return session.country
        ? menuView(next, lead)
        : { ...countryView(next), messages: [{ kind: "text", text: `${lead}\n\n${next.t("country.ask")}` }] };
    }
    case "country":
      if (arg === "KZ" || arg === "KG") session.country = arg;
      return menuView(ctx);
    default:
      return menuView(ctx, t("fallback.stale"));
  }
}
