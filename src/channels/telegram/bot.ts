/**
 * grammY's Bot, with every update's context on the bot's own Api. grammY's `handleUpdate` makes a
 * new Api for each update (a client with its own call closure, options and fetch wrapper, a Proxy,
 * and every installed transformer chained again), so that a webhook reply envelope and
 * transformers installed on one context stay that context's. Qorgau uses neither: its transformers
 * are installed once on `bot.api`, and it never answers inside a webhook reply. So a context gets
 * `bot.api`; an update that comes with a webhook envelope takes grammY's own path unchanged.
 */
import { Bot, BotError, Context } from "grammy";
import type { Update } from "grammy/types";

const leaf = () => Promise.resolve();

export class QorgauBot extends Bot {
  override async handleUpdate(update: Update, envelope?: Parameters<Bot["handleUpdate"]>[1]): Promise<void> {
    if (envelope) return super.handleUpdate(update, envelope);
    const ctx = new Context(update, this.api, this.botInfo);
    try {
      await this.middleware()(ctx, leaf);
    } catch (err) {
      throw new BotError(err, ctx);
    }
  }
}
