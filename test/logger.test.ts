/**
 * Logs say why something failed, never what people wrote (P5, issue 15): dangerous payloads through
 * every kind of error the bot logs.
 */
import { GrammyError, HttpError } from "grammy";
import { describe, expect, it } from "vitest";
import { ChannelError } from "../src/core/channel.ts";
import { createLogger, describeError } from "../src/logger.ts";
import { waFailureDetail } from "../src/channels/whatsapp/index.ts";

const TOKEN = "123456789:AAEmulatorTokenForTestsOnly_0123456";
const CANARY = "CANARY-muzh-bil-menya";
const CHAT_ID = "778899001";
const PHONE = "+7 701 555 12 34";
const dangerous = `${CANARY} ${CHAT_ID} ${PHONE} https://api.telegram.org/bot${TOKEN}/sendMessage`;

const grammy = (description: string) =>
  new GrammyError(
    `Call to 'sendMessage' failed! (400: ${description})`,
    { ok: false, error_code: 400, description },
    "sendMessage",
    { chat_id: CHAT_ID, text: dangerous },
  );

const cases: Array<[string, unknown, string | undefined]> = [
  [
    "a Bot API error with a known description",
    grammy("Bad Request: message to delete not found"),
    "Bad Request: message to delete not found",
  ],
  [
    "a Bot API error quoting what was sent",
    grammy(`Bad Request: can't parse entities: Unsupported start tag "${dangerous}"`),
    "Bad Request: can't parse entities",
  ],
  ["a Bot API error of an unknown shape", grammy(`Bad Request: ${dangerous}`), "Bad Request"],
  [
    "a network error whose message holds the URL and the token",
    new HttpError(
      `Network request for 'sendMessage' failed!`,
      Object.assign(new Error(`request to ${dangerous} failed`), { code: "ECONNRESET" }),
    ),
    "ECONNRESET",
  ],
  [
    "a system error",
    Object.assign(new Error("EACCES: permission denied, open '/var/lib/qorgau/qorgau.db'"), { code: "EACCES" }),
    "EACCES: permission denied, open '/var/lib/qorgau/qorgau.db'",
  ],
  [
    "an SQLite error",
    Object.assign(new Error("SQLITE_CONSTRAINT_UNIQUE: UNIQUE constraint failed: reports.code"), {
      code: "SQLITE_CONSTRAINT_UNIQUE",
    }),
    "SQLITE_CONSTRAINT_UNIQUE: UNIQUE constraint failed: reports.code",
  ],
  [
    "a parser's error quoting its input",
    new SyntaxError(`Unexpected token in JSON at position 0: ${dangerous}`),
    undefined,
  ],
  ["an error of unknown kind", new Error(dangerous), undefined],
  ["a channel error", new ChannelError("throttled", true, 5, 429, "sendMessage"), undefined],
  ["a thrown string", dangerous, undefined],
];

describe("logs name the reason, never the content (P5)", () => {
  it.each(cases)("%s", (_name, err, detail) => {
    const lines: string[] = [];
    const log = createLogger({ level: "debug", secrets: [TOKEN], write: (l) => lines.push(l) });
    log.error("test.failed", { ...describeError(err), reason: "test" });
    const rec = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(rec.detail).toBe(detail);
    for (const bad of [CANARY, CHAT_ID, TOKEN, "701 555", "AAEmulator"]) expect(lines[0], bad).not.toContain(bad);
  });

  it("the WhatsApp library's reason keeps its first line, and the logger masks numbers in it", () => {
    const lines: string[] = [];
    const log = createLogger({ write: (l) => lines.push(l) });
    log.error("whatsapp.start_failed", {
      detail: waFailureDetail(new Error(`Protocol error: ${CHAT_ID}@c.us ${PHONE}\n    at ${CANARY}`)),
    });
    expect(lines[0]).toContain("Protocol error");
    for (const bad of [CANARY, CHAT_ID, "701 555"]) expect(lines[0], bad).not.toContain(bad);
  });
});
