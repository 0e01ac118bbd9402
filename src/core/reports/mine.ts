/**
 * «My reports»: the status of a report and staff replies, the case word that opens a locked one,
 * adding information, and stopping or resuming contact. Reached from the menu or by typing a code.
 */
import { normalizeCode } from "../safety/sealer.ts";
import type { Country, Option } from "../types.ts";
import { menuOption, text, type View } from "../flows/context.ts";
import { menuView } from "../flows/start.ts";
import { type ReportRecord } from "./types.ts";
import { MAX_REPORT_TEXT, type ReportCtx, SHOWN_REPLY_MINUTES } from "./context.ts";

/**
 * "My reports": the reports whose relay points to this chat. Those a quick exit or auto-erase
 * locked are not listed, not even by code, until a case word is typed (decision 10).
 */
export async function myReportsView(ctx: ReportCtx): Promise<View> {
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
export async function openHere(ctx: ReportCtx, reportId: string): Promise<{ sameChat: boolean; locked: boolean }> {
  const sameChat = (await ctx.rd.reports.relayAddress(reportId)) === ctx.address;
  const locked = sameChat && !!(await ctx.rd.reports.relayInfo(reportId))?.lockedAt;
  return { sameChat, locked };
}

/**
 * The case word is asked when the chat was wiped since (quick exit, auto-erase), when the case was
 * last used by its reporter more than CASE_WORD_AFTER_HOURS ago, or from another chat. Only a
 * verified use restarts that clock: a wrong word, or just writing to the bot, does not (S12).
 */
export async function needsCaseWord(
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
export function formatWhen(d: Date, country: Country | null): string {
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

export async function unlock(ctx: ReportCtx, reportId: string, word: string): Promise<View> {
  const { t, rd } = ctx;
  const result = await rd.reports.tryCaseWord(reportId, word, rd.now(), ctx.address);
  if (result === "ok") return opened(ctx, reportId);
  await rd.reports.audit({ actor: "reporter", action: "unlock", reportId, result: "denied" }, rd.now());
  // Nothing about the case — not even its code — without the word.
  return menuView(ctx, t(result === "locked" ? "report.caseWordLocked" : "report.caseWordWrong"));
}

/** The right case word was given: audited, the report shown, and in its own chat the lock lifted. */
export async function opened(ctx: ReportCtx, reportId: string): Promise<View> {
  const { rd } = ctx;
  await rd.reports.audit({ actor: "reporter", action: "unlock", reportId, result: "ok" }, rd.now());
  const locked = (await openHere(ctx, reportId)).locked;
  // Shown (and so marked read) before the hold is lifted: a knock for what she is reading now is not sent.
  const view = await reportStatusView(ctx, reportId, true);
  if (locked && (await rd.reports.unlockRelay(reportId, rd.now()))) rd.kick?.();
  return view;
}

/** A case word typed at «My reports» when some are locked: it opens the report it belongs to. */
export async function unlockMine(ctx: ReportCtx, word: string): Promise<View> {
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

export async function addInfoPrompt(ctx: ReportCtx, reportId: string): Promise<View> {
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

export async function addInfo(ctx: ReportCtx, reportId: string, raw: string): Promise<View> {
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
export async function stopContactAsk(ctx: ReportCtx, reportId: string): Promise<View> {
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
export async function resumeContactAsk(ctx: ReportCtx, reportId: string): Promise<View> {
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

export async function resumeContact(ctx: ReportCtx, reportId: string, word: string): Promise<View> {
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

export async function stopContact(ctx: ReportCtx, reportId: string): Promise<View> {
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
