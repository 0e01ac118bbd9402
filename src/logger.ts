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
  "job",
  "task",
  "count",
  "deleted",
  "failed",
  "ms",
  "method",
  "error_code",
  "error",
  "update_id",
  "cid",
  "handler",
  "channel",
  "state",
  "locale",
  "reason",
  "attempt",
  "port",
  "file",
  "version",
  "mode",
  "pending",
  "migrations",
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
      rec[k] =
        typeof v === "string"
          ? scrub(v, secrets)
          : typeof v === "number" || typeof v === "boolean"
            ? v
            : scrub(String(v), secrets);
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
 * The safe summary of an error: its class, code and method, and — only where the words cannot
 * carry what people wrote — the reason in the library's own words (`detail`), so an operator can
 * tell why. Never a payload, never the message of an error of unknown kind (a parser's message
 * may quote its input), and the logger still scrubs numbers and tokens (A3.1, P5).
 *
 * - Bot API errors (GrammyError): Telegram's description where it is one of the known phrases
 *   ("Bad Request: message to delete not found", "Forbidden: bot was blocked by the user"), else
 *   only its kind ("Bad Request"): a description can quote what was sent.
 * - Network errors (HttpError): the system error's code (ECONNREFUSED, ETIMEDOUT), never its message
 *   (it may hold the request's URL, and the URL the token).
 * - System and SQLite errors (a code such as EACCES or SQLITE_BUSY): their message (a path, a
 *   constraint's name).
 */
/** Telegram's own phrases, matched from the start; whatever follows them is left out. */
const KNOWN_DESCRIPTION = new RegExp(
  "^(Bad Request|Forbidden|Conflict|Unauthorized|Not Found|Too Many Requests|Internal Server Error|Bad Gateway|Gateway Timeout)" +
    "(?=:|$)(: (message to delete not found|message can't be deleted(?: for everyone)?|message to edit not found|message is not modified|message text is empty|" +
    "message is too long|chat not found|user not found|can't parse entities|bot was blocked by the user|bot was kicked from the (?:group|supergroup) chat|" +
    "user is deactivated|terminated by other getUpdates request|can't use getUpdates method while webhook is active|retry after \\d+|" +
    "group chat was upgraded to a supergroup chat|not enough rights to [a-z ]+|message_ids must have 1-100 items|wrong file identifier))?",
);

export function describeError(err: unknown): Record<string, unknown> {
  const e = err as {
    name?: string;
    method?: string;
    error_code?: number;
    error?: unknown;
    code?: string;
    kind?: string;
    description?: unknown;
    message?: unknown;
  };
  const out: Record<string, unknown> = { error: e?.name ?? typeof err };
  if (typeof e?.method === "string") out.method = e.method;
  if (typeof e?.error_code === "number") out.error_code = e.error_code;
  else if (typeof e?.code === "string") out.error_code = e.code;
  if (e?.name === "HttpError") {
    out.reason = "network";
    const inner = e.error as { code?: unknown; name?: unknown; cause?: { code?: unknown } } | undefined;
    const code =
      typeof inner?.code === "string"
        ? inner.code
        : typeof inner?.cause?.code === "string"
          ? inner.cause.code
          : undefined;
    out.detail = code ?? (typeof inner?.name === "string" ? inner.name : "unknown");
  }
  if (e?.name === "ChannelError" && typeof e.kind === "string") out.reason = e.kind;
  if (e?.name === "GrammyError" && typeof e.description === "string") {
    const known = KNOWN_DESCRIPTION.exec(e.description);
    if (known) out.detail = known[0];
  } else if (typeof e?.code === "string" && /^(E[A-Z]+|SQLITE_[A-Z_]+)$/.test(e.code) && typeof e.message === "string")
    out.detail = e.message.split("\n")[0]!.slice(0, 160);
  return out;
}
