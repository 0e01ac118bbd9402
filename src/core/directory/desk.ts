/**
 * The directory desk (issue 16): what staff see and do when they keep the
 * crisis-center directory true in chat, channel-neutral. `/centers [place]`
 * lists services; a card shows what survivors see, with buttons for phone,
 * hours, address, services, status, "checked today" and history. Every change
 * asks for its source ("called today", a date, or a link) and is recorded with
 * its author. A change that gives or takes away a way to reach a service (a
 * number, hours, address, closed or moved) waits for a supervisor other than
 * its author; a region's group edits only that region's entries.
 *
 * The Telegram adapter (src/channels/telegram/directory.ts) turns these views
 * into messages and buttons; it owns nothing of the rules.
 */
import type { Locale } from "../../config.ts";
import type { T, Translator } from "../i18n.ts";
import type { StaffActor } from "../reports/staff.ts";
import type { OutboxPayload } from "../reports/types.ts";
import type { ChangeRecord, DirectoryStore, Prompt } from "./store.ts";
import { formatEntry, townOf } from "../flows/near.ts";
import { parsePhoneNumberFromString, type CountryCode } from "libphonenumber-js/max";
import {
  localDay,
  needsSecondPerson,
  CHECK_EVERY_DAYS,
  ENTRY_STATUSES,
  isoDay as day,
  PHONE_FORMAT,
  phoneDigits,
  placeName,
  visibleEntries,
  type Directory,
  type Entry,
  type EntryStatus,
} from "./search.ts";

export interface DirButton {
  label: string;
  action: string;
  arg: string;
}
export interface DirView {
  text: string;
  buttons: DirButton[][];
}
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
const TYPED: Record<string, "phones" | "hours" | "address" | "services"> = {
  ph: "phones",
  hr: "hours",
  ad: "address",
  sv: "services",
};
const STATUS_ACTIONS: Record<string, EntryStatus> = { so: "open", sm: "moved", sc: "closed", su: "unknown" };
/** Services staff may name; what survivors see is `services.<code>` in their language. */
export const SERVICE_CODES = [
  "psychological",
  "social",
  "legal",
  "shelter",
  "children",
  "medical",
  "referral",
  "hotline",
  "text_chat",
];
/** Every code the data uses; the national lines' (emergency, police…) are not offered to staff but read back from a spreadsheet. */
const KNOWN_SERVICE_CODES = [...SERVICE_CODES, "emergency", "police", "police_investigation", "ambulance", "fire"];
const LIST_MAX = 20;
/** How many due entries one verification round posts to a group. */
export const CHECKS_PER_ROUND = 5;

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

/** "2026-12-05" as staff write it: "05.12.2026". */
const dotted = (iso: string) => iso.split("-").reverse().join(".");

const norm = (s: string) =>
  s
    .toLowerCase()
    .replace(/ё/g, "е")
    .replace(/[^\p{L}\p{N}]+/gu, " ")
    .trim();

/**
 * A source as staff give it: a link, or the day they called ("28.11", "28.11.2026", "2026-11-28").
 * `today` is the staff group's own day (YYYY-MM-DD in its time zone), so "today" at 00:30 in
 * Bishkek is not refused as a day in the future.
 */
export function parseSource(text: string, today: string): { source: string } | { error: "source" | "future" } {
  const todayAt = new Date(`${today}T00:00:00Z`);
  const s = text.trim();
  const url = /https?:\/\/\S+/i.exec(s);
  if (url) return { source: `link: ${url[0]}` };
  let y: number, m: number, d: number;
  const iso = /(\d{4})-(\d{2})-(\d{2})/.exec(s);
  const dm = /(\d{1,2})[./](\d{1,2})(?:[./](\d{2,4}))?/.exec(s);
  if (iso) [y, m, d] = [Number(iso[1]), Number(iso[2]), Number(iso[3])];
  else if (dm) {
    d = Number(dm[1]);
    m = Number(dm[2]);
    y = dm[3] ? Number(dm[3].length === 2 ? `20${dm[3]}` : dm[3]) : todayAt.getUTCFullYear();
  } else return { error: "source" };
  const at = new Date(Date.UTC(y, m - 1, d));
  if (at.getUTCMonth() !== m - 1 || at.getUTCDate() !== d) return { error: "source" };
  if (at.getTime() > todayAt.getTime()) return { error: "future" };
  return { source: `called on ${day(at)}` };
}

/**
 * Up to four phones, separated by commas, semicolons or lines; the first that is not a number is
 * refused. A number is one that the phone-number library (its full metadata) holds valid for
 * Kazakhstan or Kyrgyzstan, written with +7, +996 or the national prefix, or a short line of 3–4
 * digits (111, 150, 1966); a number the entry already had is kept as it is, so a spreadsheet
 * exported and imported unchanged changes nothing.
 */
export function parsePhones(
  s: string,
  opts: { country?: string; had?: string[] } = {},
): { phones: string[] } | { bad: string } {
  const parts = s
    .split(/[,;\n]+/)
    .map((p) => p.trim())
    .filter(Boolean);
  const had = new Set((opts.had ?? []).map(phoneDigits));
  const ok = (p: string) =>
    PHONE_FORMAT.test(p) &&
    (had.has(phoneDigits(p)) || /^\d{3,4}$/.test(p.replace(/\D/g, "")) || isCountryNumber(p, opts.country));
  const bad = parts.find((p) => !ok(p));
  if (bad !== undefined || parts.length > 4) return { bad: (bad ?? s).slice(0, 40) };
  return { phones: parts };
}

function isCountryNumber(p: string, country?: string): boolean {
  const regions: CountryCode[] = country === "KG" ? ["KG", "KZ"] : ["KZ", "KG"];
  return regions.some((r) => {
    const n = parsePhoneNumberFromString(p, r);
    return !!n?.isValid() && (n.country === "KZ" || n.country === "KG");
  });
}

/** Services named by code or in any of the three languages; the first part that is none of them is refused. */
export function parseServices(s: string, translator: Translator): { codes: string[] } | { unknown: string } {
  const names = KNOWN_SERVICE_CODES.map((c) => ({ c, names: [c, ...translator.all(`services.${c}`)].map(norm) }));
  const codes: string[] = [];
  for (const part of s
    .split(/[,;\n]+/)
    .map((p) => p.trim())
    .filter(Boolean)) {
    const w = norm(part);
    // An exact code or name first: "police_investigation" is not "police".
    const hit =
      names.find((n) => n.names.includes(w)) ??
      names.find((n) => n.names.some((x) => (w.length >= 4 && x.startsWith(w)) || (x.length >= 4 && w.startsWith(x))));
    if (!hit) return { unknown: part.slice(0, 40) };
    if (!codes.includes(hit.c)) codes.push(hit.c);
  }
  return codes.length ? { codes } : { unknown: s.slice(0, 40) };
}

export function createDirectoryDesk(deps: DirectoryDeskDeps) {
  const { store, directory } = deps;
  const t: T = deps.translator.fixed(deps.staffLocale);
  const locale = deps.staffLocale;

  /** Reads the stored entries again and hands the visible ones to every reader. */
  async function reload(): Promise<void> {
    directory.replace(visibleEntries(await store.all(), deps.now()));
  }

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

  async function sourceStep(
    p: { chatId: number; userId: number; entryId: string; field: string; value: unknown },
    e: Entry,
  ): Promise<DirResult> {
    const id = await store.savePrompt({ ...p, messageId: null }, deps.now());
    const value = shown(p.field, p.value);
    // Told at once when the change will wait for a supervisor.
    const waits = needsSecondPerson(e, p.field, p.value) ? `\n${t("staff.dir.needsConfirm")}` : "";
    return {
      kind: "source",
      answer: "",
      promptId: id,
      view: {
        text: t("staff.dir.askSource", { name: e.name_ru, field: t(`staff.dir.field.${p.field}`), value }) + waits,
        buttons: [
          [{ label: t("staff.dir.btn.calledToday", { date: dotted(today(p.chatId)) }), action: "cs", arg: String(id) }],
          [{ label: t("staff.dir.btn.cancel"), action: "cx", arg: String(id) }],
        ],
      },
    };
  }

  /** Applies a change with its source; a phone that adds a number goes to a supervisor instead. */
  async function commit(p: Prompt, source: string, actor: StaffActor, chatId: number): Promise<DirResult> {
    await store.dropPrompt(p.id);
    const at = deps.now();
    const field = p.field as "phones" | "hours" | "address" | "services" | "status";
    const c = await store.change(
      { entryId: p.entryId, field, after: p.value, source, by: `staff:${actor.id}`, byName: actor.name },
      at,
    );
    if (!c) return { kind: "answer", answer: t("staff.ans.outdated") };
    await deps.audit(`staff:${actor.id}`, "directory_change", `${p.entryId} ${field} ${c.state}`);
    if (c.state === "pending") {
      await deps.enqueue([
        {
          dedupeKey: `dir_confirm:${c.id}`,
          target: `staff:${chatId}`,
          payload: { type: "directory", what: "confirm", id: String(c.id) },
        },
      ]);
      await store.markPosted(c.id, at);
      const name = (await store.get(p.entryId))?.name_ru ?? p.entryId;
      return {
        kind: "send",
        answer: t("staff.dir.ans.pending"),
        view: { text: t("staff.dir.pendingNote", { name, field: t(`staff.dir.field.${field}`) }), buttons: [] },
      };
    }
    await reload();
    const view = await card(p.entryId);
    return view
      ? { kind: "send", answer: t("staff.dir.ans.saved"), view }
      : { kind: "answer", answer: t("staff.dir.ans.saved") };
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
    reload,
    list,
    card,
    confirmView,
    checkView,
    /** Whether a press needs the roster (approved) or only membership (looking). */
    needsApproval: (action: string) => !["e", "hi"].includes(action),

    async press(action: string, arg: string, actor: StaffActor, chatId: number): Promise<DirResult> {
      if (action === "e") {
        const v = await card(arg);
        return v ? { kind: "send", answer: "", view: v } : { kind: "answer", answer: t("staff.ans.outdated") };
      }
      if (action === "hi") return { kind: "send", answer: "", view: await history(arg, chatId) };
      if (action === "cf" || action === "rj") {
        if (!actor.supervisor) {
          await deps.audit(
            `staff:${actor.id}`,
            "denied",
            `directory ${action === "cf" ? "confirm" : "reject"}: not a supervisor`,
          );
          return { kind: "answer", answer: t("staff.ans.notSupervisor") };
        }
        const res = await store.decide(Number(arg), action === "cf", `staff:${actor.id}`, deps.now());
        if (res === "self") {
          await deps.audit(`staff:${actor.id}`, "denied", "directory confirm: own change");
          return { kind: "answer", answer: t("staff.dir.ans.notOwn") };
        }
        if (res === "gone") return { kind: "answer", answer: t("staff.ans.outdated") };
        await deps.audit(
          `staff:${actor.id}`,
          action === "cf" ? "directory_confirm" : "directory_reject",
          `${res.entryId} ${res.field}`,
        );
        if (action === "cf") await reload();
        const v = await confirmView(res.id, actor.name);
        return {
          kind: "edit",
          answer: t(action === "cf" ? "staff.dir.ans.confirmed" : "staff.dir.ans.rejected"),
          view: v!,
        };
      }
      if (action === "cs" || action === "cx") {
        const p = await store.prompt({ id: Number(arg) }, deps.now());
        if (!p) return { kind: "answer", answer: t("staff.ans.outdated") };
        if (p.userId !== actor.id) return { kind: "answer", answer: t("staff.dir.ans.notYourEdit") };
        if (action === "cx") {
          await store.dropPrompt(p.id);
          return {
            kind: "edit",
            answer: t("staff.dir.ans.cancelled"),
            view: { text: t("staff.dir.cancelled"), buttons: [] },
          };
        }
        return commit(p, `called on ${today(chatId)}`, actor, chatId);
      }
      const e = await store.get(arg);
      if (!e) return { kind: "answer", answer: t("staff.ans.outdated") };
      if (!mayEdit(e, actor, chatId)) return outOfScope(e, actor);
      if (action === "ok") {
        await store.change(
          {
            entryId: e.id,
            field: "verified",
            after: null,
            source: `checked in chat on ${today(chatId)}`,
            by: `staff:${actor.id}`,
            byName: actor.name,
          },
          deps.now(),
        );
        await deps.audit(`staff:${actor.id}`, "directory_verified", e.id);
        await reload();
        const v = await card(e.id);
        return { kind: "edit", answer: t("staff.dir.ans.verified"), view: v! };
      }
      if (action === "st") {
        return {
          kind: "send",
          answer: "",
          view: {
            text: t("staff.dir.askStatus", { name: e.name_ru, status: statusLabel(e.status) }),
            buttons: [
              ENTRY_STATUSES.map((s) => ({
                label: statusLabel(s),
                action: Object.keys(STATUS_ACTIONS).find((k) => STATUS_ACTIONS[k] === s)!,
                arg: e.id,
              })),
            ],
          },
        };
      }
      if (STATUS_ACTIONS[action])
        return sourceStep(
          { chatId, userId: actor.id, entryId: e.id, field: "status", value: STATUS_ACTIONS[action] },
          e,
        );
      const field = TYPED[action];
      if (field) return { kind: "ask", answer: "", text: ask(e, field), prompt: { entryId: e.id, field } };
      return { kind: "answer", answer: t("staff.ans.notAllowed") };
    },

    /** A typed reply to one of the desk's questions: the value (then its source is asked), or the source (then it is saved). */
    async input(p: Prompt, text: string, actor: StaffActor, chatId: number): Promise<DirResult> {
      if (p.userId !== actor.id) return { kind: "answer", answer: t("staff.dir.ans.notYourEdit") };
      const e = await store.get(p.entryId);
      if (!e) return { kind: "answer", answer: t("staff.ans.outdated") };
      if (!mayEdit(e, actor, chatId)) return outOfScope(e, actor);
      if (p.value === null) {
        const v = parseValue(e, p.field, text);
        if ("error" in v) return { kind: "answer", answer: v.error };
        await store.dropPrompt(p.id);
        return sourceStep({ chatId, userId: actor.id, entryId: e.id, field: p.field, value: v.value }, e);
      }
      const s = parseSource(text, today(chatId));
      if ("error" in s)
        return { kind: "answer", answer: t(s.error === "future" ? "staff.dir.bad.future" : "staff.dir.bad.source") };
      return commit(p, s.source, actor, chatId);
    },

    /**
     * The weekly verification round (D3): per staff chat, the due entries of its regions, a few at a
     * time, the ones survivors said did not work first. Returns how many cards were queued.
     */
    async checkRound(): Promise<number> {
      const at = deps.now();
      const due = await store.due(new Date(at.getTime() - CHECK_EVERY_DAYS * 86_400_000), at);
      const perChat = new Map<number, number>();
      const week = `${at.getUTCFullYear()}-${Math.floor((at.getTime() / 86_400_000 + 3) / 7)}`;
      const items: Array<{ dedupeKey: string; target: string; payload: OutboxPayload }> = [];
      for (const d of due) {
        const chat = deps.chatFor(d.entry.region_id);
        if (chat === null) continue;
        const n = perChat.get(chat) ?? 0;
        if (n >= CHECKS_PER_ROUND) continue;
        perChat.set(chat, n + 1);
        items.push({
          dedupeKey: `dir_check:${d.entry.id}:${week}`,
          target: `staff:${chat}`,
          payload: { type: "directory", what: "check", id: d.entry.id, signals: d.signals },
        });
      }
      if (items.length) await deps.enqueue(items);
      return items.length;
    },

    /** Confirmation cards not yet posted (an import's, or ones lost to a restart): to the entry's chat. */
    async postPending(): Promise<number> {
      const list = await store.unposted();
      for (const c of list) {
        const e = await store.get(c.entryId);
        const chat = deps.chatFor(e?.region_id ?? null);
        if (chat === null) continue;
        await deps.enqueue([
          {
            dedupeKey: `dir_confirm:${c.id}`,
            target: `staff:${chat}`,
            payload: { type: "directory", what: "confirm", id: String(c.id) },
          },
        ]);
        await store.markPosted(c.id, deps.now());
      }
      return list.length;
    },
  };
}

export type DirectoryDesk = ReturnType<typeof createDirectoryDesk>;
