/** The emulator's answers about the bot and its chats: profile texts, a member's status, a chat. */

/** getMyName/Description/ShortDescription read, setMy… write, by language code. */
export function profileCall(
  profile: Record<string, Record<string, unknown>>,
  method: string,
  p: Record<string, any>,
): unknown {
  const field = /Name$/.test(method) ? "name" : /ShortDescription$/.test(method) ? "short_description" : "description";
  if (method.startsWith("get")) return { [field]: profile[p.language_code ?? ""]?.[field] ?? "" };
  (profile[p.language_code ?? ""] ??= {})[field] = p[field];
  return true;
}

/** getChatMember as Telegram answers it: an administrator comes with its rights. */
export function chatMember(status: string, userId: number) {
  const user = { id: userId, is_bot: false, first_name: `Staff${userId}` };
  if (status !== "administrator") return { status, user, ...(status === "creator" ? { is_anonymous: false } : {}) };
  return {
    status,
    user,
    can_be_edited: false,
    is_anonymous: false,
    can_manage_chat: true,
    can_delete_messages: true,
    can_manage_video_chats: false,
    can_restrict_members: false,
    can_promote_members: false,
    can_change_info: false,
    can_invite_users: false,
    can_post_stories: false,
    can_edit_stories: false,
    can_delete_stories: false,
  };
}

export function chatInfo(chatId: number, protectedContent: boolean) {
  return {
    id: chatId,
    type: chatId < 0 ? "supergroup" : "private",
    title: "Staff",
    has_protected_content: protectedContent || undefined,
  };
}
