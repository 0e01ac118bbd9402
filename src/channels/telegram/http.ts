/**
 * The `fetch` grammY calls the Bot API with. grammY's default in Node is
 * node-fetch, whose Request, Headers and Body objects the benchmark showed at
 * about a tenth of the bot's CPU per call, and Node's http client after it at
 * a quarter (README "Benchmark"). grammY needs little of fetch: a POST with a
 * string body (or a stream, for file uploads), its abort signal honoured, and
 * the answer's JSON. String bodies go over wire.ts's kept connections; streams
 * over Node's http(s) client on one keep-alive agent. HTTP statuses are not
 * errors here: the Bot API says what failed in the JSON, and grammY reads it.
 */
import http from "node:http";
import https from "node:https";
import type { Readable } from "node:stream";
import type { ApiClientOptions } from "grammy";
import { Pool } from "./wire.ts";

type Fetch = NonNullable<ApiClientOptions["fetch"]>;
type Init = { method?: string; headers?: Record<string, string>; body?: string | Readable; signal?: AbortSignal | null };

/** Below the usual limit of 1,024 open files, with room for the database and the rest. */
export const MAX_CONNECTIONS = 512;
/** For file uploads (streamed bodies), beside those. */
export const UPLOAD_CONNECTIONS = 8;

export function botApiFetch(apiRoot: string, maxConnections = MAX_CONNECTIONS): Fetch {
  const secure = apiRoot.startsWith("https:");
  // JSON calls (all but file uploads) go over wire.ts's connections; uploads, and any URL off the
  // API root, over Node's client below.
  const origin = new URL(apiRoot).origin;
  const pool = new Pool(origin, { maxConnections });
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
