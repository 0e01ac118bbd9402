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
 * How a Bot API call is sent again, in the call itself (R3: a handler never waits much over ~10 s).
 *
 * - A request that got no answer at all (a dropped or reset connection: grammY's HttpError) is
 *   sent again, quickly and at most twice, so a network blip does not leave a person without a
 *   reply. The cost: if Telegram did carry out the first request, the person may see a screen twice.
 *   A refused connection is an answer (nothing listens there), not a dropped request: the outbox
 *   retries what it queued, and a wrong TELEGRAM_API_ROOT is named at once at start.
 * - A flood wait of up to 10 s is waited out and the call sent again, at most three times; a longer
 *   one is the caller's (the outbox sends what it queued when the wait is over). A 5xx is not
 *   retried here either: the outbox and the wipe's passes retry what they keep.
 *
 * This is what grammY's auto-retry plugin did for the bot with its options, in one loop of our own:
 * each transformer is a suspended frame, a closure and promises on every call, kept alive for the
 * call's round trip.
 */
export interface RetryPolicy {
  droppedDelaysMs: number[];
  maxFloodWaitS: number;
  maxFloodRetries: number;
}
export const RETRIES: RetryPolicy = { droppedDelaysMs: [250, 1000], maxFloodWaitS: 10, maxFloodRetries: 3 };

const refused = (err: HttpError) => {
  const inner = err.error as { code?: string; cause?: { code?: string } } | undefined;
  return (inner?.code ?? inner?.cause?.code) === "ECONNREFUSED";
};

type Call = Parameters<Transformer>;
type Answer = Awaited<ReturnType<Transformer>>;

/** The retries alone, as a transformer (tests). */
export function retryCalls(policy: RetryPolicy = RETRIES): Transformer {
  return (prev, method, payload, signal) => sendRetrying(prev, method, payload, signal, policy);
}

async function sendRetrying(
  prev: Call[0],
  method: Call[1],
  payload: Call[2],
  signal: Call[3],
  policy: RetryPolicy,
): Promise<Answer> {
  let dropped = 0;
  let waited = 0;
  for (;;) {
    let answer: Answer;
    try {
      answer = await prev(method, payload, signal);
    } catch (err) {
      if (!(err instanceof HttpError) || dropped >= policy.droppedDelaysMs.length || signal?.aborted || refused(err))
        throw err;
      await new Promise((r) => setTimeout(r, policy.droppedDelaysMs[dropped++]));
      continue;
    }
    const wait = answer.ok ? undefined : answer.parameters?.retry_after;
    if (typeof wait !== "number" || wait > policy.maxFloodWaitS || waited >= policy.maxFloodRetries) return answer;
    waited++;
    await pause(wait * 1000, signal);
  }
}

/** A wait that a stopping poll (its abort signal) cuts short with an error. */
function pause(ms: number, signal: Call[3]): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = signal as unknown as AbortSignal | undefined;
    if (s?.aborted) return reject(new Error("the request was aborted while waiting out a flood wait"));
    const timer = setTimeout(() => {
      s?.removeEventListener("abort", abort);
      resolve();
    }, ms);
    function abort() {
      clearTimeout(timer);
      reject(new Error("the request was aborted while waiting out a flood wait"));
    }
    s?.addEventListener("abort", abort, { once: true });
  });
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
 * The one layer of the bot's own above its Bot API client: group sends protected (P4), the retries
 * above, and a failed poll reported (the runner retries polls silently). All in one transformer:
 * each layer is a suspended frame, a promise and a closure on every call.
 */
export function guardCalls(onPollFailed: (err: unknown) => void, policy: RetryPolicy = RETRIES): Transformer {
  return (prev, method, payload, signal) => {
    const sent = sendRetrying(prev, method, protectedPayload(method, payload), signal, policy);
    if (method !== "getUpdates") return sent;
    return sent.catch((err: unknown) => {
      if (!signal?.aborted) onPollFailed(err);
      throw err;
    });
  };
}
