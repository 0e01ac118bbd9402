/**
 * The staff desk: what a card says, which buttons it has, and what each staff
 * action does. Checks the object on every action — the report belongs to this
 * staff chat, the state allows it, and (for refer, close, reply) the person
 * holds the report or supervises (ST1). Membership of the chat is checked by
 * the adapter before it calls in here; whether the person is on the group's
 * staff roster, and a supervisor, comes with the actor (decision 11).
 */
import type { StaffButton, StaffView } from "../staff-view.ts";
import type { Locale } from "../../config.ts";
import type { T, Translator } from "../i18n.ts";
import { entryName, placeName, type Directory, type Entry } from "../directory/search.ts";
import { statsSvg, svgToPng, type ChartData } from "./chart.ts";
import {
  CONTACT_HOURS,
  OUTCOMES,
  type Outcome,
  type OutboxPayload,
  type ReportRecord,
  type ReportStore,
} from "./types.ts";

export interface StaffActor {
  id: number;
  name: string;
  /** Named in STAFF_SUPERVISORS: approves staff, and may act on reports held by others. */
  supervisor: boolean;
  /** On the group's roster (approved by a supervisor), or a supervisor: may act on reports at all. */
  approved: boolean;
}

/** How a card is shown: without the report's text in a group that does not restrict saving content (P4). */
export interface CardOptions {
  withText: boolean;
}

export type DeskButton = StaffButton;
export type DeskView = StaffView;

export type DeskResult =
  | { kind: "answer"; answer: string }
  /** Show this view in place of the card (a submenu), and answer. */
  | { kind: "edit"; answer: string; view: DeskView }
  /** Ask for the reply text (Telegram: a force-reply prompt). */
  | { kind: "prompt"; answer: string; prompt: string };

export interface StaffDeskDeps {
  reports: ReportStore;
  directory: Directory;
  translator: Translator;
  staffLocale: Locale;
  now: () => Date;
  kick: () => void;
  /** Visits per campaign source since then (aggregate counters, issue 17). */
  sources?: (since: Date) => Promise<Record<string, number>>;
  /** The staff's time zone (CRON_TIMEZONE): the chart's days. */
  timeZone?: string;
}

export const TIMEZONE: Record<string, string> = { KZ: "Asia/Almaty", KG: "Asia/Bishkek" };

export function ago(t: T, from: Date, now: Date): string {
  const min = Math.max(0, Math.round((now.getTime() - from.getTime()) / 60_000));
  if (min < 60) return t("staff.ago.minutes", { count: min });
  if (min < 48 * 60) return t("staff.ago.hours", { count: Math.round(min / 60) });
  return t("staff.ago.days", { count: Math.round(min / 1440) });
}

/** Whether a local time is inside the reporter's contact window (S9), and when the next window opens. */
export function contactWindow(r: Pick<ReportRecord, "contact" | "country">, now: Date): { open: boolean; next: Date } {
  if (r.contact === "none") return { open: false, next: now };
  const [from, to] = CONTACT_HOURS[r.contact];
  const tz = TIMEZONE[r.country ?? "KZ"] ?? "Asia/Almaty";
  const hourOf = (d: Date) =>
    Number(new Intl.DateTimeFormat("en-GB", { timeZone: tz, hour: "2-digit", hourCycle: "h23" }).format(d));
  const h = hourOf(now);
  if (h >= from && h < to) return { open: true, next: now };
  // Walk forward hour by hour to the start of the window (at most a day).
  const start = new Date(Math.ceil(now.getTime() / 3600_000) * 3600_000);
  for (let i = 0; i < 25; i++) {
    const d = new Date(start.getTime() + i * 3600_000);
    if (hourOf(d) === from) return { open: false, next: d };
  }
  return { open: false, next: new Date(now.getTime() + 3600_000) };
}

export function createStaffDesk(deps: StaffDeskDeps) {
  const t = deps.translator.fixed(deps.staffLocale);
  const { reports } = deps;

  /** Centers a report can be referred to: those of its region, else of its country. */
  function referTargets(r: ReportRecord): Entry[] {
    const d = deps.directory;
    const lines = new Set(["emergency_number", "hotline"]);
    const ok = (e: Entry) => !lines.has(e.entry_type) && e.scope !== "unknown-city";
    let list = r.regionId
      ? d.entries.filter((e) => ok(e) && (e.region_id === r.regionId || e.city_id === r.regionId))
      : [];
    if (!list.length && r.country) list = d.entries.filter((e) => ok(e) && e.country === r.country).slice(0, 8);
    return list.slice(0, 8);
  }

  function statusText(r: ReportRecord): string {
    const name = r.takenByName ?? "—";
    switch (r.status) {
      case "new":
        return t("staff.status.new");
      case "taken":
        return t("staff.status.taken", { name });
      case "referred": {
        const e = r.referredTo ? deps.directory.byId(r.referredTo) : undefined;
        return t("staff.status.referred", { to: e ? entryName(e, deps.staffLocale) : "—", name });
      }
      case "closed":
        return t("staff.status.closed", { outcome: r.outcome ? t(`staff.outcome.${r.outcome}`) : "—" });
    }
  }

  function cardOf(r: ReportRecord, opts: CardOptions = { withText: true }): DeskView {
    const place = r.regionId ? deps.directory.place(r.regionId) : undefined;
    const lines = [
      ...(r.urgent ? [t("staff.card.urgent")] : []),
      ...(r.highRisk ? [t("staff.card.highRisk")] : []),
      t(r.request === "callback" ? "staff.card.callbackTitle" : "staff.card.title", { code: r.code }),
      t("staff.card.age", { ago: ago(t, r.createdAt, deps.now()) }),
      t("staff.card.about", { about: t(`staff.about.${r.about}`) }),
      ...(r.request === "callback"
        ? []
        : [t("staff.card.kinds", { kinds: r.kinds.map((k) => t(`report.kind.${k}`)).join("; ") })]),
      t("staff.card.where", { where: place ? placeName(place, deps.staffLocale) : t("staff.unknownRegion") }),
      t("staff.card.contact", { contact: t(`staff.contact.${r.contact}`) }),
      ...(r.photos ? [t("staff.card.photos", { count: r.photos })] : []),
      ...(r.voices ? [t("staff.card.voices", { count: r.voices })] : []),
      ...(r.mediaMissing ? [t("staff.card.mediaMissing", { count: r.mediaMissing })] : []),
      // Content-free: too many wrong case words from her chat, or too many tries from others (decision 10).
      ...(r.wordLockedUntil && r.wordLockedUntil > deps.now() ? [t("staff.card.wordLocked")] : []),
      ...(r.othersLimitedUntil && r.othersLimitedUntil > deps.now() ? [t("staff.card.othersLimited")] : []),
      t("staff.card.status", { status: statusText(r) }),
      "",
      // A request to be written to has no story: nothing to withhold.
      ...(r.request === "callback"
        ? [t("staff.card.callbackText")]
        : opts.withText
          ? [
              t("staff.card.text"),
              r.text || (r.text === "" && r.voices ? t("staff.card.spoken") : t("staff.card.textErased")),
            ]
          : [t("staff.card.textWithheld")]),
    ];
    return { text: lines.join("\n"), buttons: buttonsFor(r) };
  }

  function buttonsFor(r: ReportRecord): DeskButton[][] {
    const b = (action: string) => ({ action, label: t(`staff.btn.${action}`) });
    switch (r.status) {
      case "new":
        return [[b("take")]];
      case "taken":
      case "referred":
        return [[b("refer"), b("close")], ...(r.contact !== "none" ? [[b("reply")]] : [])];
      case "closed":
        return [[b("reopen")]];
    }
  }

  const edit = (r: ReportRecord): OutboxPayload => ({ type: "card_edit", reportId: r.id });
  const editKey = (r: ReportRecord) =>
    `card_edit:${r.id}:${deps.now().getTime()}:${Math.random().toString(36).slice(2, 8)}`;
  const queueEdit = (r: ReportRecord) => [
    { dedupeKey: editKey(r), target: `staff:${r.staffChatId}`, payload: edit(r) },
  ];

  const mayHandle = (r: ReportRecord, a: StaffActor) => r.takenBy === a.id || a.supervisor;

  async function denied(reportId: string | null, a: StaffActor, why: string): Promise<DeskResult> {
    await reports.audit({ actor: `staff:${a.id}`, action: "denied", reportId, result: why }, deps.now());
    return { kind: "answer", answer: t("staff.ans.notAllowed") };
  }

  /** The counts of /stats and the chart: reports since `days` ago in these chats, and the campaign sources. */
  async function collect(chatIds: number[], days: number) {
    const since = new Date(deps.now().getTime() - days * 86_400_000);
    const s = await reports.stats(since, chatIds, deps.timeZone);
    const sources = (await deps.sources?.(since)) ?? {};
    const region = (id: string) => {
      const p = deps.directory.place(id);
      return p ? placeName(p, deps.staffLocale) : t("staff.unknownRegion");
    };
    return { s, sources, region };
  }

  return {
    t,
    card: cardOf,
    referTargets,

    /** A button press on a card. `chatId` is where it was pressed. */
    async act(
      reportId: string,
      action: string,
      a: StaffActor,
      chatId: number,
      view: CardOptions = { withText: true },
    ): Promise<DeskResult> {
      const r = await reports.byId(reportId);
      // The right person in the wrong chat is refused like a stranger (ST1).
      if (r && r.staffChatId !== chatId) return denied(reportId, a, "wrong chat");
      // A card whose report is gone (erased under retention, or a card from before a restore).
      if (!r) {
        await reports.audit(
          { actor: `staff:${a.id}`, action: "denied", reportId: null, result: "outdated" },
          deps.now(),
        );
        return { kind: "answer", answer: t("staff.ans.outdated") };
      }
      // Seeing cards is membership; acting is the roster (decision 11).
      if (!a.approved) {
        await reports.audit(
          { actor: `staff:${a.id}`, action: "denied", reportId: r.id, result: "not approved" },
          deps.now(),
        );
        return { kind: "answer", answer: t("staff.ans.notApproved") };
      }
      const card = (x: ReportRecord) => cardOf(x, view);
      const now = deps.now();
      if (action === "take") {
        const res = await reports.take(r.id, a, now, queueEdit(r));
        if (res.ok) {
          deps.kick();
          return { kind: "answer", answer: t("staff.ans.taken", { code: r.code }) };
        }
        if (res.reason === "closed") return { kind: "answer", answer: t("staff.ans.closed") };
        return { kind: "answer", answer: t("staff.ans.alreadyTaken", { name: res.report?.takenByName ?? "—" }) };
      }
      if (action === "back") return { kind: "edit", answer: "", view: card(r) };
      if (action === "reopen") {
        if (r.status !== "closed") return { kind: "edit", answer: "", view: card(r) };
        const res = await reports.update(
          r.id,
          { status: "new", from: ["closed"] },
          now,
          { actor: `staff:${a.id}`, action: "reopen", reportId: r.id, result: "ok" },
          queueEdit(r),
        );
        deps.kick();
        return { kind: "answer", answer: res.ok ? t("staff.ans.done") : t("staff.ans.notAllowed") };
      }
      if (r.status === "closed") return { kind: "answer", answer: t("staff.ans.closed") };
      if (r.status === "new") return { kind: "answer", answer: t("staff.replyNotTaken", { code: r.code }) };
      if (!mayHandle(r, a)) {
        await reports.audit({ actor: `staff:${a.id}`, action: "denied", reportId: r.id, result: "not holder" }, now);
        return { kind: "answer", answer: t("staff.ans.notYours", { name: r.takenByName ?? "—" }) };
      }
      if (action === "refer") {
        const targets = referTargets(r);
        if (!targets.length) return { kind: "answer", answer: t("staff.referNone") };
        return {
          kind: "edit",
          answer: "",
          view: {
            text: `${card(r).text}\n\n${t("staff.referAsk", { code: r.code })}`,
            buttons: [
              ...targets.map((e, i) => [{ action: `rf${i}`, label: entryName(e, deps.staffLocale).slice(0, 60) }]),
              [{ action: "back", label: t("staff.btn.back") }],
            ],
          },
        };
      }
      const rf = /^rf(\d)$/.exec(action);
      if (rf) {
        const target = referTargets(r)[Number(rf[1])];
        if (!target) {
          await reports.audit({ actor: `staff:${a.id}`, action: "denied", reportId: r.id, result: "outdated" }, now);
          return { kind: "answer", answer: t("staff.ans.outdated") };
        }
        const res = await reports.update(
          r.id,
          { status: "referred", referredTo: target.id, from: ["taken", "referred"] },
          now,
          { actor: `staff:${a.id}`, action: "refer", reportId: r.id, result: "ok" },
          queueEdit(r),
        );
        deps.kick();
        return { kind: "answer", answer: res.ok ? t("staff.ans.done") : t("staff.ans.notAllowed") };
      }
      if (action === "close") {
        return {
          kind: "edit",
          answer: "",
          view: {
            text: `${card(r).text}\n\n${t("staff.closeAsk", { code: r.code })}`,
            buttons: [
              ...OUTCOMES.map((o) => [{ action: `co_${o}`, label: t(`staff.outcome.${o}`) }]),
              [{ action: "back", label: t("staff.btn.back") }],
            ],
          },
        };
      }
      if (action.startsWith("co_")) {
        const outcome = action.slice(3) as Outcome;
        if (!OUTCOMES.includes(outcome)) return denied(r.id, a, "bad outcome");
        const res = await reports.update(
          r.id,
          { status: "closed", outcome, from: ["taken", "referred"] },
          now,
          { actor: `staff:${a.id}`, action: "close", reportId: r.id, result: outcome },
          queueEdit(r),
        );
        deps.kick();
        return { kind: "answer", answer: res.ok ? t("staff.ans.done") : t("staff.ans.notAllowed") };
      }
      if (action === "reply") {
        if (r.contact === "none") return { kind: "answer", answer: t("staff.replyNoContact", { code: r.code }) };
        return { kind: "prompt", answer: "", prompt: t("staff.replyPrompt", { code: r.code }) };
      }
      return denied(r.id, a, "unknown action");
    },

    /** A staff message meant for the reporter. Returns what to tell the staff chat. */
    async reply(reportId: string, a: StaffActor, chatId: number, body: string): Promise<string> {
      const r = await reports.byId(reportId);
      if (!r || r.staffChatId !== chatId) {
        await reports.audit(
          { actor: `staff:${a.id}`, action: "denied", reportId: r ? reportId : null, result: "wrong chat" },
          deps.now(),
        );
        return t("staff.ans.notAllowed");
      }
      const refuse = async (why: string, text: string) => {
        await reports.audit({ actor: `staff:${a.id}`, action: "reply", reportId: r.id, result: why }, deps.now());
        return text;
      };
      if (!a.approved) return refuse("not approved", t("staff.ans.notApproved"));
      if (r.status === "closed") return refuse("closed", t("staff.replyClosed", { code: r.code }));
      if (r.status === "new") return refuse("not taken", t("staff.replyNotTaken", { code: r.code }));
      if (!mayHandle(r, a)) return refuse("not holder", t("staff.ans.notYours", { name: r.takenByName ?? "—" }));
      const relay = await reports.relayInfo(r.id);
      if (r.contact === "none" || !relay) return refuse("no contact", t("staff.replyNoContact", { code: r.code }));
      await reports.addMessage(
        r.id,
        "out",
        body,
        deps.now(),
        { actor: `staff:${a.id}`, action: "reply", reportId: r.id, result: "queued" },
        (mid) => [{ dedupeKey: `knock:${mid}`, target: `relay:${r.id}`, payload: { type: "knock", reportId: r.id } }],
      );
      deps.kick();
      if (relay.heldSince) return t("staff.replyHeld", { code: r.code });
      const w = contactWindow(r, deps.now());
      if (!w.open) {
        const [from, to] = CONTACT_HOURS[r.contact];
        return t("staff.replyWindow", { hours: `${from}–${to}` });
      }
      return t("staff.replySent", { code: r.code });
    },

    async queueText(chatIds: number[]): Promise<string> {
      const open = await reports.open(chatIds);
      if (!open.length) return t("staff.queue.empty");
      const now = deps.now();
      return [
        t("staff.queue.title", { count: open.length }),
        ...open.map(
          (r) =>
            `${r.urgent ? "🔴" : r.highRisk ? "⚠" : "•"} ${r.code} · ${statusText(r)} · ${ago(t, r.createdAt, now)}`,
        ),
      ].join("\n");
    },

    async historyText(code: string, chatIds: number[], view: CardOptions = { withText: true }): Promise<string> {
      const r = await reports.byCode(code);
      if (!r || !chatIds.includes(r.staffChatId)) return t("staff.history.notFound", { code });
      if (!view.withText) return [cardOf(r, view).text, "", t("staff.history.withheld")].join("\n");
      const msgs = await reports.messages(r.id);
      return [
        cardOf(r).text,
        ...msgs.flatMap((m) => [
          "",
          `${m.direction === "in" ? t("staff.history.fromReporter") : t("staff.history.fromStaff")} (${ago(t, m.createdAt, deps.now())}):`,
          m.body,
        ]),
      ].join("\n");
    },

    async statsText(chatIds: number[], days = 30): Promise<string> {
      const { s, sources, region } = await collect(chatIds, days);
      const fmt = (o: Record<string, number>, label: (k: string) => string) =>
        Object.entries(o)
          .sort((a, b) => b[1] - a[1])
          .map(([k, v]) => `  ${label(k)}: ${v}`)
          .join("\n");
      return [
        t("staff.stats.title", { days, total: s.total }),
        `${t("staff.stats.byStatus")}:`,
        fmt(s.byStatus, (k) => t(`report.status.${k}`)),
        `${t("staff.stats.byKind")}:`,
        fmt(s.byKind, (k) => t(`report.kind.${k}`)),
        `${t("staff.stats.byRegion")}:`,
        fmt(s.byRegion, region),
        ...(Object.keys(sources).length ? [`${t("staff.stats.sources")}:`, fmt(sources, (k) => k)] : []),
      ].join("\n");
    },

    /** The same counts as one PNG chart (issue 17): per day by urgency, by status, region and source. */
    async statsChart(chatIds: number[], days = 30): Promise<Buffer> {
      const { s, sources, region } = await collect(chatIds, days);
      const dayOf = new Intl.DateTimeFormat("en-CA", {
        timeZone: deps.timeZone ?? "UTC",
        year: "numeric",
        month: "2-digit",
        day: "2-digit",
      });
      const end = deps.now().getTime();
      const list = Array.from({ length: days }, (_, i) => dayOf.format(new Date(end - (days - 1 - i) * 86_400_000)));
      const sorted = (o: Record<string, number>, label: (k: string) => string): Array<[string, number]> =>
        Object.entries(o)
          .sort((a, b) => b[1] - a[1])
          .map(([k, v]) => [label(k), v]);
      const data: ChartData = {
        days: list.map((day) => ({ day, urgent: s.byDay[day]?.urgent ?? 0, other: s.byDay[day]?.other ?? 0 })),
        // Every status, in the order a report goes through them, zeros included.
        byStatus: (["new", "taken", "referred", "closed"] as const).map((k) => [
          t(`report.status.${k}`),
          s.byStatus[k] ?? 0,
        ]),
        byRegion: sorted(s.byRegion, region),
        sources: sorted(sources, (k) => k),
      };
      return svgToPng(statsSvg(data, t, t("staff.stats.title", { days, total: s.total }).split("\n")[0]!));
    },

    /** Text of an outbox notice, in the staff language. */
    notice(key: string, vars: Record<string, string | number> = {}): string {
      return t(key, vars);
    },
  };
}

export type StaffDesk = ReturnType<typeof createStaffDesk>;
