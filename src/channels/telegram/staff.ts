/**
 * Staff chats on Telegram: report cards with signed buttons, replies to the
 * reporter, /queue, /report CODE, /stats, /staff. Members of the staff chat
 * see cards (getChatMember, cached briefly); acting on a report needs the
 * group's roster: approved by a supervisor named in STAFF_SUPERVISORS
 * (decision 11). Everyone else is refused with the reason and nothing changes
 * (ST1). A group that does not restrict saving content gets cards without the
 * report's text until it does (P4). Ordinary chatter is neither stored nor
 * logged (P6).
 */
import { GrammyError, InputFile, type Bot, type Context } from "grammy";
import type { InlineKeyboardMarkup } from "grammy/types";
import type { Sealer } from "../../core/safety/sealer.ts";
import type { DeskButton, StaffActor, StaffDesk } from "../../core/reports/staff.ts";
import type { OutboxItem, ReportStore } from "../../core/reports/types.ts";
import { normalizeCode } from "../../core/safety/sealer.ts";
import type { DeliverResult } from "../../core/reports/outbox.ts";
import { describeError, type Logger } from "../../logger.ts";
import { answerOnce } from "./answer.ts";
import { isNotModified, toChannelError } from "./errors.ts";
import { createTelegramDirectory } from "./directory.ts";
import type { DirectoryDesk } from "../../core/directory/desk.ts";
import type { DirectoryStore } from "../../core/directory/store.ts";

export const MEMBER_CACHE_MS = 60_000;
const DATA = /^s:([a-z_0-9]{2,20}):([A-Za-z0-9_-]{16}):([A-Za-z0-9_-]{8})$/;
/** Roster buttons of /staff: approve or remove a Telegram user id. */
const ROSTER = /^s:(ap|rm):(\d{1,15}):([A-Za-z0-9_-]{8})$/;
/** How long a group's "restrict saving content" setting is trusted before it is read again. */
export const PROTECTION_CACHE_MS = 60_000;

export interface TelegramStaffDeps {
  bot: Bot;
  desk: StaffDesk;
  reports: ReportStore;
  sealer: Sealer;
  staffChats: number[];
  /** Telegram user ids named in STAFF_SUPERVISORS. */
  supervisors: number[];
  logger: Logger;
  now: () => Date;
  /** Telegram moved a staff group to a new id (migrate_to_chat_id, ST6). */
  onMigrate(from: number, to: number): Promise<void>;
  /** The current id of a staff group (after any moves). */
  resolveChat(id: number): number;
  /** Wakes the outbox. */
  kick?: () => void;
  /** How long a group's protection setting is trusted (tests shorten it). */
  protectionCacheMs?: number;
  /** The directory desk (issue 16): /centers, entry cards, confirmations, checks. */
  directory?: { desk: DirectoryDesk; store: DirectoryStore };
}

/** Splits text into parts of at most `max` characters on grapheme boundaries. */
export function splitText(text: string, max: number): string[] {
  const seg = new Intl.Segmenter(undefined, { granularity: "grapheme" });
  const parts: string[] = [];
  let cur = "";
  for (const { segment } of seg.segment(text)) {
    if (cur.length + segment.length > max) {
      parts.push(cur);
      cur = "";
    }
    cur += segment;
  }
  if (cur || !parts.length) parts.push(cur);
  return parts;
}

export function createTelegramStaff(deps: TelegramStaffDeps) {
  const { bot, desk, reports, sealer, logger } = deps;
  const staffChats = new Set(deps.staffChats);
  const members = new Map<string, { at: number; actor: StaffActor | null }>();
  /** Staff groups where the bot is no longer an administrator: deliveries wait (ST3). */
  const paused = new Set<number>();
  const supervisors = new Set(deps.supervisors);
  /** Whether each staff group restricts saving content, and when that was read. */
  const protection = new Map<number, { at: number; on: boolean }>();

  const sign = (action: string, id: string) => `s:${action}:${id}:${sealer.sign(`${action}:${id}`)}`;
  const keyboard = (reportId: string, rows: DeskButton[][]): InlineKeyboardMarkup => ({
    inline_keyboard: rows.map((row) => row.map((b) => ({ text: b.label, callback_data: sign(b.action, reportId) }))),
  });

  /** The person, if they are a member of this staff chat now (cached for a minute). */
  async function staffActor(
    chatId: number,
    user: { id: number; first_name: string; last_name?: string },
  ): Promise<StaffActor | null> {
    const key = `${chatId}:${user.id}`;
    const hit = members.get(key);
    if (hit && Date.now() - hit.at < MEMBER_CACHE_MS) return hit.actor;
    let actor: StaffActor | null = null;
    try {
      const m = await bot.api.getChatMember(chatId, user.id);
      const isMember =
        m.status === "creator" ||
        m.status === "administrator" ||
        m.status === "member" ||
        (m.status === "restricted" && m.is_member);
      if (isMember) {
        const name = [user.first_name, user.last_name].filter(Boolean).join(" ").slice(0, 40);
        // Being a group admin is not authority over reports: the supervisors are named in configuration.
        const supervisor = supervisors.has(user.id);
        const approved = (await reports.rosterSeen(chatId, user.id, name, deps.now())) === "approved" || supervisor;
        actor = { id: user.id, name, supervisor, approved };
      }
    } catch (err) {
      logger.warn("staff.member_check_failed", describeError(err));
    }
    members.set(key, { at: Date.now(), actor });
    return actor;
  }

  /**
   * Whether the group restricts saving content (P4), read again after a minute. When it was turned
   * on, the open reports' cards are edited to show their text again.
   */
  async function isProtected(chatId: number): Promise<boolean> {
    const known = protection.get(chatId);
    if (known && Date.now() - known.at < (deps.protectionCacheMs ?? PROTECTION_CACHE_MS)) return known.on;
    let on = known?.on ?? false;
    try {
      const chat = await bot.api.getChat(chatId);
      on = "has_protected_content" in chat && chat.has_protected_content === true;
    } catch (err) {
      logger.warn("staff.protection_check_failed", describeError(err));
      return on; // not known now: as last seen, and withheld if never seen
    }
    protection.set(chatId, { at: Date.now(), on });
    if (on && known && !known.on) {
      const at = deps.now();
      const open = await reports.open([chatId]);
      await reports.enqueue(
        open.map((r) => ({
          dedupeKey: `card_edit:${r.id}:protected:${at.getTime()}`,
          target: `staff:${chatId}`,
          payload: { type: "card_edit" as const, reportId: r.id },
        })),
        at,
      );
      await reports.audit(
        { actor: "system", action: "group_protected", reportId: null, result: `cards ${open.length}` },
        at,
      );
      deps.kick?.();
    }
    return on;
  }

  /** The stats chart of these chats, or null when it cannot be drawn (then the text goes alone). */
  async function chartOf(chats: number[]): Promise<Buffer | null> {
    try {
      return await desk.statsChart(chats);
    } catch (err) {
      logger.warn("staff.chart_failed", describeError(err));
      return null;
    }
  }

  /**
   * The chart with the numbers as its caption (issue 17), protected like every staff message. A
   * caption holds 1024 characters: longer numbers follow in full as text.
   */
  async function sendChart(chatId: number, png: Buffer, text: string): Promise<number> {
    const fits = text.length <= 1024;
    const caption = fits ? text : `${text.slice(0, 1000).replace(/\n[^\n]*$/, "")}\n…`;
    const sent = await bot.api.sendPhoto(chatId, new InputFile(png, "stats.png"), { caption, protect_content: true });
    if (!fits)
      for (const part of splitText(text, 4000)) await bot.api.sendMessage(chatId, part, { protect_content: true });
    return sent.message_id;
  }

  /** /staff: the roster of this group, with approve and remove buttons (only a supervisor's press counts). */
  async function rosterView(chatId: number): Promise<{ text: string; reply_markup: InlineKeyboardMarkup }> {
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

  async function onRosterPress(
    ctx: Context,
    chatId: number,
    action: "ap" | "rm",
    userId: number,
    answer: (text: string) => Promise<void>,
  ) {
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
      const view = await rosterView(chatId);
      await bot.api.editMessageText(chatId, messageId, view.text, { reply_markup: view.reply_markup }).catch((err) => {
        if (!isNotModified(err)) logger.warn("staff.edit_failed", describeError(err));
      });
    }
  }

  const dir = deps.directory
    ? createTelegramDirectory({
        bot,
        desk: deps.directory.desk,
        store: deps.directory.store,
        sealer,
        logger,
        now: deps.now,
        isStaffChat: (id) => staffChats.has(id),
        actorOf: staffActor,
        audit: (actor, action, result) => reports.audit({ actor, action, reportId: null, result }, deps.now()),
      })
    : undefined;

  async function onCallback(ctx: Context) {
    const q = ctx.callbackQuery!;
    const answer = answerOnce(ctx);
    try {
      const chatId = ctx.chat?.id;
      const rm = ROSTER.exec(q.data ?? "");
      if (rm && sealer.sign(`${rm[1]}:${rm[2]}`) === rm[3] && chatId !== undefined && staffChats.has(chatId))
        return await onRosterPress(ctx, chatId, rm[1] as "ap" | "rm", Number(rm[2]), answer);
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

  async function onMessage(ctx: Context) {
    const msg = ctx.message!;
    const chatId = ctx.chat!.id;
    const text = msg.text ?? "";
    const cmd = msg.entities?.find((e) => e.type === "bot_command" && e.offset === 0);
    const replyTo = msg.reply_to_message;
    const toBot = replyTo?.from?.id === ctx.me.id;
    // Only commands and replies to the bot's own messages are ours; the rest is staff chatter (P6).
    if (!cmd && !toBot) return;
    // A channel or an anonymous admin writes as a chat (sender_chat), not as a person: no one can be
    // checked or named, so it is not a staff action (issue 14). It used to throw on every such update.
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
        const view = await rosterView(chatId);
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

  /** A member left or was removed: their role ends at once and their reports go back to the queue (ST3). */
  async function onChatMember(ctx: Context) {
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

  /**
   * At start: each staff chat should restrict saving content (P4), and the bot
   * should not hold invite or promote rights there (ST7). Problems are posted
   * to that chat and logged; every card and relay is sent protected anyway.
   */
  async function selfCheck(): Promise<string[]> {
    const problems: string[] = [];
    for (const chatId of staffChats) {
      try {
        const notes: string[] = [];
        protection.delete(chatId);
        if (!(await isProtected(chatId))) notes.push("staff.notice.unprotected");
        if (!supervisors.size) notes.push("staff.notice.noSupervisors");
        const me = await bot.api.getChatMember(chatId, bot.botInfo.id);
        if (me.status === "administrator" && (me.can_promote_members || me.can_invite_users))
          notes.push("staff.notice.tooManyRights");
        for (const key of notes) {
          problems.push(key);
          await reports.enqueue(
            [
              {
                dedupeKey: `selfcheck:${chatId}:${key}:${deps.now().toISOString().slice(0, 10)}`,
                target: `staff:${chatId}`,
                payload: { type: "notice", key },
              },
            ],
            deps.now(),
          );
        }
      } catch (err) {
        logger.warn("staff.self_check_failed", describeError(err));
      }
    }
    if (problems.length) logger.warn("staff.self_check", { count: problems.length });
    return problems;
  }

  /** The bot itself was demoted or removed: hold deliveries to that group and raise the alarm in the logs (ST3). */
  async function onMyChatMember(ctx: Context) {
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

  function install() {
    // Directory buttons first: they are signed differently, and pressed in the same chats.
    if (dir)
      bot.filter((ctx) => ctx.callbackQuery?.data?.startsWith("d:") === true).on("callback_query:data", dir.onCallback);
    const staff = bot.filter((ctx) => ctx.chat !== undefined && staffChats.has(ctx.chat.id));
    staff.on("callback_query:data", onCallback);
    staff.on("message", onMessage);
    staff.on("chat_member", onChatMember);
    staff.on("my_chat_member", onMyChatMember);
    // Staff buttons pressed anywhere else (forwarded cards, forged updates) are refused once.
    bot.filter((ctx) => ctx.callbackQuery?.data?.startsWith("s:") === true).on("callback_query:data", onCallback);
  }

  /** Delivers one outbox item aimed at a staff chat. */
  async function deliver(item: OutboxItem): Promise<DeliverResult> {
    const chatId = deps.resolveChat(Number(item.target.slice("staff:".length)));
    const p = item.payload;
    if (paused.has(chatId)) return { status: "later", at: new Date(deps.now().getTime() + 60_000) };
    try {
      if (p.type === "directory")
        return dir ? await dir.deliver(chatId, item) : { status: "dead", reason: "no directory desk" };
      if (p.type === "card") {
        const r = await reports.byId(p.reportId);
        if (!r) return { status: "dead", reason: "no report" };
        // Sent before a crash but not marked: the card is there already, so not twice.
        if (r.cardMessageId) return { status: "sent", messageId: r.cardMessageId };
        const view = desk.card(r, { withText: await isProtected(chatId) });
        const sent = await bot.api.sendMessage(chatId, view.text.slice(0, 4096), {
          reply_markup: keyboard(r.id, view.buttons),
          protect_content: true,
        });
        await reports.setCard(r.id, sent.message_id);
        await reports.addStaffThread(chatId, sent.message_id, r.id, deps.now());
        return { status: "sent", messageId: sent.message_id };
      }
      if (p.type === "card_edit") {
        const r = await reports.byId(p.reportId);
        if (!r) return { status: "dead", reason: "no report" };
        // No card yet: it is rendered from the current state when it goes out, so there is nothing to edit.
        if (!r.cardMessageId) return { status: "sent", messageId: null };
        const view = desk.card(r, { withText: await isProtected(chatId) });
        try {
          await bot.api.editMessageText(chatId, r.cardMessageId, view.text.slice(0, 4096), {
            reply_markup: keyboard(r.id, view.buttons),
          });
        } catch (err) {
          if (!isNotModified(err)) throw err;
        }
        return { status: "sent", messageId: r.cardMessageId };
      }
      if (p.type === "to_staff") {
        const r = await reports.byId(p.reportId);
        const m = r && (await reports.messages(r.id)).find((x) => x.id === p.messageId);
        if (!r || !m) return { status: "dead", reason: "no message" };
        // The reporter's words are the report too: withheld in a group that lets them be saved (P4).
        const parts = (await isProtected(chatId)) ? splitText(m.body, 3800) : [null];
        let first: number | null = null;
        for (const [i, part] of parts.entries()) {
          const head = desk.t("staff.fromReporter", {
            code: r.code,
            part: parts.length > 1 ? desk.t("staff.part", { k: i + 1, n: parts.length }) : "",
          });
          const sent = await bot.api.sendMessage(
            chatId,
            part === null ? desk.t("staff.fromReporterWithheld", { code: r.code }) : `${head}\n${part}`,
            {
              protect_content: true,
              ...(r.cardMessageId
                ? { reply_parameters: { message_id: r.cardMessageId, allow_sending_without_reply: true } }
                : {}),
            },
          );
          await reports.addStaffThread(chatId, sent.message_id, r.id, deps.now());
          first ??= sent.message_id;
        }
        return { status: "sent", messageId: first };
      }
      if (p.type === "to_staff_photo") {
        const r = await reports.byId(p.reportId);
        if (!r) return { status: "dead", reason: "no report" };
        if (!r.cardMessageId && item.attempts < 5)
          return { status: "later", at: new Date(deps.now().getTime() + 2000) };
        // A photo is the report too: it waits until the group restricts saving content (P4).
        if (!(await isProtected(chatId)))
          return { status: "later", at: new Date(deps.now().getTime() + PROTECTION_CACHE_MS) };
        // By file id: a new send from the bot, never a forward, so nothing links back to the reporter (P2).
        const sent = await bot.api.sendPhoto(chatId, p.ref, {
          caption: desk.t("staff.photoCaption", { code: r.code, k: p.index, n: p.count }),
          protect_content: true,
          ...(r.cardMessageId
            ? { reply_parameters: { message_id: r.cardMessageId, allow_sending_without_reply: true } }
            : {}),
        });
        await reports.addStaffThread(chatId, sent.message_id, r.id, deps.now());
        return { status: "sent", messageId: sent.message_id };
      }
      if (p.type === "notice") {
        const text = desk.notice(p.key, p.vars ?? {});
        const chart = p.chart ? await chartOf([chatId]) : null;
        if (chart) {
          const sent = await sendChart(chatId, chart, text);
          return { status: "sent", messageId: sent };
        }
        const sent = await bot.api.sendMessage(chatId, text, { protect_content: true });
        if (p.reportId) await reports.addStaffThread(chatId, sent.message_id, p.reportId, deps.now());
        return { status: "sent", messageId: sent.message_id };
      }
      return { status: "dead", reason: "not for staff" };
    } catch (err) {
      const to = err instanceof GrammyError ? err.parameters.migrate_to_chat_id : undefined;
      if (to !== undefined) {
        staffChats.delete(chatId);
        staffChats.add(to);
        await deps.onMigrate(chatId, to);
        // The queue now points at the new id; take it again from there.
        return { status: "later", at: deps.now() };
      }
      throw toChannelError(err);
    }
  }

  return { install, deliver, sign, selfCheck, paused };
}
