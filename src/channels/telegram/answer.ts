import type { Context } from "grammy";

/**
 * The answer to a button press, at most once (Telegram takes one), never longer than a toast holds,
 * and never throwing: a press whose answer fails has still been handled.
 */
export function answerOnce(ctx: Context): (text: string) => Promise<void> {
  let answered = false;
  return async (text: string) => {
    if (answered) return;
    answered = true;
    await ctx.answerCallbackQuery(text ? { text: text.slice(0, 200) } : undefined).catch(() => undefined);
  };
}
