/**
 * Staff chats on Telegram: report cards with signed buttons, replies to the
 * reporter, /queue, /report CODE, /stats, /staff. Members of the staff chat
 * see cards (getChatMember, cached briefly); acting on a report needs the
 * group's roster: approved by a supervisor named in STAFF_SUPERVISORS
 * (decision 11). Everyone else is refused with the reason and nothing changes
 * (ST1). A group that does not restrict saving content gets cards without the
 * report's text until it does (P4). Ordinary chatter is neither stored nor
 * logged (P6). Each concern is a file of this folder; this one installs them.
 */
import type { OutboxItem } from "../../../core/reports/types.ts";
import { describeError } from "../../../logger.ts";
import { staffCards } from "./cards.ts";
import { staffCommands } from "./commands.ts";
import { createStaffContext, type StaffContext, type TelegramStaffDeps } from "./context.ts";
import { deliver } from "./deliver.ts";
import { staffRoster } from "./roster.ts";

export { MEMBER_CACHE_MS, PROTECTION_CACHE_MS, splitText, type TelegramStaffDeps } from "./context.ts";

export function createTelegramStaff(deps: TelegramStaffDeps) {
  const s = createStaffContext(deps);
  const { bot, dir, staffChats } = s;

  function install() {
    // Directory buttons first: they are signed differently, and pressed in the same chats.
    if (dir)
      bot.filter((ctx) => ctx.callbackQuery?.data?.startsWith("d:") === true).on("callback_query:data", dir.onCallback);
    const staff = bot.filter((ctx) => ctx.chat !== undefined && staffChats.has(ctx.chat.id));
    // One composer per concern, in this order.
    staff.use(staffCards(s), staffCommands(s), staffRoster(s));
    // Staff buttons pressed anywhere else (forwarded cards, forged updates) are refused once.
    bot.filter((ctx) => ctx.callbackQuery?.data?.startsWith("s:") === true).use(staffCards(s));
  }

  return {
    install,
    deliver: (item: OutboxItem) => deliver(s, item),
    sign: s.sign,
    selfCheck: () => selfCheck(s),
    paused: s.paused,
  };
}

/**
 * At start: each staff chat should restrict saving content (P4), and the bot
 * should not hold invite or promote rights there (ST7). Problems are posted
 * to that chat and logged; every card and relay is sent protected anyway.
 */
export async function selfCheck(s: StaffContext): Promise<string[]> {
  const { deps, bot, reports, logger, staffChats, supervisors, protection, isProtected } = s;
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
