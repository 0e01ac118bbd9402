/**
 * The only reader of the environment. Everything is validated once at start;
 * each problem is reported with the variable's name and how to fix it.
 */
import os from "node:os";
import path from "node:path";
import { validate as validateCron } from "node-cron";
import { projectRoot } from "./paths.ts";
import { databaseFileFromUrl } from "./db/url.ts";

export const LOCALES = ["kk", "ky", "ru"] as const;
export type Locale = (typeof LOCALES)[number];
export const isLocale = (v: unknown): v is Locale => LOCALES.includes(v as Locale);

export interface Config {
  /** Telegram bot token from BotFather. */
  botToken: string;
  /** Bot API root; Telegram's by default, a local emulator in tests and demos. */
  telegramApiRoot: string;
  /** An http(s) proxy every Bot API call goes through; null for none. */
  telegramProxy: string | null;
  /** Absolute path of the SQLite file. */
  databaseFile: string;
  /** Staff group for reports; null while reports are not set up. */
  adminChatId: number | null;
  /** Where directory signals go ("a number did not work"); ADMIN_CHAT_ID when unset. */
  directoryChatId: number | null;
  /** Telegram user ids of the supervisors: they approve staff and may act on reports others hold (decision 11). */
  staffSupervisors: number[];
  defaultLocale: Locale;
  /** Per-language override of the harmless message left after quick exit. */
  coverText: Partial<Record<Locale, string>>;
  /** Push name, descriptions and commands from the locales to Telegram at start. */
  syncBotProfile: boolean;
  /** Sessions (language, dialog step) are forgotten after this much silence (P7). */
  sessionTtlHours: number;
  /** Message ids are kept this long so quick exit can delete them; Telegram allows 48 h. */
  messageTrackHours: number;
  /** Longest wait between two tries of an unfinished deletion (a longer flood wait is cut to it). */
  deleteRetryMaxSeconds: number;
  /** Centers farther than this are "not near": the national lines come first. */
  nearRadiusKm: number;
  /** Timezone the scheduled jobs run in. */
  cronTimezone: string;
  /** TZ, when it names a zone: the time of staff groups that are not a region's. */
  staffTimeZone: string | null;
  logLevel: "debug" | "info" | "warn" | "error";
  production: boolean;
  /** 32-byte key sealing report texts, relay handles and drafts (AES-256-GCM). */
  encryptionKey: Buffer;
  /** True when the key was made for development and kept in data/ (never in production). */
  encryptionKeyGenerated: boolean;
  /** Region id → staff chat, for local committees; other reports go to adminChatId. */
  regionChats: Record<string, number>;
  /** Language of staff cards and notices. */
  staffLocale: Locale;
  /** Relay handles are erased this many days after a report is closed (P7). */
  relayRetentionDays: number;
  /** Report texts are erased this many days after the report is closed (P7). */
  reportTextDays: number;
  /** An unclaimed urgent report pings staff again after this many minutes (R8). */
  escalateUrgentMinutes: number;
  /** An unclaimed normal report pings staff again after this many hours (R8). */
  escalateNormalHours: number;
  /** Pace of messages to one staff group (Telegram allows about 20 a minute). */
  groupMessagesPerMinute: number;
  /** Updates one chat may send a minute before the bot stops answering it for a while (quick exit exempt). */
  chatUpdatesPerMinute: number;
  /** Reports one chat may send a day. */
  reportsPerDay: number;
  /** After this many hours of silence the case word is asked before a report is shown (S12). */
  caseWordAfterHours: number;
  /** The longest voice note a report takes, in seconds (issue 26). */
  voiceMaxSeconds: number;
  /** Cron expression of the daily digest to staff chats. */
  digestCron: string;
  /** When the directory's verification round posts due entries to staff (issue 16, D3). */
  directoryCheckCron: string;
  telegramEnabled: boolean;
  whatsappEnabled: boolean;
  /** LocalAuth folder: a live WhatsApp session, kept outside the project with mode 0700 (W3). */
  whatsappDataDir: string;
  /** The system Chromium that puppeteer drives; nothing downloads a browser. */
  chromePath: string;
  /** ffmpeg, to convert WhatsApp recordings that are not Opus in OGG into voice notes (issue 26). */
  ffmpegPath: string;
  /** Least time between two messages to one WhatsApp chat (ban risk, W2). */
  whatsappSendDelayMs: number;
  /** The bot's own WhatsApp messages younger than this are revoked on exit (S7). */
  whatsappRevokeHours: number;
  /** Shown in WhatsApp menus as the alternative if WhatsApp goes (W4), e.g. "@qorgau_bot". */
  telegramHandle: string | null;
  /** Where nightly online backups go, how many to keep, and when (D4). */
  backupDir: string;
  backupKeep: number;
  backupCron: string;
  /** Days a database replaced by `db:restore` is kept beside the live one before housekeeping removes it. */
  restoreKeepDays: number;
  /** Webhook mode (T1): the public HTTPS URL, the secret Telegram sends back, and the local port. Long polling when unset. */
  webhookUrl: string | null;
  webhookSecret: string | null;
  webhookPort: number;
  /** The address the webhook server listens on: loopback unless a reverse proxy elsewhere needs more. */
  webhookHost: string;
  /** Health endpoint on 127.0.0.1 (off when 0). */
  healthPort: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(
      `Configuration is not valid:\n${problems.map((p) => `  - ${p}`).join("\n")}\nSee .env.example for every setting.`,
    );
    this.name = "ConfigError";
  }
}

type Env = Record<string, string | undefined>;

/** RESTORE_KEEP_DAYS, read alone too: `db:restore` names it without the bot's whole configuration. */
export function restoreKeepDays(env: Env, problems?: string[]): number {
  const raw = env.RESTORE_KEEP_DAYS?.trim();
  if (!raw) return 7;
  const v = Number(raw);
  if (Number.isInteger(v) && v >= 1 && v <= 365) return v;
  const problem = `RESTORE_KEEP_DAYS must be a whole number of days from 1 to 365, got "${raw}"`;
  if (!problems) throw new ConfigError([problem]);
  problems.push(problem);
  return 7;
}

type Problems = string[];

/** Reads variables for loadConfig, noting each bad one in `problems` with how to fix it. */
function envReader(env: Env, problems: Problems) {
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

  /** A Telegram chat id, such as -1001234567890. */
  const chatId = (name: string): number | null => {
    const raw = str(name);
    if (raw === undefined) return null;
    if (/^-?\d+$/.test(raw)) return Number(raw);
    problems.push(`${name} must be a Telegram chat id such as -1001234567890, got "${raw}"`);
    return null;
  };
  // Checked here, with node-cron's own parser, before anything runs, so a bad one is named at once.
  const cronOf = (name: string, fallback: string) => {
    const v = str(name) ?? fallback;
    if (!/^(\S+\s+){4,5}\S+$/.test(v) || !validateCron(v))
      problems.push(
        `${name} must be a cron expression such as "${fallback}" (minute hour day month weekday), got "${v}"`,
      );
    return v;
  };
  return { str, num, bool, chatId, cronOf };
}
type Reader = ReturnType<typeof envReader>;

/** Which channels run, and how Telegram is reached. */
function channelSettings({ str, bool }: Reader, problems: Problems) {
  const telegramEnabled = bool("TELEGRAM_ENABLED", true);
  const whatsappEnabled = bool("WHATSAPP_ENABLED", false);
  if (!telegramEnabled && !whatsappEnabled)
    problems.push("TELEGRAM_ENABLED and WHATSAPP_ENABLED are both off: turn at least one channel on");
  const botToken = str("BOT_TOKEN") ?? "";
  if (!telegramEnabled) {
    // WhatsApp alone: no Telegram token needed.
  } else if (!botToken) {
    problems.push("BOT_TOKEN is missing: create a bot with @BotFather (/newbot) and put its token in .env");
  } else if (!/^\d{5,}:[A-Za-z0-9_-]{20,}$/.test(botToken)) {
    problems.push("BOT_TOKEN does not look like a BotFather token (digits, a colon, then 20+ letters, digits, _ or -)");
  }

  const telegramApiRoot = (str("TELEGRAM_API_ROOT") ?? "https://api.telegram.org").replace(/\/+$/, "");
  if (!/^https?:\/\/[^\s/]+/.test(telegramApiRoot)) {
    problems.push(`TELEGRAM_API_ROOT must be an http(s) URL, got "${telegramApiRoot}"`);
  }
  const telegramProxy = str("TELEGRAM_PROXY") ?? null;
  if (telegramProxy !== null && !/^https?:\/\/[^\s/]+/.test(telegramProxy))
    problems.push(
      `TELEGRAM_PROXY must be an http(s) proxy URL such as http://proxy.local:3128, got "${telegramProxy}"`,
    );
  return { telegramEnabled, whatsappEnabled, botToken, telegramApiRoot, telegramProxy };
}

/** The cron jobs' zone, and the zone staff groups that are not a region's read dates in. */
function timeZones({ str }: Reader, problems: Problems) {
  const cronTimezone = str("CRON_TIMEZONE") ?? "UTC";
  try {
    new Intl.DateTimeFormat("en", { timeZone: cronTimezone });
  } catch {
    problems.push(`CRON_TIMEZONE must be an IANA zone such as UTC or Asia/Almaty, got "${cronTimezone}"`);
  }

  // Staff groups that are not a region's read their dates in TZ when it names a zone (else Asia/Almaty).
  let staffTimeZone: string | null = str("TZ")?.replace(/^:/, "") ?? null;
  try {
    if (staffTimeZone) new Intl.DateTimeFormat("en", { timeZone: staffTimeZone });
  } catch {
    staffTimeZone = null;
  }
  return { cronTimezone, staffTimeZone };
}

/** The sealing key: ENCRYPTION_KEY, required in production; elsewhere a development key is made. */
function keySettings({ str }: Reader, problems: Problems) {
  let encryptionKey = Buffer.alloc(0);
  let encryptionKeyGenerated = false;
  const keyRaw = str("ENCRYPTION_KEY");
  if (keyRaw) {
    encryptionKey = Buffer.from(keyRaw, /^[0-9a-f]{64}$/i.test(keyRaw) ? "hex" : "base64");
    if (encryptionKey.length !== 32)
      problems.push("ENCRYPTION_KEY must be 32 random bytes, as base64 or hex: make one with  openssl rand -base64 32");
  } else if (str("NODE_ENV") === "production") {
    problems.push(
      "ENCRYPTION_KEY is missing: reports cannot be stored without it in production. Make one with  openssl rand -base64 32  and keep it outside the database and its backups",
    );
  } else {
    encryptionKeyGenerated = true;
  }
  return { encryptionKey, encryptionKeyGenerated };
}

/** Supervisors, region groups and the staff language. */
function staffSettings({ str }: Reader, problems: Problems) {
  const staffSupervisors: number[] = [];
  for (const part of (str("STAFF_SUPERVISORS") ?? "")
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean)) {
    if (!/^\d{1,15}$/.test(part))
      problems.push(
        `STAFF_SUPERVISORS must be Telegram user ids separated by commas, such as "123456789,987654321", got "${part}"`,
      );
    else staffSupervisors.push(Number(part));
  }

  const regionChats: Record<string, number> = {};
  for (const pair of (str("REGION_CHATS") ?? "")
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean)) {
    const m = /^([a-z0-9-]+)=(-?\d+)$/.exec(pair);
    if (!m)
      problems.push(`REGION_CHATS must look like "kz-shymkent=-1001234567890,kg-chui=-1009876543210", got "${pair}"`);
    else regionChats[m[1]!] = Number(m[2]);
  }
  const staffLocaleRaw = str("STAFF_LOCALE") ?? "ru";
  if (!isLocale(staffLocaleRaw))
    problems.push(`STAFF_LOCALE must be one of ${LOCALES.join(", ")}, got "${staffLocaleRaw}"`);
  return { staffSupervisors, regionChats, staffLocale: isLocale(staffLocaleRaw) ? staffLocaleRaw : ("ru" as Locale) };
}

/** WhatsApp's session folder, the Telegram handle WhatsApp texts name, and webhook mode. */
function outsideSettings({ str }: Reader, problems: Problems, whatsappEnabled: boolean) {
  const whatsappDataDir = path.resolve(str("WA_DATA_DIR") ?? path.join(os.homedir(), ".qorgau", "whatsapp"));
  if (whatsappEnabled && (whatsappDataDir + path.sep).startsWith(projectRoot + path.sep)) {
    problems.push(`WA_DATA_DIR must be outside the project folder (${projectRoot}): it holds a live WhatsApp session`);
  }
  const telegramHandle = str("TELEGRAM_HANDLE") ?? null;
  if (telegramHandle && !/^@[A-Za-z0-9_]{5,32}$/.test(telegramHandle))
    problems.push(`TELEGRAM_HANDLE must look like @qorgau_bot, got "${telegramHandle}"`);

  const webhookUrl = str("WEBHOOK_URL") ?? null;
  const webhookSecret = str("WEBHOOK_SECRET") ?? null;
  if (webhookUrl) {
    if (!/^https:\/\/[^\s]+$/.test(webhookUrl))
      problems.push(
        `WEBHOOK_URL must be an https:// URL (Telegram sends webhooks over HTTPS only), got "${webhookUrl}"`,
      );
    if (!webhookSecret || !/^[A-Za-z0-9_-]{32,256}$/.test(webhookSecret))
      problems.push(
        "WEBHOOK_SECRET must be 32 to 256 characters of A-Z a-z 0-9 _ - (make one with  openssl rand -hex 32)",
      );
  }
  return { whatsappDataDir, telegramHandle, webhookUrl, webhookSecret };
}

export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const r = envReader(env, problems);
  const { str, num, bool, chatId, cronOf } = r;
  const channels = channelSettings(r, problems);

  let databaseFile = "";
  try {
    databaseFile = databaseFileFromUrl(str("DATABASE_URL"));
  } catch (err) {
    problems.push((err as Error).message);
  }

  const adminChatId = chatId("ADMIN_CHAT_ID");

  const localeRaw = str("DEFAULT_LOCALE") ?? "ru";
  if (!isLocale(localeRaw)) problems.push(`DEFAULT_LOCALE must be one of ${LOCALES.join(", ")}, got "${localeRaw}"`);

  const coverText: Partial<Record<Locale, string>> = {};
  for (const l of LOCALES) {
    const v = str(`COVER_TEXT_${l.toUpperCase()}`);
    if (v) coverText[l] = v.slice(0, 200);
  }

  const logLevel = (str("LOG_LEVEL") ?? "info") as Config["logLevel"];
  if (!["debug", "info", "warn", "error"].includes(logLevel))
    problems.push(`LOG_LEVEL must be debug, info, warn or error, got "${logLevel}"`);

  const zones = timeZones(r, problems);
  const keys = keySettings(r, problems);
  const directoryChatId = chatId("DIRECTORY_CHAT_ID");
  const staff = staffSettings(r, problems);
  const digestCron = cronOf("DIGEST_CRON", "0 9 * * *");
  const directoryCheckCron = cronOf("DIRECTORY_CHECK_CRON", "0 10 * * 1");
  const backupCron = cronOf("BACKUP_CRON", "30 3 * * *");
  const outside = outsideSettings(r, problems, channels.whatsappEnabled);

  const config: Config = {
    ...channels,
    ...zones,
    ...keys,
    ...staff,
    ...outside,
    databaseFile,
    adminChatId,
    directoryChatId: directoryChatId ?? adminChatId,
    defaultLocale: isLocale(localeRaw) ? localeRaw : "ru",
    coverText,
    syncBotProfile: bool("SYNC_BOT_PROFILE", true),
    sessionTtlHours: num("SESSION_TTL_HOURS", 24, 1, 24 * 30),
    messageTrackHours: num("MESSAGE_TRACK_HOURS", 47.5, 1, 48),
    deleteRetryMaxSeconds: num("DELETE_RETRY_MAX_SECONDS", 300, 1, 3600),
    nearRadiusKm: num("NEAR_RADIUS_KM", 150, 5, 2000),
    logLevel,
    production: str("NODE_ENV") === "production",
    relayRetentionDays: num("RELAY_RETENTION_DAYS", 30, 0, 365),
    reportTextDays: num("REPORT_TEXT_DAYS", 90, 1, 3650),
    escalateUrgentMinutes: num("ESCALATE_URGENT_MINUTES", 10, 1, 24 * 60),
    escalateNormalHours: num("ESCALATE_NORMAL_HOURS", 12, 1, 24 * 7),
    // Above 20 only for a local Bot API server or tests: Telegram itself answers 429.
    groupMessagesPerMinute: num("GROUP_MESSAGES_PER_MINUTE", 20, 1, 6000),
    chatUpdatesPerMinute: num("CHAT_UPDATES_PER_MINUTE", 60, 5, 1000000),
    reportsPerDay: num("REPORTS_PER_DAY", 3, 1, 1000),
    caseWordAfterHours: num("CASE_WORD_AFTER_HOURS", 12, 1, 24 * 30),
    voiceMaxSeconds: num("VOICE_MAX_SECONDS", 300, 10, 1200),
    digestCron,
    directoryCheckCron,
    chromePath: str("CHROME_PATH") ?? "/usr/bin/chromium",
    ffmpegPath: str("FFMPEG_PATH") ?? "/usr/bin/ffmpeg",
    whatsappSendDelayMs: num("WA_SEND_DELAY_MS", 1200, 0, 60_000),
    whatsappRevokeHours: num("WA_REVOKE_HOURS", 48, 0, 60),
    backupDir: path.resolve(projectRoot, str("BACKUP_DIR") ?? path.join("data", "backups")),
    backupKeep: num("BACKUP_KEEP", 7, 1, 365),
    backupCron,
    restoreKeepDays: restoreKeepDays(env, problems),
    webhookPort: num("WEBHOOK_PORT", 8443, 1, 65535),
    webhookHost: str("WEBHOOK_HOST") ?? "127.0.0.1",
    healthPort: num("HEALTH_PORT", 0, 0, 65535),
  };
  if (problems.length) throw new ConfigError(problems);
  return config;
}
