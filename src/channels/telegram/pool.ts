/**
 * Kept connections to the Bot API on undici, Node's own HTTP client (a Pool
 * per API root, or a ProxyAgent when TELEGRAM_PROXY is set). It replaced a
 * parser of our own: a safety service's traffic belongs on a client that is
 * maintained and fuzzed elsewhere (issue 15; figures in bench/README.md).
 *
 * What the bot asks of it: a POST with a string or streamed body, its abort
 * signal honoured, the answer as text; at most `maxConnections` open at once
 * (more calls wait for one), idle ones closed after `IDLE_MS` and never keeping
 * the process alive, and a call with no answer failing after `CALL_TIMEOUT_MS`.
 * HTTP statuses are not errors here: the Bot API says what failed in its JSON.
 */
import type { Readable } from "node:stream";
import { errors, Pool as UndiciPool, ProxyAgent, type Dispatcher } from "undici";

/** Idle connections are closed after this long (the server may close them sooner). */
export const IDLE_MS = 30_000;
/** A call with no complete answer in this long fails (grammY's own default is 500 s). */
export const CALL_TIMEOUT_MS = 60_000;

export interface PoolOptions {
  maxConnections?: number;
  /** `CALL_TIMEOUT_MS` unless given (tests give less). */
  timeoutMs?: number;
  /** An http(s) proxy URL every call goes through (TELEGRAM_PROXY). */
  proxy?: string;
}

export class Pool {
  readonly maxConnections: number;
  private readonly timeoutMs: number;
  private readonly dispatcher: Dispatcher;

  constructor(
    readonly origin: string,
    options: PoolOptions = {},
  ) {
    this.maxConnections = options.maxConnections ?? 512;
    this.timeoutMs = options.timeoutMs ?? CALL_TIMEOUT_MS;
    const common = {
      connections: this.maxConnections,
      keepAliveTimeout: IDLE_MS,
      keepAliveMaxTimeout: IDLE_MS,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
    };
    this.dispatcher = options.proxy
      ? new ProxyAgent({ uri: options.proxy, ...common })
      : new UndiciPool(origin, common);
  }

  /**
   * POSTs to a path of this origin; resolves with the answer's text whatever its status. Through
   * undici's dispatch with a plain handler, not request(): the benchmark put request()'s readable
   * stream around each answer at a large share of the client's cost (bench/README.md).
   */
  post(
    path: string,
    headers: Record<string, string> | undefined,
    body: string | Readable,
    signal?: AbortSignal | null,
  ): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      if (signal?.aborted) return reject(new Error("the request was aborted before it was sent"));
      const chunks: Buffer[] = [];
      let abortCall: ((err: Error) => void) | undefined;
      const onAbort = () => abortCall?.(new Error("the request was aborted"));
      const settle = () => signal?.removeEventListener("abort", onAbort);
      signal?.addEventListener("abort", onAbort, { once: true });
      const fail = (err: Error) => {
        settle();
        reject(
          err instanceof errors.HeadersTimeoutError || err instanceof errors.BodyTimeoutError
            ? new Error(`no answer within ${this.timeoutMs / 1000} s`, { cause: err })
            : err,
        );
      };
      const handler: Dispatcher.DispatchHandler = {
        onConnect: (abort) => {
          abortCall = abort as (err: Error) => void;
          if (signal?.aborted) abortCall(new Error("the request was aborted"));
        },
        onHeaders: () => true,
        onData: (chunk) => (chunks.push(chunk), true),
        onComplete: () => {
          settle();
          resolve(chunks.length === 1 ? chunks[0]!.toString("utf8") : Buffer.concat(chunks).toString("utf8"));
        },
        onError: fail,
      };
      this.dispatcher.dispatch({ origin: this.origin, path, method: "POST", headers, body }, handler);
    });
  }

  close(): Promise<void> {
    return this.dispatcher.close();
  }
}
