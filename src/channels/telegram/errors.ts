/** Bot API failures → the core's few ChannelError kinds, with a retryable flag. */
import { GrammyError, HttpError } from "grammy";
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

/** Telegram answers 400 "message is not modified" when an edit changes nothing: that is success. */
export function isNotModified(err: unknown): boolean {
  return err instanceof GrammyError && err.error_code === 400 && /not modified/i.test(err.description);
}
