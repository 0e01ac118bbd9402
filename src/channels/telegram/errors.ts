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

export function retryDroppedRequests(delaysMs: number[] = DROPPED_DELAYS_MS): Transformer {
  return (prev, method, payload, signal) => sendRetryingDropped(prev, method, payload, signal, delaysMs);
}
const DROPPED_DELAYS_MS = [250, 1000];

type Call = Parameters<Transformer>;

async function sendRetryingDropped(
  prev: Call[0],
  method: Call[1],
  payload: Call[2],
  signal: Call[3],
  delaysMs: number[],
): Promise<Awaited<ReturnType<Transformer>>> {
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
}

/**
 * Everything the bot sends into a group (staff groups are the only groups it writes to) goes out
 * with protect_content, whichever code sends it (P4): a card, a note, a chart, a directory prompt.
 */
function protectedPayload<P>(method: string, payload: P): P {
  const p = payload as { chat_id?: number | string; protect_content?: boolean };
  const group =
    typeof p.chat_id === "number" ? p.chat_id < 0 : typeof p.chat_id === "string" && /^[-@]/.test(p.chat_id);
  if (group && p.protect_content !== true && /^(send(?!ChatAction)|copyMessages?$|forwardMessages?$)/.test(method))
    return { ...payload, protect_content: true };
  return payload;
}

/**
 * The one layer of the bot's own above grammY's retries: group sends protected (P4), a dropped
 * request sent again (above), and a failed poll reported (the runner retries polls silently).
 * One transformer instead of three: each layer is a promise and a closure on every call.
 */
export function guardCalls(onPollFailed: (err: unknown) => void): Transformer {
  return (prev, method, payload, signal) => {
    const sent = sendRetryingDropped(prev, method, protectedPayload(method, payload), signal, DROPPED_DELAYS_MS);
    if (method !== "getUpdates") return sent;
    return sent.catch((err: unknown) => {
      if (!signal?.aborted) onPollFailed(err);
      throw err;
    });
  };
}
