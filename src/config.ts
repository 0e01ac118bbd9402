/**
 * The only reader of the environment. Everything is validated once at start;
 * each problem is reported with the variable's name and how to fix it.
 */
import { databaseFileFromUrl } from "./db/url.ts";

export const LOCALES = ["kk", "ky", "ru"] as const;
export type Locale = (typeof LOCALES)[number];
export const isLocale = (v: unknown): v is Locale => LOCALES.includes(v as Locale);

export interface Config {
  /** Telegram bot token from BotFather. */
  botToken: string;
  /** Bot API root; Telegram's by default, a local emulator in tests and demos. */
  telegramApiRoot: string;
  /** Absolute path of the SQLite file. */
  databaseFile: string;
  /** Staff group for reports; null while reports are not set up. */
  adminChatId: number | null;
  defaultLocale: Locale;
  /** Per-language override of the harmless message left after quick exit. */
  coverText: Partial<Record<Locale, string>>;
  /** Push name, descriptions and commands from the locales to Telegram at start. */
  syncBotProfile: boolean;
  /** Sessions (language, dialog step) are forgotten after this much silence (P7). */
  sessionTtlHours: number;
  /** Message ids are kept this long so quick exit can delete them; Telegram allows 48 h. */
  messageTrackHours: number;
  /** Centers farther than this are "not near": the national lines come first. */
  nearRadiusKm: number;
  /** Timezone the scheduled jobs run in. */
  cronTimezone: string;
  logLevel: "debug" | "info" | "warn" | "error";
  production: boolean;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Configuration is not valid:\n${problems.map((p) => `  - ${p}`).join("\n")}\nSee .env.example for every setting.`);
    this.name = "ConfigError";
  }
}

type Env = Record<string, string | undefined>;

export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const str = (name: string) => {
    const v = env[name]?.trim();
    return v ? v : undefined;
  };
  const num = (name: string, fallback: number, min: number, max: number): number => {
    const raw = str(name);
    if (raw === undefined) return fallback;
    const v = Number(raw);
    if (!Number.isFinite(v) || v < min || v > max) {
      problems.push(`${name} must be a number from ${min} to ${max}, got "${raw}"`);
      return fallback;
    }
    return v;
  };
  const bool = (name: string, fallback: boolean): boolean => {
    const raw = str(name)?.toLowerCase();
    if (raw === undefined) return fallback;
    if (["1", "true", "yes", "on"].includes(raw)) return true;
    if (["0", "false", "no", "off"].includes(raw)) return false;
    problems.push(`${name} must be true or false, got "${raw}"`);
    return fallback;
  };

  const botToken = str("BOT_TOKEN") ?? "";
  if (!botToken) {
    problems.push("BOT_TOKEN is missing: create a bot with @BotFather (/newbot) and put its token in .env");
  } else if (!/^\d{5,}:[A-Za-z0-9_-]{20,}$/.test(botToken)) {
    problems.push("BOT_TOKEN does not look like a BotFather token (digits, a colon, then 20+ letters, digits, _ or -)");
  }

  const telegramApiRoot = (str("TELEGRAM_API_ROOT") ?? "https://api.telegram.org").replace(/\/+$/, "");
  if (!/^https?:\/\/[^\s/]+/.test(telegramApiRoot)) {
    problems.push(`TELEGRAM_API_ROOT must be an http(s) URL, got "${telegramApiRoot}"`);
  }

  let databaseFile = "";
  try {
    databaseFile = databaseFileFromUrl(str("DATABASE_URL"));
  } catch (err) {
    problems.push((err as Error).message);
  }

  let adminChatId: number | null = null;
  const adminRaw = str("ADMIN_CHAT_ID");
  if (adminRaw !== undefined) {
    if (!/^-?\d+$/.test(adminRaw)) problems.push(`ADMIN_CHAT_ID must be a Telegram chat id such as -1001234567890, got "${adminRaw}"`);
    else adminChatId = Number(adminRaw);
  }

  const localeRaw = str("DEFAULT_LOCALE") ?? "ru";
  if (!isLocale(localeRaw)) problems.push(`DEFAULT_LOCALE must be one of ${LOCALES.join(", ")}, got "${localeRaw}"`);

  const coverText: Partial<Record<Locale, string>> = {};
  for (const l of LOCALES) {
    const v = str(`COVER_TEXT_${l.toUpperCase()}`);
    if (v) coverText[l] = v.slice(0, 200);
  }

  const cronTimezone = str("CRON_TIMEZONE") ?? "UTC";
  try {
    new Intl.DateTimeFormat("en", { timeZone: cronTimezone });
  } catch {
    problems.push(`CRON_TIMEZONE must be an IANA zone such as UTC or Asia/Almaty, got "${cronTimezone}"`);
  }

  const logLevel = (str("LOG_LEVEL") ?? "info") as Config["logLevel"];
  if (!["debug", "info", "warn", "error"].includes(logLevel)) problems.push(`LOG_LEVEL must be debug, info, warn or error, got "${logLevel}"`);

  const config: Config = {
    botToken,
    telegramApiRoot,
    databaseFile,
    adminChatId,
    defaultLocale: isLocale(localeRaw) ? localeRaw : "ru",
    coverText,
    syncBotProfile: bool("SYNC_BOT_PROFILE", true),
    sessionTtlHours: num("SESSION_TTL_HOURS", 24, 1, 24 * 30),
    messageTrackHours: num("MESSAGE_TRACK_HOURS", 47.5, 1, 48),
    nearRadiusKm: num("NEAR_RADIUS_KM", 150, 5, 2000),
    cronTimezone,
    logLevel,
    production: str("NODE_ENV") === "production",
  };
  if (problems.length) throw new ConfigError(problems);
  return config;
}
