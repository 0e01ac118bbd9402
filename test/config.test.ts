import { describe, expect, it } from "vitest";
import path from "node:path";
import { ConfigError, loadConfig } from "../src/config.ts";
import { projectRoot } from "../src/paths.ts";

const TOKEN = "123456789:AAExampleExampleExampleExample12";

describe("configuration is validated at start", () => {
  it("names every problem at once, with how to fix it", () => {
    let err: unknown;
    try {
      loadConfig({
        DATABASE_URL: "postgres://x",
        ADMIN_CHAT_ID: "staff",
        DEFAULT_LOCALE: "en",
        NEAR_RADIUS_KM: "-3",
        CRON_TIMEZONE: "Mars/Base",
        BACKUP_CRON: "99 3 * * *",
        DIGEST_CRON: "every day",
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems.join("\n");
    expect(problems).toContain("BOT_TOKEN is missing: create a bot with @BotFather");
    expect(problems).toContain('DATABASE_URL must start with "file:"');
    expect(problems).toContain("ADMIN_CHAT_ID must be a Telegram chat id");
    expect(problems).toContain("DEFAULT_LOCALE must be one of kk, ky, ru");
    expect(problems).toContain("NEAR_RADIUS_KM must be a number from 5 to 2000");
    expect(problems).toContain("CRON_TIMEZONE must be an IANA zone");
    expect(problems).toContain(
      'BACKUP_CRON must be a cron expression such as "30 3 * * *" (minute hour day month weekday), got "99 3 * * *"',
    );
    expect(problems).toContain('DIGEST_CRON must be a cron expression such as "0 9 * * *"');
    expect((err as Error).message).toContain("See .env.example");
  });

  it("refuses to run reports in production without an encryption key, and says how to make one (T3)", () => {
    expect(() => loadConfig({ BOT_TOKEN: TOKEN, NODE_ENV: "production" })).toThrow(
      /ENCRYPTION_KEY is missing.*openssl rand -base64 32/s,
    );
    expect(() => loadConfig({ BOT_TOKEN: TOKEN, ENCRYPTION_KEY: "c2hvcnQ=" })).toThrow(/32 random bytes/);
    const c = loadConfig({
      BOT_TOKEN: TOKEN,
      NODE_ENV: "production",
      ENCRYPTION_KEY: Buffer.alloc(32, 1).toString("base64"),
      REGION_CHATS: "kz-shymkent=-1001,kg-chui=-1002",
    });
    expect(c.encryptionKey.length).toBe(32);
    expect(c.regionChats).toEqual({ "kz-shymkent": -1001, "kg-chui": -1002 });
    expect(() => loadConfig({ BOT_TOKEN: TOKEN, REGION_CHATS: "shymkent:-1001" })).toThrow(
      /REGION_CHATS must look like/,
    );
  });

  it("reads the staff supervisors, and names a malformed one", () => {
    expect(loadConfig({ BOT_TOKEN: TOKEN, STAFF_SUPERVISORS: " 123456789, 42 " }).staffSupervisors).toEqual([
      123456789, 42,
    ]);
    expect(loadConfig({ BOT_TOKEN: TOKEN }).staffSupervisors).toEqual([]);
    expect(() => loadConfig({ BOT_TOKEN: TOKEN, STAFF_SUPERVISORS: "@boss" })).toThrow(
      /STAFF_SUPERVISORS must be Telegram user ids separated by commas, such as "123456789,987654321", got "@boss"/,
    );
  });

  it("does not echo a malformed token back", () => {
    expect(() => loadConfig({ BOT_TOKEN: "not-a-token-secret-value" })).toThrow(/does not look like a BotFather token/);
    try {
      loadConfig({ BOT_TOKEN: "not-a-token-secret-value" });
    } catch (e) {
      expect((e as Error).message).not.toContain("secret-value");
    }
  });

  it("has working defaults: Telegram's API, an SQLite file under the project, Russian", () => {
    const c = loadConfig({ BOT_TOKEN: TOKEN });
    expect(c.telegramApiRoot).toBe("https://api.telegram.org");
    expect(c.databaseFile).toBe(path.join(projectRoot, "data", "qorgau.db"));
    expect(c.defaultLocale).toBe("ru");
    expect(c.adminChatId).toBeNull();
    expect(c.messageTrackHours).toBe(47.5);
    expect(c.sessionTtlHours).toBe(24);
  });

  it("every variable the code reads is documented in .env.example", async () => {
    const fs = await import("node:fs");
    const example = fs.readFileSync(path.join(projectRoot, ".env.example"), "utf8");
    const source = fs.readFileSync(path.join(projectRoot, "src", "config.ts"), "utf8");
    const read = new Set([...source.matchAll(/(?:str|num|bool)\("([A-Z_]+)"/g)].map((m) => m[1]!));
    for (const l of ["KK", "KY", "RU"]) read.add(`COVER_TEXT_${l}`);
    for (const name of read) expect(example, name).toMatch(new RegExp(`^${name}=`, "m"));
  });
});
