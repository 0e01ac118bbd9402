/**
 * What the directory desk shows staff: entry lists and cards, history, the question for a typed
 * value and its parsing, the confirmation card of a new phone, and the check card. Read-only; the
 * desk (desk.ts) acts.
 */
import type { T } from "../i18n.ts";
import type { StaffActor } from "../reports/staff.ts";
import type { ChangeRecord } from "./store.ts";
import { formatEntry, townOf } from "../flows/near.ts";
import { localDay, placeName, visibleEntries, type Entry, type EntryStatus } from "./search.ts";
import type { DirView, DirResult, DirectoryDeskDeps } from "./view-types.ts";
import { dotted, norm, parsePhones, parseServices, SERVICE_CODES, LIST_MAX } from "./parse.ts";

export function createDeskViews(deps: DirectoryDeskDeps) {
  const { store, directory } = deps;
  const t: T = deps.translator.fixed(deps.staffLocale);
  const locale = deps.staffLocale;

  const where = (e: Entry) => townOf(directory, e, locale) ?? t(`country.${e.country}`);
  const statusLabel = (s: EntryStatus | undefined) => t(`staff.dir.status.${s ?? "open"}`);
  const who = (c: ChangeRecord) => c.byName ?? (c.by.startsWith("file:") ? c.by.slice(5) : c.by);
  const show = (v: unknown) =>
    Array.isArray(v) ? (v.length ? v.join(", ") : "—") : v === null || v === undefined || v === "" ? "—" : String(v);
  /** A field's value as staff read it: statuses and services named in the staff language. */
  const shown = (field: string, v: unknown) =>
    field === "status"
      ? statusLabel(v as EntryStatus)
      : field === "services" && Array.isArray(v)
        ? show(v.map((s) => t(`services.${s}`)))
        : show(v);
  const today = (chatId: number) => localDay(deps.now(), deps.zoneOf(chatId));
  /**
   * A change's source is stored in one fixed form ("called on 2026-12-05", "link: …", "file: …") so
   * that exports and history read the same in any language; staff read it in theirs.
   */
  const sourceText = (source: string): string => {
    const called = /^called on (\d{4}-\d{2}-\d{2})$/.exec(source);
    if (called) return t("staff.dir.source.called", { date: dotted(called[1]!) });
    const checked = /^checked in chat on (\d{4}-\d{2}-\d{2})$/.exec(source);
    if (checked) return t("staff.dir.source.checked", { date: dotted(checked[1]!) });
    if (source.startsWith("link: ")) return t("staff.dir.source.link", { url: source.slice(6) });
    if (source.startsWith("file: ")) return t("staff.dir.source.file", { name: source.slice(6) });
    return source;
  };
  /** Supervisors and the directory group edit any entry; a region's group, its region's entries. */
  const mayEdit = (e: Entry, actor: StaffActor, chatId: number) => {
    if (actor.supervisor) return true;
    const scope = deps.scopeOf(chatId);
    return scope === "all" || (!!e.region_id && scope.includes(e.region_id));
  };
  const outOfScope = async (e: Entry, actor: StaffActor): Promise<DirResult> => {
    await deps.audit(`staff:${actor.id}`, "denied", `directory edit ${e.id}: another region`);
    return { kind: "answer", answer: t("staff.dir.ans.notYourRegion") };
  };

  function matches(e: Entry, q: string): boolean {
    const p = e.city_id ? directory.place(e.city_id) : undefined;
    const r = e.region_id ? directory.place(e.region_id) : undefined;
    const hay = [
      e.id,
      e.name_ru,
      e.name_local,
      e.city_ru,
      e.city_local,
      p?.name_ru,
      p?.name_local,
      p?.name_latin,
      r?.name_ru,
      r?.name_local,
      r?.name_latin,
    ]
      .filter(Boolean)
      .map((s) => norm(s!));
    return q.split(" ").every((w) => hay.some((h) => h.includes(w)));
  }

  /** `/centers [region or town]`: the services that match, as buttons; without a query, the regions with their counts. */
  async function list(query: string): Promise<DirView> {
    const all = (await store.all()).filter(
      (e) => (e.country === "KZ" || e.country === "KG") && e.entry_type !== "emergency_number",
    );
    const q = norm(query);
    if (!q) {
      const counts = new Map<string, number>();
      for (const e of all) {
        const key = e.region_id
          ? placeName(directory.place(e.region_id)!, locale)
          : t("staff.dir.national", { country: t(`country.${e.country}`) });
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      const lines = [...counts].sort((a, b) => a[0].localeCompare(b[0], locale)).map(([k, n]) => `${k}: ${n}`);
      return {
        text: [t("staff.dir.listTitle", { count: all.length }), ...lines, "", t("staff.dir.usage")].join("\n"),
        buttons: [],
      };
    }
    const found = all.filter((e) => matches(e, q));
    if (!found.length) return { text: t("staff.dir.nothing", { query }), buttons: [] };
    const shown = found.slice(0, LIST_MAX);
    const lines = [
      t("staff.dir.found", { count: found.length, query }),
      ...(found.length > LIST_MAX ? [t("staff.dir.tooMany", { n: LIST_MAX })] : []),
    ];
    return {
      text: lines.join("\n"),
      buttons: shown.map((e) => [
        {
          label: `${e.status === "closed" ? "✕ " : e.phones.length ? "☎ " : ""}${e.name_ru} · ${where(e)}`.slice(0, 60),
          action: "e",
          arg: e.id,
        },
      ]),
    };
  }

  /** The entry as survivors see it, then what staff need: status, checks, pending phones, signals. */
  async function card(id: string): Promise<DirView | null> {
    const e = await store.get(id);
    if (!e) return null;
    const [visible] = visibleEntries([e], deps.now());
    const lines = [t("staff.dir.cardTitle", { id: e.id })];
    lines.push(visible ? formatEntry(visible, null, 1, t, locale, directory) : t("staff.dir.hidden"));
    lines.push("", t("staff.dir.statusLine", { status: statusLabel(e.status) }));
    lines.push(e.checked_at ? t("staff.dir.checkedLine", { date: dotted(e.checked_at) }) : t("staff.dir.neverChecked"));
    const hiddenPhones = e.phones.filter((p) => !visible?.phones.some((v) => v.as_published === p.as_published));
    if (hiddenPhones.length)
      lines.push(t("staff.dir.phonesHidden", { phones: hiddenPhones.map((p) => p.as_published).join(", ") }));
    for (const c of await store.pendingOf(id))
      lines.push(
        t("staff.dir.pendingLine", {
          field: t(`staff.dir.field.${c.field}`),
          value: shown(c.field, c.after),
          by: who(c),
        }),
      );
    const b = (label: string, action: string) => ({ label: t(label), action, arg: id });
    return {
      text: lines.join("\n"),
      buttons: [
        [b("staff.dir.btn.phone", "ph"), b("staff.dir.btn.hours", "hr")],
        [b("staff.dir.btn.address", "ad"), b("staff.dir.btn.services", "sv")],
        [b("staff.dir.btn.status", "st"), b("staff.dir.btn.verified", "ok")],
        [b("staff.dir.btn.history", "hi")],
      ],
    };
  }

  async function history(id: string, chatId: number): Promise<DirView> {
    const e = await store.get(id);
    const list = await store.history(id, 15);
    const lines = [t("staff.dir.historyTitle", { name: e?.name_ru ?? id })];
    for (const c of list) {
      const state = c.state === "applied" ? "" : ` (${t(`staff.dir.state.${c.state}`)})`;
      const what =
        c.field === "verified"
          ? t("staff.dir.field.verified")
          : c.field === "seed" || c.field === "new"
            ? t(`staff.dir.field.${c.field}`)
            : `${t(`staff.dir.field.${c.field}`)}: ${shown(c.field, c.before)} → ${shown(c.field, c.after)}`;
      lines.push(
        `${dotted(localDay(c.at, deps.zoneOf(chatId)))} · ${who(c)} · ${what}${state}\n   ${t("staff.dir.sourceLine", { source: sourceText(c.source) })}`,
      );
    }
    if (!list.length) lines.push(t("staff.dir.noHistory"));
    return { text: lines.join("\n"), buttons: [] };
  }

  /** The question for a typed field, with the current value. */
  function ask(e: Entry, field: "phones" | "hours" | "address" | "services"): string {
    const now =
      field === "phones"
        ? show(e.phones.map((p) => p.as_published))
        : field === "hours"
          ? show(e.hours_text)
          : field === "address"
            ? show(e.address)
            : show(e.services.map((s) => t(`services.${s}`)));
    return t(`staff.dir.ask.${field}`, {
      name: e.name_ru,
      now,
      list: SERVICE_CODES.map((s) => t(`services.${s}`)).join(", "),
    });
  }

  /** A typed value, checked; `null` clears the field ("-"). */
  function parseValue(e: Entry, field: string, text: string): { value: unknown } | { error: string } {
    const s = text.trim();
    const clear = s === "-" || s === "—";
    if (field === "phones") {
      if (clear) return { value: [] };
      const phones = parsePhones(s, { country: e.country, had: e.phones.map((p) => p.as_published) });
      return "bad" in phones ? { error: t("staff.dir.bad.phone", { value: phones.bad }) } : { value: phones.phones };
    }
    if (field === "hours" || field === "address") {
      if (clear) return { value: null };
      if (s.length < 2 || s.length > (field === "hours" ? 80 : 200)) return { error: t(`staff.dir.bad.${field}`) };
      return { value: s };
    }
    if (field === "services") {
      const codes = parseServices(s, deps.translator);
      if ("unknown" in codes)
        return {
          error: t("staff.dir.bad.services", {
            value: codes.unknown,
            list: SERVICE_CODES.map((c) => t(`services.${c}`)).join(", "),
          }),
        };
      return { value: codes.codes };
    }
    return { error: t("staff.dir.bad.source") };
  }

  /** The card asking a supervisor to confirm a new phone. */
  async function confirmView(changeId: number, deciderName?: string): Promise<DirView | null> {
    const c = await store.changeById(changeId);
    if (!c) return null;
    const e = await store.get(c.entryId);
    const head = t("staff.dir.confirmText", {
      name: e?.name_ru ?? c.entryId,
      where: e ? where(e) : "",
      field: t(`staff.dir.field.${c.field}`),
      before: shown(c.field, c.before),
      after: shown(c.field, c.after),
      source: sourceText(c.source),
      by: who(c),
    });
    if (c.state !== "pending")
      return {
        text: `${head}\n\n${c.state === "applied" ? t("staff.dir.confirmed", { by: deciderName ?? c.decidedBy ?? "" }) : t("staff.dir.rejected")}`,
        buttons: [],
      };
    return {
      text: head,
      buttons: [
        [
          { label: t("staff.dir.btn.confirm"), action: "cf", arg: String(c.id) },
          { label: t("staff.dir.btn.reject"), action: "rj", arg: String(c.id) },
        ],
      ],
    };
  }

  /** The verification card of a due entry (D3): still right, changed, closed. */
  async function checkView(entryId: string, signals = 0): Promise<DirView | null> {
    const e = await store.get(entryId);
    if (!e || e.status === "closed") return null;
    const [visible] = visibleEntries([e], deps.now());
    const since = e.checked_at
      ? t("staff.dir.checkedLine", { date: dotted(e.checked_at) })
      : t("staff.dir.neverChecked");
    return {
      text: [
        t("staff.dir.checkTitle"),
        visible ? formatEntry(visible, null, 1, t, locale, directory) : e.name_ru,
        "",
        since,
        ...(signals ? [t("staff.dir.signals", { count: signals })] : []),
      ].join("\n"),
      buttons: [
        [{ label: t("staff.dir.btn.stillRight"), action: "ok", arg: entryId }],
        [
          { label: t("staff.dir.btn.changed"), action: "e", arg: entryId },
          { label: t("staff.dir.btn.closed"), action: "sc", arg: entryId },
        ],
      ],
    };
  }

  return {
    t,
    locale,
    where,
    statusLabel,
    who,
    show,
    shown,
    today,
    sourceText,
    mayEdit,
    outOfScope,
    matches,
    list,
    card,
    history,
    ask,
    parseValue,
    confirmView,
    checkView,
  };
}
