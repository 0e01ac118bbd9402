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
import type { StaffActor } from "../reports/staff.ts";
import type { OutboxPayload } from "../reports/types.ts";
import type { Prompt } from "./store.ts";
import { needsSecondPerson, CHECK_EVERY_DAYS, ENTRY_STATUSES, visibleEntries, type Entry } from "./search.ts";
import { createDeskViews } from "./views.ts";
import { STATUS_ACTIONS, TYPED, dotted, parseSource, CHECKS_PER_ROUND } from "./parse.ts";
import type { DirResult, DirectoryDeskDeps } from "./view-types.ts";

export type { DirButton, DirResult, DirView, DirectoryDeskDeps } from "./view-types.ts";
export { SERVICE_CODES, CHECKS_PER_ROUND, parsePhones, parseServices, parseSource } from "./parse.ts";

export function createDirectoryDesk(deps: DirectoryDeskDeps) {
  const { store, directory } = deps;
  const views = createDeskViews(deps);
  const {
    t,
    statusLabel,
    shown,
    today,
    mayEdit,
    outOfScope,
    list,
    card,
    history,
    ask,
    parseValue,
    confirmView,
    checkView,
  } = views;

  /** Reads the stored entries again and hands the visible ones to every reader. */
  async function reload(): Promise<void> {
    directory.replace(visibleEntries(await store.all(), deps.now()));
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
