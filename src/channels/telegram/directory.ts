/**
 * The directory desk on Telegram (issue 16): `/centers`, the entry cards'
 * signed buttons (`d:<action>:<arg>:<mac>`), the typed answers to the desk's
 * questions, and the outbox's confirmation and check cards. The rules live in
 * src/core/directory/desk.ts; this file only speaks Telegram.
 */
import type { Bot, Context } from "grammy";
import type { InlineKeyboardMarkup } from "grammy/types";
import type { DirectoryDesk, DirResult, DirView } from "../../core/directory/desk.ts";
import type { DirectoryStore } from "../../core/directory/store.ts";
import type { StaffActor } from "../../core/reports/staff.ts";
import type { Sealer } from "../../core/safety/sealer.ts";
import type { DeliverResult } from "../../core/reports/outbox.ts";
import type { OutboxItem } from "../../core/reports/types.ts";
import { describeError, type Logger } from "../../logger.ts";
import { answerOnce } from "./answer.ts";
import { isNotModified } from "./errors.ts";

const DATA = /^d:([a-z]{1,2}):([A-Za-z0-9_.-]{1,44}):([A-Za-z0-9_-]{8})$/;

export interface TelegramDirectoryDeps {
  bot: Bot;
  desk: DirectoryDesk;
  store: DirectoryStore;
  sealer: Sealer;
  logger: Logger;
  now: () => Date;
  isStaffChat(chatId: number): boolean;
  actorOf(chatId: number, user: { id: number; first_name: string; last_name?: string }): Promise<StaffActor | null>;
  audit(actor: string, action: string, result: string): Promise<void>;
}

export function createTelegramDirectory(deps: TelegramDirectoryDeps) {
  const { bot, desk, store, sealer, logger } = deps;
  const sign = (action: string, arg: string) => `d:${action}:${arg}:${sealer.sign(`d:${action}:${arg}`)}`;
  const markup = (v: DirView): InlineKeyboardMarkup => ({
    inline_keyboard: v.buttons.map((row) => row.map((b) => ({ text: b.label, callback_data: sign(b.action, b.arg) }))),
  });

  /** Carries out what the desk decided, in the chat, after a press (`pressed`) or a typed answer (`typed`). */
  async function apply(chatId: number, res: DirResult, at: { pressed?: number; typed?: number }): Promise<void> {
    const replyTo = at.typed ?? at.pressed;
    const reply = replyTo ? { reply_parameters: { message_id: replyTo, allow_sending_without_reply: true } } : {};
    if (res.kind === "answer") {
      if (at.typed && res.answer) await bot.api.sendMessage(chatId, res.answer, reply);
      return;
    }
    if (res.kind === "edit" && at.pressed) {
      await bot.api
        .editMessageText(chatId, at.pressed, res.view.text.slice(0, 4096), { reply_markup: markup(res.view) })
        .catch((err) => {
          if (!isNotModified(err)) logger.warn("directory.edit_failed", describeError(err));
        });
      return;
    }
    if (res.kind === "edit" || res.kind === "send") {
      await bot.api.sendMessage(chatId, res.view.text.slice(0, 4096), { reply_markup: markup(res.view), ...reply });
      return;
    }
    if (res.kind === "ask") return; // handled by the caller, which knows who asked
    const sent = await bot.api.sendMessage(chatId, res.view.text.slice(0, 4096), {
      reply_markup: markup(res.view),
      ...reply,
    });
    await store.setPromptMessage(res.promptId, sent.message_id);
  }

  async function ask(chatId: number, userId: number, res: Extract<DirResult, { kind: "ask" }>, replyTo?: number) {
    const sent = await bot.api.sendMessage(chatId, res.text, {
      reply_markup: {
        force_reply: true,
        selective: true,
        input_field_placeholder: res.prompt.field === "phones" ? "+7 …" : undefined,
      },
      ...(replyTo ? { reply_parameters: { message_id: replyTo, allow_sending_without_reply: true } } : {}),
    });
    await store.savePrompt(
      {
        chatId,
        messageId: sent.message_id,
        userId,
        entryId: res.prompt.entryId,
        field: res.prompt.field,
        value: res.prompt.value,
      },
      deps.now(),
    );
  }

  /** A `d:` button. Forged or out of place: one neutral answer and an audit line, as for report buttons (ST2). */
  async function onCallback(ctx: Context): Promise<void> {
    const q = ctx.callbackQuery!;
    const answer = answerOnce(ctx);
    try {
      const chatId = ctx.chat?.id;
      const m = DATA.exec(q.data ?? "");
      const valid = !!m && sealer.sign(`d:${m[1]}:${m[2]}`) === m[3];
      if (!valid || chatId === undefined || !deps.isStaffChat(chatId)) {
        await deps.audit(`staff:${q.from.id}`, "denied", valid ? "directory: wrong chat" : "directory: bad data");
        return await answer(desk.t("staff.ans.notAllowed"));
      }
      const [, action, arg] = m as unknown as [string, string, string];
      const actor = await deps.actorOf(chatId, q.from);
      if (!actor) {
        await deps.audit(`staff:${q.from.id}`, "denied", "directory: not a member");
        return await answer(desk.t("staff.ans.notAllowed"));
      }
      if (desk.needsApproval(action) && !actor.approved) {
        await deps.audit(`staff:${actor.id}`, "denied", "directory: not approved");
        return await answer(desk.t("staff.ans.notApproved"));
      }
      const res = await desk.press(action, arg, actor, chatId);
      await answer(res.answer);
      const pressed = q.message?.message_id;
      if (res.kind === "ask") await ask(chatId, actor.id, res, pressed);
      else await apply(chatId, res, { pressed });
    } catch (err) {
      logger.error("directory.callback_failed", describeError(err));
      await answer(desk.t("staff.ans.notAllowed"));
    }
  }

  /** `/centers [place]`, from a staff member. */
  async function onCommand(chatId: number, arg: string, actor: StaffActor): Promise<void> {
    const view = await desk.list(arg);
    await bot.api.sendMessage(chatId, view.text.slice(0, 4096), { reply_markup: markup(view) });
    await deps.audit(`staff:${actor.id}`, "centers", "ok");
  }

  /** A reply to one of the desk's questions; false when the replied message is not one. */
  async function onReply(
    chatId: number,
    replyTo: number,
    messageId: number,
    text: string,
    actor: StaffActor,
  ): Promise<boolean> {
    const p = await store.prompt({ chatId, messageId: replyTo }, deps.now());
    if (!p) return false;
    if (!actor.approved) {
      await deps.audit(`staff:${actor.id}`, "denied", "directory: not approved");
      await bot.api.sendMessage(chatId, desk.t("staff.ans.notApproved"), {
        reply_parameters: { message_id: messageId, allow_sending_without_reply: true },
      });
      return true;
    }
    const res = await desk.input(p, text, actor, chatId);
    if (res.kind === "ask") await ask(chatId, actor.id, res, messageId);
    else await apply(chatId, res, { typed: messageId });
    return true;
  }

  /** An outbox card of the directory: a phone waiting for a supervisor, or an entry due for its check. */
  async function deliver(chatId: number, item: OutboxItem): Promise<DeliverResult> {
    const p = item.payload;
    if (p.type !== "directory") return { status: "dead", reason: "not a directory card" };
    const view =
      p.what === "confirm" ? await desk.confirmView(Number(p.id)) : await desk.checkView(p.id, p.signals ?? 0);
    // Decided or closed meanwhile: nothing left to ask.
    if (!view || !view.buttons.length) return { status: "sent", messageId: null };
    const sent = await bot.api.sendMessage(chatId, view.text.slice(0, 4096), { reply_markup: markup(view) });
    return { status: "sent", messageId: sent.message_id };
  }

  return { onCallback, onCommand, onReply, deliver, sign };
}

export type TelegramDirectory = ReturnType<typeof createTelegramDirectory>;
