/**
 * Structured JSON logger that cannot leak what people wrote (P5).
 *
 * Only fields on an allowlist are written: ids of updates, method names, error
 * codes, counts, durations. Strings are scrubbed of anything that looks like a
 * token, a phone number or a chat id. Message text has no field to go into.
 */
export type Level = "debug" | "info" | "warn" | "error";
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

const ALLOWED = new Set([
  "job", "task", "count", "deleted", "failed", "ms", "method", "error_code", "error", "update_id", "cid",
  "handler", "channel", "state", "locale", "reason", "attempt", "port", "file", "version", "mode", "pending", "migrations",
  // A library's own words about a failure of its own (a browser that would not start): never built from what people wrote.
  "detail",
]);

export interface Logger {
  debug(event: string, fields?: Record<string, unknown>): void;
  info(event: string, fields?: Record<string, unknown>): void;
  warn(event: string, fields?: Record<string, unknown>): void;
  error(event: string, fields?: Record<string, unknown>): void;
  child(bindings: Record<string, unknown>): Logger;
}

/** Removes tokens, long digit runs (chat ids, phones) and anything after a colon-token shape. */
export function scrub(value: string, secrets: readonly string[] = []): string {
  let out = value;
  for (const s of secrets) if (s) out = out.split(s).join("[secret]");
  return out
    .replace(/\d{5,}:[A-Za-z0-9_-]{20,}/g, "[token]")
    .replace(/\+?\d[\d\s()-]{4,}\d/g, "[number]")
    .slice(0, 200);
}

export interface LoggerOptions {
  level?: Level;
  secrets?: readonly string[];
  write?: (line: string) => void;
}

export function createLogger(opts: LoggerOptions = {}, bindings: Record<string, unknown> = {}): Logger {
  const min = ORDER[opts.level ?? "info"];
  const write = opts.write ?? ((line: string) => process.stdout.write(line + "\n"));
  const secrets = opts.secrets ?? [];
  const emit = (level: Level, event: string, fields: Record<string, unknown> = {}) => {
    if (ORDER[level] < min) return;
    const rec: Record<string, unknown> = { t: new Date().toISOString(), level, event: scrub(event, secrets) };
    for (const [k, v] of Object.entries({ ...bindings, ...fields })) {
      if (!ALLOWED.has(k) || v === undefined) continue;
      rec[k] = typeof v === "string" ? scrub(v, secrets) : typeof v === "number" || typeof v === "boolean" ? v : scrub(String(v), secrets);
    }
    write(JSON.stringify(rec));
  };
  return {
    debug: (e, f) => emit("debug", e, f),
    info: (e, f) => emit("info", e, f),
    warn: (e, f) => emit("warn", e, f),
    error: (e, f) => emit("error", e, f),
    child: (b) => createLogger(opts, { ...bindings, ...b }),
  };
}

/**
 * The safe summary of an error: its class and, for Bot API errors, the method
 * and code. Never the message or payload, which may carry user text (A3.1).
 */
export function describeError(err: unknown): Record<string, unknown> {
  const e = err as { name?: string; method?: string; error_code?: number; error?: unknown; code?: string; kind?: string };
  const out: Record<string, unknown> = { error: e?.name ?? typeof err };
  if (typeof e?.method === "string") out.method = e.method;
  if (typeof e?.error_code === "number") out.error_code = e.error_code;
  else if (typeof e?.code === "string") out.error_code = e.code;
  if (e?.name === "HttpError") out.reason = "network";
  if (e?.name === "ChannelError" && typeof e.kind === "string") out.reason = e.kind;
  return out;
}
