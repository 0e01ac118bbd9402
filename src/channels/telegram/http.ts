/**
 * How grammY reaches the Bot API: `botApiClient` (a transformer for JSON
 * calls, and the `fetch` below for the rest). grammY's default fetch in Node is
 * node-fetch, whose Request, Headers and Body objects the benchmark showed at
 * about a tenth of the bot's CPU per call, and Node's http client after it at
 * a quarter (bench/README.md). grammY needs little of fetch: a POST with a
 * string body (or a stream, for file uploads), its abort signal honoured, and
 * the answer's JSON. String bodies go over wire.ts's kept connections; streams
 * over Node's http(s) client on one keep-alive agent. HTTP statuses are not
 * errors here: the Bot API says what failed in the JSON, and grammY reads it.
 */
import http from "node:http";
import https from "node:https";
import type { Readable } from "node:stream";
import { HttpError, type ApiClientOptions, type Transformer } from "grammy";
import { Pool } from "./wire.ts";

type Fetch = NonNullable<ApiClientOptions["fetch"]>;
type Init = { method?: string; headers?: Record<string, string>; body?: string | Readable; signal?: AbortSignal | null };

/** Below the usual limit of 1,024 open files, with room for the database and the rest. */
export const MAX_CONNECTIONS = 512;
/** For file uploads (streamed bodies), beside those. */
export const UPLOAD_CONNECTIONS = 8;

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
 * and the pool's timeout (wire.ts CALL_TIMEOUT_MS) in place of grammY's 500 s.
 * Payloads with files, and anything JSON.stringify refuses, go on to grammY's
 * call unchanged. (That call can also answer inside a webhook's reply; Qorgau
 * does not turn that on.)
 */
export function botApiClient(apiRoot: string, token: string, options: { maxConnections?: number; timeoutMs?: number } = {}): BotApiClient {
  const origin = new URL(apiRoot).origin;
  const pool = new Pool(origin, { maxConnections: options.maxConnections ?? MAX_CONNECTIONS, timeoutMs: options.timeoutMs });
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
  const secure = apiRoot.startsWith("https:");
  // JSON calls (all but file uploads) go over wire.ts's connections; uploads, and any URL off the
  // API root, over Node's client below.
  const origin = new URL(apiRoot).origin;
  const pool = typeof poolOrMax === "number" ? new Pool(origin, { maxConnections: poolOrMax }) : poolOrMax;
  const maxConnections = pool.maxConnections;
  // Connections are kept and reused, at most `maxConnections` (more calls wait for one): with Node's
  // default of 256 kept idle but no cap, a burst opened hundreds more, and each was closed again
  // after it (over HTTPS, a TLS handshake each time). Uploads are few: a few connections of their own.
  const uploads = Math.min(UPLOAD_CONNECTIONS, maxConnections);
  const options = { keepAlive: true, maxSockets: uploads, maxFreeSockets: uploads };
  const agent = secure ? new https.Agent(options) : new http.Agent(options);
  const request = secure ? https.request : http.request;

  const answer = (text: string) => ({ json: async () => JSON.parse(text) as unknown });
  const fetchJson = (url: string, init: Init = {}) => {
    if (typeof init.body === "string" && (init.method ?? "GET") === "POST" && url.startsWith(origin + "/")) {
      return pool.post(url.slice(origin.length), init.headers, init.body, init.signal).then(answer);
    }
    return new Promise<{ json(): Promise<unknown> }>((resolve, reject) => {
      const { signal, body } = init;
      if (signal?.aborted) return reject(new Error("the request was aborted before it was sent"));
      const req = request(url, { method: init.method ?? "GET", headers: init.headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", reject);
        res.on("aborted", () => reject(new Error(`the answer to ${url.slice(url.lastIndexOf("/") + 1)} was cut off`)));
        res.on("end", () => resolve(answer(Buffer.concat(chunks).toString("utf8"))));
      });
      req.on("error", reject);
      if (signal) {
        const abort = () => req.destroy(new Error("the request was aborted"));
        signal.addEventListener("abort", abort, { once: true });
        req.on("close", () => signal.removeEventListener("abort", abort));
      }
      if (body === undefined || typeof body === "string") req.end(body);
      else body.on("error", (err) => req.destroy(err)).pipe(req);
    });
  };
  return fetchJson as unknown as Fetch;
}
