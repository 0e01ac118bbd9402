/** Bot API failures → the core's few ChannelError kinds, with a retryable flag. */
import { GrammyError, HttpError, type Transformer } from "grammy";
import { ChannelError } from "../../core/channel.ts";

export function toChannelError(err: unknown): unknown {
  if (err instanceof GrammyError) {
    const { error_code: code, method } = err;
    if (code === 429) return new ChannelError("throttled", true, err.parameters.retry_after ?? 5, code, method);
    if (code === 403) return new ChannelError("blocked", false, undefined, code, method);
    if (code >= 500) return new ChannelError("unavailable", true, undefined, code, method);
    return new ChannelError("bad_request", false, undefined, code, method);
  }
  if (err instanceof HttpError) return new ChannelError("unavailable", true);
  return err;
}

/**
 * Whether a failed deletion is finished anyway (decision 9). A 400 (the message is gone, too old,
 * or not deletable) or a 403 (the person blocked the bot: nothing can be deleted there any more)
 * will never succeed; a flood wait, a 5xx, a network failure or anything unknown may, later.
 */
export function deleteFailure(err: unknown): { final: boolean; retryAfterMs?: number; batchRefused?: boolean } {
  if (err instanceof GrammyError) {
    if (err.error_code === 429) return { final: false, retryAfterMs: (err.parameters.retry_after ?? 5) * 1000 };
    if (err.error_code === 403) return { final: true };
    // Any other 4xx will not change by waiting: for a batch call that means the batch, not the
    // messages (deleteMessages skips what it cannot delete), so they are tried one by one.
    if (err.error_code >= 400 && err.error_code < 500)
      return { final: err.error_code === 400, batchRefused: err.method === "deleteMessages" };
  }
  return { final: false };
}

/** Telegram answers 400 "message is not modified" when an edit changes nothing: that is success. */
export function isNotModified(err: unknown): boolean {
  return err instanceof GrammyError && err.error_code === 400 && /not modified/i.test(err.description);
}

/**
 * A request that got no answer at all (a dropped or reset connection: grammY's HttpError) is sent
 * again, quickly and at most twice, so a network blip does not leave a person without a reply.
 * The auto-retry plugin would wait 3 s and more and never stop; this stays inside R3's ~10 s.
 * The cost: if Telegram did carry out the first request, the person may see a screen twice.
 */
const refused = (err: HttpError) => {
  const inner = err.error as { code?: string; cause?: { code?: string } } | undefined;
  return (inner?.code ?? inner?.cause?.code) === "ECONNREFUSED";
};

export function retryDroppedRequests(delaysMs: number[] = [250, 1000]): Transformer {
  return async (prev, method, payload, signal) => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await prev(method, payload, signal);
      } catch (err) {
        // A refused connection is an answer (nothing listens there), not a dropped request: the
        // outbox retries what it queued, and a wrong TELEGRAM_API_ROOT is named at once at start.
        if (!(err instanceof HttpError) || attempt >= delaysMs.length || signal?.aborted || refused(err)) throw err;
        await new Promise((r) => setTimeout(r, delaysMs[attempt]));
      }
    }
  };
}
