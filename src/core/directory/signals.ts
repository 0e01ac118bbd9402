/**
 * What a person can tell the directory's keepers without telling them anything about herself: "a
 * number did not work", and "ask them to write to me" where a service publishes no phone.
 */
import { entryName, type Entry } from "./search.ts";
import type { Country } from "../types.ts";
import { menuOption, text, type View } from "../flows/context.ts";
import { numbersOf } from "../flows/lines.ts";
import { menuView } from "../flows/start.ts";
import { RESULTS_PER_PAGE } from "../flows/near.ts";
import { type Draft } from "../reports/types.ts";
import { type ReportCtx, saveDraft } from "../reports/context.ts";
import { capView, limitsView, startReport, stepView } from "../reports/draft.ts";

/** The numbers on the results screen just shown, and the national trust lines: the ones a person may have tried. */
export function numbersShown(ctx: ReportCtx): Entry[] {
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
export function numbersView(ctx: ReportCtx): View {
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

export async function numberFailed(ctx: ReportCtx, entryId: string): Promise<View> {
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

export async function beginCallback(ctx: ReportCtx, regionId: string | null): Promise<View> {
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
