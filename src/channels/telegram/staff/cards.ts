/** Presses on report cards (and the roster's buttons): signed data checked, the person checked, then the desk acts. */
import { Composer, type Context } from "grammy";
import { describeError } from "../../../logger.ts";
import { answerOnce } from "../answer.ts";
import { isNotModified } from "../errors.ts";
import { DATA, ROSTER, type StaffContext } from "./context.ts";
import { onRosterPress } from "./roster.ts";

/** Presses on a staff group's buttons: report cards and the roster's approve and remove. */
export function staffCards(s: StaffContext): Composer<Context> {
  const c = new Composer<Context>();
  c.on("callback_query:data", (ctx) => onCallback(s, ctx));
  return c;
}

export async function onCallback(s: StaffContext, ctx: Context) {
  const { deps, bot, desk, reports, sealer, logger, staffChats, keyboard, staffActor, isProtected } = s;
  const q = ctx.callbackQuery!;
  const answer = answerOnce(ctx);
  try {
    const chatId = ctx.chat?.id;
    const rm = ROSTER.exec(q.data ?? "");
    if (rm && sealer.sign(`${rm[1]}:${rm[2]}`) === rm[3] && chatId !== undefined && staffChats.has(chatId))
      return await onRosterPress(s, ctx, chatId, rm[1] as "ap" | "rm", Number(rm[2]), answer);
    const m = DATA.exec(q.data ?? "");
    const valid = m && sealer.sign(`${m[1]}:${m[2]}`) === m[3];
    if (!valid || chatId === undefined || !staffChats.has(chatId)) {
      // Forged, stale or out of place: one neutral answer, no change, one audit line (ST2).
      await reports.audit(
        { actor: `staff:${q.from.id}`, action: "denied", reportId: null, result: valid ? "wrong chat" : "bad data" },
        deps.now(),
      );
      return await answer(desk.t("staff.ans.notAllowed"));
    }
    const actor = await staffActor(chatId, q.from);
    if (!actor) {
      await reports.audit(
        { actor: `staff:${q.from.id}`, action: "denied", reportId: m[2]!, result: "not a member" },
        deps.now(),
      );
      return await answer(desk.t("staff.ans.notAllowed"));
    }
    const res = await desk.act(m[2]!, m[1]!, actor, chatId, { withText: await isProtected(chatId) });
    await answer(res.answer);
    const messageId = q.message?.message_id;
    if (res.kind === "edit" && messageId) {
      await bot.api
        .editMessageText(chatId, messageId, res.view.text.slice(0, 4096), {
          reply_markup: keyboard(m[2]!, res.view.buttons),
        })
        .catch((err) => {
          if (!isNotModified(err)) logger.warn("staff.edit_failed", describeError(err));
        });
    } else if (res.kind === "prompt" && messageId) {
      const sent = await bot.api.sendMessage(chatId, res.prompt, {
        reply_markup: { force_reply: true, selective: true },
        reply_parameters: { message_id: messageId, allow_sending_without_reply: true },
        protect_content: true,
      });
      await reports.addStaffThread(chatId, sent.message_id, m[2]!, deps.now());
    }
  } catch (err) {
    logger.error("staff.callback_failed", describeError(err));
    await answer(desk.t("staff.ans.notAllowed"));
  }
}
