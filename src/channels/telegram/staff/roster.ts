/**
 * The staff roster (decision 11): /staff lists a group's members with approve and remove buttons
 * that only a supervisor's press counts; joins wait for approval, and someone who leaves loses
 * their role at once, their reports going back to the queue (ST3). Also the bot's own standing.
 */
import { Composer, type Context } from "grammy";
import type { InlineKeyboardMarkup } from "grammy/types";
import { describeError } from "../../../logger.ts";
import { isNotModified } from "../errors.ts";
import type { StaffContext } from "./context.ts";

/** /staff: the roster of this group, with approve and remove buttons (only a supervisor's press counts). */
/** Members joining and leaving a staff group, and the bot's own standing there. */
export function staffRoster(s: StaffContext): Composer<Context> {
  const c = new Composer<Context>();
  c.on("chat_member", (ctx) => onChatMember(s, ctx));
  c.on("my_chat_member", (ctx) => onMyChatMember(s, ctx));
  return c;
}

export async function rosterView(
  s: StaffContext,
  chatId: number,
): Promise<{ text: string; reply_markup: InlineKeyboardMarkup }> {
  const { desk, reports, supervisors, sign } = s;
  const t = desk.t;
  const list = await reports.roster(chatId);
  const lines = [t("staff.roster.title")];
  if (!supervisors.size) lines.push(t("staff.notice.noSupervisors"));
  const named = new Map(list.map((e) => [e.userId, e.name]));
  for (const id of supervisors) lines.push(t("staff.roster.supervisor", { name: named.get(id) ?? `id ${id}` }));
  const rest = list.filter((e) => !supervisors.has(e.userId));
  for (const e of rest)
    lines.push(t(e.status === "approved" ? "staff.roster.approved" : "staff.roster.pending", { name: e.name }));
  if (!rest.length) lines.push(t("staff.roster.empty"));
  else lines.push("", t("staff.roster.howTo"));
  const buttons = rest.map((e) => {
    const action = e.status === "approved" ? "rm" : "ap";
    return [
      {
        text: t(action === "ap" ? "staff.roster.approve" : "staff.roster.remove", { name: e.name }).slice(0, 60),
        callback_data: sign(action, String(e.userId)),
      },
    ];
  });
  return { text: lines.join("\n"), reply_markup: { inline_keyboard: buttons } };
}

export async function onRosterPress(
  s: StaffContext,
  ctx: Context,
  chatId: number,
  action: "ap" | "rm",
  userId: number,
  answer: (text: string) => Promise<void>,
) {
  const { deps, bot, desk, reports, logger, members, staffActor } = s;
  const q = ctx.callbackQuery!;
  const actor = await staffActor(chatId, q.from);
  if (!actor?.supervisor) {
    await reports.audit(
      {
        actor: `staff:${q.from.id}`,
        action: "denied",
        reportId: null,
        result: action === "ap" ? "approve: not a supervisor" : "remove: not a supervisor",
      },
      deps.now(),
    );
    return answer(actor ? desk.t("staff.ans.notSupervisor") : desk.t("staff.ans.notAllowed"));
  }
  const res = await reports.rosterDecide(chatId, userId, action === "ap" ? "approve" : "remove", actor, deps.now());
  members.delete(`${chatId}:${userId}`);
  if (!res) return answer(desk.t("staff.ans.outdated"));
  await answer(desk.t(action === "ap" ? "staff.ans.approved" : "staff.ans.removed", { name: res.name }));
  const at = deps.now();
  await reports.enqueue(
    [
      {
        dedupeKey: `notice:roster:${chatId}:${userId}:${action}:${at.getTime()}`,
        target: `staff:${chatId}`,
        payload:
          action === "ap"
            ? { type: "notice", key: "staff.notice.approved", vars: { name: res.name, by: actor.name } }
            : {
                type: "notice",
                key: "staff.notice.removed",
                vars: { name: res.name, by: actor.name, count: res.requeued.length },
              },
      },
    ],
    at,
  );
  deps.kick?.();
  const messageId = q.message?.message_id;
  if (messageId) {
    const view = await rosterView(s, chatId);
    await bot.api.editMessageText(chatId, messageId, view.text, { reply_markup: view.reply_markup }).catch((err) => {
      if (!isNotModified(err)) logger.warn("staff.edit_failed", describeError(err));
    });
  }
}

/** A member left or was removed: their role ends at once and their reports go back to the queue (ST3). */
export async function onChatMember(s: StaffContext, ctx: Context) {
  const { deps, reports, members, supervisors } = s;
  const u = ctx.chatMember!;
  const chatId = ctx.chat!.id;
  const was = u.old_chat_member.status;
  const now = u.new_chat_member.status;
  const user = u.new_chat_member.user;
  // Someone new sees cards; acting waits for a supervisor (decision 11). The group is told once.
  if (
    (was === "left" || was === "kicked") &&
    (now === "member" || now === "administrator" || now === "restricted") &&
    !user.is_bot
  ) {
    const name = [user.first_name, user.last_name].filter(Boolean).join(" ").slice(0, 40);
    members.delete(`${chatId}:${user.id}`);
    if (supervisors.has(user.id)) return;
    await reports.rosterSeen(chatId, user.id, name, deps.now());
    await reports.audit(
      { actor: `staff:${user.id}`, action: "staff_joined", reportId: null, result: "pending" },
      deps.now(),
    );
    await reports.enqueue(
      [
        {
          dedupeKey: `notice:joined:${chatId}:${user.id}:${u.date}`,
          target: `staff:${chatId}`,
          payload: { type: "notice", key: "staff.notice.newMember", vars: { name } },
        },
      ],
      deps.now(),
    );
    deps.kick?.();
    return;
  }
  if (u.new_chat_member.status !== "left" && u.new_chat_member.status !== "kicked") return;
  members.delete(`${chatId}:${u.new_chat_member.user.id}`);
  const ids = await reports.requeueHeldBy(u.new_chat_member.user.id, chatId, deps.now());
  await reports.audit(
    {
      actor: `staff:${u.new_chat_member.user.id}`,
      action: "staff_left",
      reportId: null,
      result: `requeued ${ids.length}`,
    },
    deps.now(),
  );
  if (ids.length) {
    await reports.enqueue(
      [
        {
          dedupeKey: `notice:left:${chatId}:${u.new_chat_member.user.id}:${u.date}`,
          target: `staff:${chatId}`,
          payload: {
            type: "notice",
            key: "staff.notice.memberLeft",
            vars: { name: u.new_chat_member.user.first_name, count: ids.length },
          },
        },
      ],
      deps.now(),
    );
  }
}

/** The bot itself was demoted or removed: hold deliveries to that group and raise the alarm in the logs (ST3). */
export async function onMyChatMember(s: StaffContext, ctx: Context) {
  const { deps, reports, logger, paused } = s;
  const u = ctx.myChatMember!;
  const chatId = ctx.chat!.id;
  const ok = u.new_chat_member.status === "administrator";
  if (ok) paused.delete(chatId);
  else paused.add(chatId);
  await reports.audit(
    {
      actor: "system",
      action: ok ? "bot_restored" : "bot_demoted",
      reportId: null,
      result: u.new_chat_member.status,
    },
    deps.now(),
  );
  if (ok) {
    logger.info("staff.bot_restored");
    await reports.retryNow(`staff:${chatId}`, deps.now());
    deps.kick?.();
  } else logger.error("staff.bot_demoted", { reason: u.new_chat_member.status });
}
