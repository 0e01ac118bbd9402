/**
 * Messages in a staff group: the commands (/staff, /centers, /queue, /stats, /report CODE) and
 * replies to the bot's messages, which go to the reporter of that thread. Chatter is ignored (P6).
 */
import type { Context } from "grammy";
import { normalizeCode } from "../../../core/safety/sealer.ts";
import { splitText, type StaffContext } from "./context.ts";
import { rosterView } from "./roster.ts";

export async function onMessage(s: StaffContext, ctx: Context) {
  const { deps, bot, desk, reports, logger, staffActor, isProtected, chartOf, sendChart, dir } = s;
  const msg = ctx.message!;
  const chatId = ctx.chat!.id;
  const text = msg.text ?? "";
  const cmd = msg.entities?.find((e) => e.type === "bot_command" && e.offset === 0);
  const replyTo = msg.reply_to_message;
  const toBot = replyTo?.from?.id === ctx.me.id;
  // Only commands and replies to the bot's own messages are ours; the rest is staff chatter (P6).
  if (!cmd && !toBot) return;
  // A channel or an anonymous admin writes as a chat (sender_chat), not as a person: no one can be
  // checked or named, so it is not a staff action (issue 14).
  if (!msg.from || msg.sender_chat) {
    logger.info("staff.not_a_person", { reason: msg.sender_chat ? "sender_chat" : "no from" });
    return;
  }
  const actor = await staffActor(chatId, msg.from);
  if (!actor) {
    await reports.audit(
      { actor: `staff:${msg.from.id}`, action: "denied", reportId: null, result: "not a member" },
      deps.now(),
    );
    return;
  }
  if (cmd) {
    const [name, at] = text.slice(1, cmd.length).split("@");
    if (at && at.toLowerCase() !== ctx.me.username.toLowerCase()) return;
    const arg = text.slice(cmd.length).trim();
    const chats = [chatId];
    let out: string | null = null;
    if (name === "staff") {
      const view = await rosterView(s, chatId);
      await bot.api.sendMessage(chatId, view.text, { reply_markup: view.reply_markup, protect_content: true });
      await reports.audit({ actor: `staff:${actor.id}`, action: "roster", reportId: null, result: "ok" }, deps.now());
      return;
    }
    if (name === "centers" && dir) return await dir.onCommand(chatId, arg, actor);
    // The queue, the figures and a report's history are the roster's (decision 11), even without content.
    if ((name === "queue" || name === "stats" || name === "report") && !actor.approved) {
      await bot.api.sendMessage(chatId, desk.t("staff.ans.notApproved"), { protect_content: true });
      await reports.audit(
        { actor: `staff:${actor.id}`, action: "denied", reportId: null, result: `${name}: not approved` },
        deps.now(),
      );
      return;
    }
    if (name === "queue") out = await desk.queueText(chats);
    else if (name === "stats") {
      const text = await desk.statsText(chats);
      const chart = await chartOf(chats);
      if (chart) {
        await sendChart(chatId, chart, text);
        await reports.audit(
          { actor: `staff:${actor.id}`, action: "stats", reportId: null, result: "chart" },
          deps.now(),
        );
        return;
      }
      out = text;
    } else if (name === "report") {
      const code = normalizeCode(arg);
      out = code
        ? await desk.historyText(code, chats, { withText: await isProtected(chatId) })
        : desk.t("staff.history.usage");
    }
    if (out !== null) {
      for (const part of splitText(out, 4000)) await bot.api.sendMessage(chatId, part, { protect_content: true });
      await reports.audit(
        { actor: `staff:${actor.id}`, action: name === "report" ? "history" : name!, reportId: null, result: "ok" },
        deps.now(),
      );
    }
    return;
  }
  // An answer to one of the directory desk's questions (a new phone, its source).
  if (dir && (await dir.onReply(chatId, replyTo!.message_id, msg.message_id, text, actor))) return;
  // A reply to any of the bot's messages is meant for a reporter: it reaches the report of that
  // thread, or is refused with the reason, never dropped in silence (issue 14).
  const reportId = await reports.threadOf(chatId, replyTo!.message_id);
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
    await reports.audit({ actor: `staff:${actor.id}`, action: "reply", reportId, result: "not text" }, deps.now());
    await answer(desk.t("staff.replyTextOnly"));
    return;
  }
  const note = await desk.reply(reportId, actor, chatId, text);
  const sent = await answer(note);
  // The note ("Ответ для CODE поставлен в очередь…") is in the thread too: a reply to it is a reply to the report.
  await reports.addStaffThread(chatId, sent.message_id, reportId, deps.now());
}
