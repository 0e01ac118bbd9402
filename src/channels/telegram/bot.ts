/**
 * grammY's Bot, lighter per update, for the two things Qorgau does not use.
 *
 * - **One Api.** grammY's `handleUpdate` makes a new Api for each update (a client with its own call
 *   closure, options and fetch wrapper, a Proxy, and every installed transformer chained again), so
 *   that a webhook reply envelope and transformers installed on one context stay that context's.
 *   Qorgau's transformers are installed once on `bot.api`, and it never answers inside a webhook
 *   reply. So a context gets `bot.api`; an update that comes with a webhook envelope takes grammY's
 *   own path (and still the front door below).
 * - **A front door outside the composer.** Each `bot.use` is a layer that every update waits
 *   through: grammY nests the layers as async functions, the last installed outermost, so an
 *   update keeps one suspended frame, closure and promise open in every layer of the chain (those
 *   installed after the one that handles it too) for as long as its round trips take (under load,
 *   long enough to reach the old generation). The channel's own work on every update (dedupe,
 *   arrival, per-chat order, the dialog) is one function set with `front`; it calls `next` only
 *   for the updates it leaves to the composer (staff chats, and the catch-all answer to a stray
 *   button).
 */
import { Bot, BotError, Context, type MiddlewareFn } from "grammy";
import type { Update } from "grammy/types";

const leaf = () => Promise.resolve();

export class QorgauBot extends Bot {
  #front: MiddlewareFn<Context> | undefined;
  #entry: MiddlewareFn<Context> | undefined;

  /** Runs before the composer's middleware, on every update; its `next` runs the composer. */
  front(mw: MiddlewareFn<Context>): void {
    this.#front = mw;
    this.#entry = undefined;
  }

  override middleware(): MiddlewareFn<Context> {
    const front = this.#front;
    if (!front) return super.middleware();
    // The composer's chain is looked up on each update: staff middleware is installed after the front.
    return (this.#entry ??= (ctx, next) => front(ctx, () => super.middleware()(ctx, next) as Promise<void>));
  }

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
