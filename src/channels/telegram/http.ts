/**
 * How grammY reaches the Bot API: `botApiClient` (a transformer for JSON
 * calls, and the `fetch` below for file uploads). grammY's default fetch in
 * Node is node-fetch, whose Request, Headers and Body objects the benchmark
 * showed at about a tenth of the bot's CPU per call (bench/README.md). grammY
 * needs little of fetch: a POST with a string body (or a stream, for file
 * uploads), its abort signal honoured, and the answer's JSON. Both go over
 * pool.ts's kept undici connections. HTTP statuses are not errors here: the
 * Bot API says what failed in the JSON, and grammY reads it.
 */
import type { Readable } from "node:stream";
import { HttpError, type ApiClientOptions, type Transformer } from "grammy";
import { Pool } from "./pool.ts";

type Fetch = NonNullable<ApiClientOptions["fetch"]>;
type Init = {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Readable;
  signal?: AbortSignal | null;
};

/** Below the usual limit of 1,024 open files, with room for the database and the rest. */
export const MAX_CONNECTIONS = 512;

export interface BotApiClient {
  /** For grammY's own client (`client.fetch`): file uploads, and anything the call below hands back. */
  fetch: Fetch;
  /** grammY's calls with JSON payloads, straight onto the kept connections. Install it first, under the other transformers. */
  call: Transformer;
}

/**
 * The Bot API client: grammY's `fetch`, and a transformer that makes JSON
 * calls itself. grammY's own call builds, for every call, an abort controller
 * (a polyfill with its own event target), a timer, three promises and a race,
 * and a fetch-shaped answer around it: in the profile, 7% of the bot's CPU and
 * an eighth of what it allocated per message (bench/README.md). The
 * transformer does what that path does for a JSON payload (the same body,
 * nulls left out; an answer that is not JSON, or a failed connection, becomes
 * grammY's HttpError, so the retries above it work as before) with one promise,
 * and the pool's timeout (pool.ts CALL_TIMEOUT_MS) in place of grammY's 500 s.
 * Payloads with files, and anything JSON.stringify refuses, go on to grammY's
 * call unchanged. (That call can also answer inside a webhook's reply; Qorgau
 * does not turn that on.)
 */
export function botApiClient(
  apiRoot: string,
  token: string,
  options: { maxConnections?: number; timeoutMs?: number; proxy?: string } = {},
): BotApiClient {
  const origin = new URL(apiRoot).origin;
  const pool = new Pool(origin, {
    maxConnections: options.maxConnections ?? MAX_CONNECTIONS,
    timeoutMs: options.timeoutMs,
    proxy: options.proxy,
  });
  const fetch = botApiFetch(apiRoot, pool);
  const prefix = `${apiRoot.slice(origin.length)}/bot${token}/`;
  const headers = { "content-type": "application/json" };
  const call: Transformer = async (prev, method, payload, signal) => {
    let body: string;
    try {
      body = toJson(payload ?? {});
    } catch {
      return prev(method, payload, signal); // an InputFile (its toJSON throws): grammY uploads it
    }
    try {
      // grammY types its signal with its own shim; at run time it is an AbortSignal with addEventListener.
      return JSON.parse(await pool.post(prefix + method, headers, body, signal as unknown as AbortSignal | undefined));
    } catch (err) {
      throw new HttpError(`Network request for '${method}' failed!`, err);
    }
  };
  return { fetch, call };
}

/** grammY's JSON body: null values left out. Only a body that has a null in it pays for the replacer. */
function toJson(payload: unknown): string {
  const plain = JSON.stringify(payload);
  return plain.includes("null") ? JSON.stringify(payload, (_, v: unknown) => v ?? undefined) : plain;
}

export function botApiFetch(apiRoot: string, poolOrMax: Pool | number = MAX_CONNECTIONS): Fetch {
  // Every call of the API root, JSON or a file's stream, goes over the pool's kept connections; a URL
  // off the API root (none is expected) is refused rather than sent around the pool.
  const origin = new URL(apiRoot).origin;
  const pool = typeof poolOrMax === "number" ? new Pool(origin, { maxConnections: poolOrMax }) : poolOrMax;
  const answer = (text: string) => ({ json: async () => JSON.parse(text) as unknown });
  const fetchJson = async (url: string, init: Init = {}) => {
    if (!url.startsWith(origin + "/")) throw new Error("a request off the Bot API root");
    if (init.signal?.aborted) throw new Error("the request was aborted before it was sent");
    return answer(await pool.post(url.slice(origin.length), init.headers, init.body ?? "", init.signal));
  };
  return fetchJson as unknown as Fetch;
}
