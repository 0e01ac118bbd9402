/**
 * Messages in a staff group: the commands (/staff, /centers, /queue, /stats, /report CODE), each a
 * grammY command handler, and replies to the bot's messages, which go to the reporter of that
 * thread. Everything else is staff chatter and is ignored (P6).
 */
import { Composer, type Context } from "grammy";
import type { StaffActor } from "../../../core/reports/staff.ts";
import { normalizeCode } from "../../../core/safety/sealer.ts";
import { splitText, type StaffContext } from "./context.ts";
import { rosterView } from "./roster.ts";

/** The commands that show report content or figures: the roster's, approved by a supervisor (decision 11). */
const ROSTER_ONLY = ["queue", "stats", "report"] as const;

export function staffCommands(s: StaffContext): Composer<Context> {
  const c = new Composer<Context>();
  // New messages only, as before: an edited message is not a second command or a second reply.
  const m = c.on("message");
  m.command("staff", (ctx) => asMember(s, ctx, (actor) => showRoster(s, ctx.chat.id, actor)));
  if (s.dir) {
    const dir = s.dir;
    m.command("centers", (ctx) => asMember(s, ctx, (actor) => dir.onCommand(ctx.chat.id, ctx.match.trim(), actor)));
  }
  for (const name of ROSTER_ONLY)
    m.command(name, (ctx) => asMember(s, ctx, (actor) => rosterCommand(s, ctx.chat.id, name, ctx.match.trim(), actor)));
  // A reply to one of the bot's own messages; any other message, other commands included, is chatter.
  m.use((ctx) => {
    if (ctx.message.reply_to_message?.from?.id !== ctx.me.id) return;
    return asMember(s, ctx, (actor) => onReply(s, ctx, actor));
  });
  return c;
}

/**
 * Runs `then` for a member of the group. A channel or an anonymous admin writes as a chat
 * (sender_chat), not as a person: no one can be checked or named, so it is not a staff action
 * (issue 14). Anyone else who is not a member is refused, and that is audited.
 */
async function asMember(s: StaffContext, ctx: Context, then: (actor: StaffActor) => Promise<unknown>) {
  const msg = ctx.message!;
  if (!msg.from || msg.sender_chat) {
    s.logger.info("staff.not_a_person", { reason: msg.sender_chat ? "sender_chat" : "no from" });
    return;
  }
  const actor = await s.staffActor(ctx.chat!.id, msg.from);
  if (!actor) {
    await s.reports.audit(
      { actor: `staff:${msg.from.id}`, action: "denied", reportId: null, result: "not a member" },
      s.deps.now(),
    );
    return;
  }
  await then(actor);
}

async function showRoster(s: StaffContext, chatId: number, actor: StaffActor) {
  const view = await rosterView(s, chatId);
  await s.bot.api.sendMessage(chatId, view.text, { reply_markup: view.reply_markup, protect_content: true });
  await s.reports.audit({ actor: `staff:${actor.id}`, action: "roster", reportId: null, result: "ok" }, s.deps.now());
}

/** /queue, /stats and /report CODE: for approved members only, even without content. */
async function rosterCommand(
  s: StaffContext,
  chatId: number,
  name: (typeof ROSTER_ONLY)[number],
  arg: string,
  actor: StaffActor,
) {
  const { deps, bot, desk, reports } = s;
  if (!actor.approved) {
    await bot.api.sendMessage(chatId, desk.t("staff.ans.notApproved"), { protect_content: true });
    await reports.audit(
      { actor: `staff:${actor.id}`, action: "denied", reportId: null, result: `${name}: not approved` },
      deps.now(),
    );
    return;
  }
  const chats = [chatId];
  let out: string;
  if (name === "queue") out = await desk.queueText(chats);
  else if (name === "stats") {
    out = await desk.statsText(chats);
    const chart = await s.chartOf(chats);
    if (chart) {
      await s.sendChart(chatId, chart, out);
      await reports.audit({ actor: `staff:${actor.id}`, action: "stats", reportId: null, result: "chart" }, deps.now());
      return;
    }
  } else {
    const code = normalizeCode(arg);
    out = code
      ? await desk.historyText(code, chats, { withText: await s.isProtected(chatId) })
      : desk.t("staff.history.usage");
  }
  for (const part of splitText(out, 4000)) await bot.api.sendMessage(chatId, part, { protect_content: true });
  await reports.audit(
    { actor: `staff:${actor.id}`, action: name === "report" ? "history" : name, reportId: null, result: "ok" },
    deps.now(),
  );
}

/**
 * A reply to one of the bot's messages: an answer to the directory desk's question (a new phone,
 * its source), or words for the reporter of that thread, or refused with the reason, never dropped
 * in silence (issue 14).
 */
async function onReply(s: StaffContext, ctx: Context, actor: StaffActor) {
  const { deps, bot, desk, reports, dir } = s;
  const msg = ctx.message!;
  const chatId = ctx.chat!.id;
  const text = msg.text ?? "";
  const replyTo = msg.reply_to_message!;
  if (dir && (await dir.onReply(chatId, replyTo.message_id, msg.message_id, text, actor))) return;
  const reportId = await reports.threadOf(chatId, replyTo.message_id);
  const answer = (line: string) =>
    bot.api.sendMessage(chatId, line, {
      reply_parameters: { message_id: msg.message_id, allow_sending_without_reply: true },
    });
  if (!reportId) {
    await reports.audit(
      { actor: `staff:${actor.id}`, action: "reply", reportId: null, result: "no thread" },
      deps.now(),
    );
    await answer(desk.t("staff.replyNoThread"));
    return;
  }
  if (!text.trim()) {
    // A voice from staff could be played aloud beside the person she hides from: only text goes (issue 26).
    const voice = !!(msg.voice || msg.audio || msg.video_note);
    await reports.audit(
      { actor: `staff:${actor.id}`, action: "reply", reportId, result: voice ? "voice" : "not text" },
      deps.now(),
    );
    await answer(desk.t(voice ? "staff.replyNoVoice" : "staff.replyTextOnly"));
    return;
  }
  const note = await desk.reply(reportId, actor, chatId, text);
  const sent = await answer(note);
  // The note ("Ответ для CODE поставлен в очередь…") is in the thread too: a reply to it is a reply to the report.
  await reports.addStaffThread(chatId, sent.message_id, reportId, deps.now());
}
