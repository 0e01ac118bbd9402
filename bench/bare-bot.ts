/**
 * The framework's ceiling for the benchmark: a bare grammY bot on the runner
 * that echoes every text with a keyboard and answers every button. Same
 * emulator, same network delay, no database. BARE_FETCH=qorgau gives it the
 * Bot API client Qorgau uses (src/channels/telegram/http.ts and pool.ts)
 * instead of grammY's default.
 */
import { Bot } from "grammy";
import { run } from "@grammyjs/runner";
import { botApiClient } from "../src/channels/telegram/http.ts";

const apiRoot = process.env.TELEGRAM_API_ROOT!;
const own = process.env.BARE_FETCH === "qorgau" ? botApiClient(apiRoot, process.env.BOT_TOKEN!) : undefined;
const bot = new Bot(process.env.BOT_TOKEN!, { client: { apiRoot, ...(own ? { fetch: own.fetch } : {}) } });
if (own) bot.api.config.use(own.call);
const keyboard = {
  inline_keyboard: [
    [
      { text: "A", callback_data: "a" },
      { text: "B", callback_data: "b" },
    ],
  ],
};
bot.on("message:text", (ctx) => ctx.reply(ctx.message.text.slice(0, 100), { reply_markup: keyboard }));
bot.on("callback_query:data", async (ctx) => {
  await ctx.answerCallbackQuery();
  await ctx.reply(`pressed ${ctx.callbackQuery.data}`, { reply_markup: keyboard });
});
const runner = run(bot, { runner: { fetch: { timeout: 25 } } });
process.once("SIGTERM", () => void runner.stop().then(() => process.exit(0)));
