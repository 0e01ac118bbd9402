/**
 * Wires config → database → i18n → directory → dialog → channels → jobs, and
 * shuts them down in reverse on SIGINT/SIGTERM.
 */
import fs from "node:fs";
import path from "node:path";
import { ConfigError, loadConfig, type Config } from "./config.ts";
import { createDialog, type Dialog } from "./core/dialog.ts";
import { createTranslator } from "./core/i18n.ts";
import {
  createDirectory,
  createLiveDirectory,
  loadSeed,
  validateDirectory,
  visibleEntries,
} from "./core/directory/search.ts";
import { createDirectoryStore, type DirectoryStore } from "./db/directory.ts";
import { createDirectoryDesk, type DirectoryDesk } from "./core/directory/desk.ts";
import { runAutoErase, runExpiry, runRetention } from "./core/safety/housekeeping.ts";
import { createTownMatcher } from "./core/directory/towns.ts";
import { DatabaseStartError, openDatabase, type OpenedDatabase } from "./db/open.ts";
import { createSqliteStore } from "./db/session-store.ts";
import { projectRoot } from "./paths.ts";
import { createTelegramChannel, type TelegramChannel } from "./channels/telegram/index.ts";
import { startJobs, type Jobs } from "./jobs/index.ts";
import { createTelegramStaff } from "./channels/telegram/staff.ts";
import { createReportStore } from "./db/reports.ts";
import type { Sealer } from "./core/safety/sealer.ts";
import { createStaffDesk } from "./core/reports/staff.ts";
import { createOutboxWorker, type DeliverResult, type OutboxWorker } from "./core/reports/outbox.ts";
import { createReporterDelivery } from "./core/reports/delivery.ts";
import { runDigest, runEscalation } from "./core/reports/jobs.ts";
import type { OutboxItem, ReportStore } from "./core/reports/types.ts";
import http from "node:http";
import { acquireLock, InstanceLockError } from "./db/lock.ts";
import { devKey, KeySourceError } from "./keys.ts";
import { backupDatabase, purgeSetAside, verifyBackup } from "./db/backup.ts";
import { createWhatsAppChannel, type WaClientLike, type WhatsAppChannel } from "./channels/whatsapp/index.ts";
import { createWhatsAppClient } from "./channels/whatsapp/client.ts";
import type { Channel } from "./core/channel.ts";
import type { Address, ChannelName } from "./core/types.ts";

/** A channel that cannot go on ends the process non-zero, so the service manager restarts it (R6). */
function defaultFatal(reason: string): never {
  process.stderr.write(`Qorgau is stopping: ${reason}\n`);
  process.exit(3);
}
import { createLogger, describeError, type Logger } from "./logger.ts";

export interface App {
  config: Config;
  db: OpenedDatabase;
  dialog: Dialog;
  telegram?: TelegramChannel;
  whatsapp?: WhatsAppChannel;
  jobs: Jobs;
  logger: Logger;
  reports: ReportStore;
  outbox: OutboxWorker;
  sealer: Sealer;
  /** The directory in the database and its staff desk (issue 16). */
  directory: { store: DirectoryStore; desk: DirectoryDesk };
  /** The start-up check of the staff groups, done and its notices queued (tests wait for it). */
  selfChecked: Promise<void>;
  stop(): Promise<void>;
}

/**
 * The sealing key: ENCRYPTION_KEY, or outside production the development key (src/keys.ts). The
 * database checks it against the key it was made with (src/db/keyring.ts).
 */
export function encryptionKey(config: Config, logger: Logger): Buffer {
  if (!config.encryptionKeyGenerated) return config.encryptionKey;
  try {
    return devKey(process.env, path.join(path.dirname(config.databaseFile), "dev-encryption.key"), (line, moved) => {
      logger.warn("crypto.dev_key_made", { reason: moved ? "moved out of the database folder" : "made" });
      process.stderr.write(line);
    });
  } catch (err) {
    if (err instanceof KeySourceError) throw new DatabaseStartError(err.message);
    throw err;
  }
}

/** Every staff chat: the admin chat and the region chats. */
export function staffChatsOf(config: Config): number[] {
  return [
    ...new Set([
      ...(config.adminChatId !== null ? [config.adminChatId] : []),
      ...Object.values(config.regionChats),
      ...(config.directoryChatId !== null ? [config.directoryChatId] : []),
    ]),
  ];
}

export interface StartOptions {
  now?: () => Date;
  jobs?: boolean;
  /** A whatsapp-web.js client to use instead of the real one (tests pass a fake). */
  whatsappClient?: {
    client: WaClientLike;
    makeLocation: (lat: number, lon: number, name: string, address: string) => unknown;
  };
  /** Called when WhatsApp, the only channel, is down; by default the process exits non-zero so the service manager restarts it (R6). */
  onFatal?: (reason: string) => void;
  /** Offline time before WhatsApp counts as down (tests shorten it). */
  whatsappOfflineLimitMs?: number;
  /** Waits between WhatsApp reconnects (tests shorten them). */
  whatsappReconnectDelaysMs?: number[];
  /**
   * Called after the app stopped itself in order (Telegram refused the token: 409 or 401), with the
   * exit code and the line that says why; by default the process exits with that code.
   */
  onStopped?: (code: number, line: string) => void;
  /** How long a staff group's "restrict saving content" setting is trusted before it is read again (tests shorten it). */
  staffProtectionCacheMs?: number;
}

export async function startApp(config: Config, logger: Logger, opts: StartOptions = {}): Promise<App> {
  const now = opts.now ?? (() => new Date());
  // The sourced file seeds the directory in the database; it must be sound before it is merged in.
  const seed = loadSeed();
  const problems = validateDirectory(createDirectory(seed.entries, seed.places));
  if (problems.length) throw new Error(`the crisis-center directory has problems:\n  - ${problems.join("\n  - ")}`);
  const translator = createTranslator(undefined, (key) => logger.warn("i18n.missing", { reason: key }));
  // One writer per database (T2), checked before the database is touched.
  const releaseLock = acquireLock(config.databaseFile);
  // The nightly backup must be able to write: found now, not at 03:30 in a job's log.
  if (opts.jobs !== false) {
    try {
      fs.mkdirSync(config.backupDir, { recursive: true, mode: 0o700 });
      fs.accessSync(config.backupDir, fs.constants.W_OK);
    } catch (err) {
      releaseLock();
      throw new DatabaseStartError(
        `BACKUP_DIR: cannot write the backup folder ${config.backupDir} (${(err as { code?: string }).code ?? "error"}); create it for the service user, or point BACKUP_DIR elsewhere`,
      );
    }
  }
  let db: OpenedDatabase;
  let key: Buffer;
  try {
    key = encryptionKey(config, logger);
    db = await openDatabase(config.databaseFile, key);
  } catch (err) {
    releaseLock();
    throw err;
  }
  logger.info("db.ready", { migrations: db.applied.length });
  // What every message touches runs on prepared statements; staff work and jobs go through Prisma (see src/db/hot.ts).
  const store = createSqliteStore(db);
  // The directory lives in the database (issue 16): the file's new entries and unedited fields come in; staff edits stay.
  const directoryStore = createDirectoryStore(db.prisma);
  const synced = await directoryStore.syncSeed(seed.entries, now());
  if (synced.added || synced.updated) logger.info("directory.seeded", { count: synced.added + synced.updated });
  const directory = createLiveDirectory(visibleEntries(await directoryStore.all(), now()), seed.places);
  const sealer = db.sealer;
  const reports = createReportStore(db, sealer);
  // Staff groups Telegram moved to new ids stay moved across restarts (ST6).
  const moves = await reports.chatMoves();
  const moved = (id: number) => moves.get(id) ?? id;
  // Staff triage happens in Telegram groups: without Telegram there is no queue to send to.
  const staffChats = config.telegramEnabled ? staffChatsOf(config).map(moved) : [];

  /** The app's own stop, once it exists (see the end). */
  let stopApp: () => Promise<void> = async () => undefined;
  let stoppingForGood = false;
  /** Telegram will not go on: one clear line, the orderly stop (drain, outbox, database), then exit. */
  const stopForGood = (code: number, line: string) => {
    if (stoppingForGood) return;
    stoppingForGood = true;
    logger.error("app.stopping", { reason: "telegram refused" });
    process.stderr.write(`Qorgau is stopping: ${line}\n`);
    void stopApp()
      .catch((err) => logger.error("app.stop_failed", describeError(err)))
      .finally(() => (opts.onStopped ?? ((c: number) => process.exit(c)))(code, line));
  };

  const channels: Partial<Record<ChannelName, Channel>> = {};
  const telegram = config.telegramEnabled
    ? createTelegramChannel({
        config,
        translator,
        logger,
        firstSeen: (key, urgent) => store.firstSeen(key, now(), urgent),
        onFatal: (line) => stopForGood(2, line),
      })
    : undefined;
  if (telegram) channels.telegram = telegram.channel;
  let whatsapp: WhatsAppChannel | undefined;
  /** When the current WhatsApp outage began: staff are told once per outage. */
  let whatsappDownSince: Date | undefined;
  if (config.whatsappEnabled) {
    const wa = opts.whatsappClient ?? (await createWhatsAppClient(config));
    whatsapp = createWhatsAppChannel({
      ...wa,
      translator,
      directory,
      sealer,
      logger,
      now,
      sendDelayMs: config.whatsappSendDelayMs,
      revokeHours: config.whatsappRevokeHours,
      telegramHandle: config.telegramHandle,
      offlineLimitMs: opts.whatsappOfflineLimitMs,
      reconnectDelaysMs: opts.whatsappReconnectDelaysMs,
      // A failure stays in its channel (decision 8): with Telegram on, WhatsApp reconnects by itself
      // and staff hear it once per outage; alone, the process ends so the service manager restarts it.
      onDown: (reason) => {
        if (!config.telegramEnabled) return (opts.onFatal ?? defaultFatal)(reason);
        whatsappDownSince ??= now();
        const chat = staffChats[0];
        if (chat === undefined) return;
        reports
          .enqueue(
            [
              {
                dedupeKey: `notice:whatsapp_down:${whatsappDownSince.getTime()}`,
                target: `staff:${chat}`,
                payload: { type: "notice", key: "staff.notice.whatsappDown", vars: { reason } },
              },
            ],
            now(),
          )
          .then(kick, (err) => logger.error("whatsapp.notice_failed", describeError(err)));
      },
      onUp: () => {
        whatsappDownSince = undefined;
      },
    });
    channels.whatsapp = whatsapp.channel;
  }
  let outbox: OutboxWorker | undefined;
  const kick = () => outbox?.kick();
  /** The regions whose group a staff chat is. */
  const regionsOf = (chatId: number) =>
    Object.entries(config.regionChats)
      .filter(([, c]) => moved(c) === chatId)
      .map(([r]) => r);
  const directoryDesk = createDirectoryDesk({
    store: directoryStore,
    directory,
    translator,
    staffLocale: config.staffLocale,
    now,
    async enqueue(items) {
      await reports.enqueue(items, now());
      kick();
    },
    audit: (actor, action, result) => reports.audit({ actor, action, reportId: null, result }, now()),
    chatFor(regionId) {
      if (!config.telegramEnabled) return null;
      const chat = (regionId ? config.regionChats[regionId] : undefined) ?? config.directoryChatId;
      return chat === undefined || chat === null ? null : moved(chat);
    },
    scopeOf: (chatId) =>
      config.directoryChatId !== null && moved(config.directoryChatId) === chatId ? "all" : regionsOf(chatId),
    zoneOf(chatId) {
      const countries = new Set(regionsOf(chatId).map((r) => directory.place(r)?.country));
      if (countries.size === 1) return countries.has("KG") ? "Asia/Bishkek" : "Asia/Almaty";
      return config.staffTimeZone ?? "Asia/Almaty";
    },
  });
  const desk = createStaffDesk({
    reports,
    directory,
    translator,
    staffLocale: config.staffLocale,
    now,
    kick,
    sources: (since) => store.sourceCounts(since),
    timeZone: config.staffTimeZone ?? "Asia/Almaty",
  });
  const staff =
    telegram &&
    createTelegramStaff({
      bot: telegram.bot,
      desk,
      reports,
      sealer,
      staffChats,
      supervisors: config.staffSupervisors,
      directory: { desk: directoryDesk, store: directoryStore },
      protectionCacheMs: opts.staffProtectionCacheMs,
      logger,
      now,
      resolveChat: moved,
      kick,
      async onMigrate(from, to) {
        await reports.moveStaffChat(from, to, now());
        moves.set(from, to);
        for (const [k, v] of moves) if (v === from) moves.set(k, to);
        staffChats.splice(staffChats.indexOf(from), 1, to);
        await reports.enqueue(
          [
            {
              dedupeKey: `notice:migrated:${from}:${to}`,
              target: `staff:${to}`,
              payload: { type: "notice", key: "staff.notice.migrated" },
            },
          ],
          now(),
        );
        logger.warn("staff.chat_migrated", { reason: "migrate_to_chat_id" });
      },
    });
  const toReporter = createReporterDelivery({
    reports,
    store,
    channels,
    translator,
    sign: (v) => sealer.sign(`k:${v}`),
    now,
    // The dialog (made below) owns the eraser; a delivery only runs once everything is wired.
    eraser: { epoch: (a) => dialog.eraser.epoch(a), adopt: (a, l, refs) => dialog.eraser.adopt(a, l, refs) },
  });
  /** An answer that met a long flood wait, now that it is over (R3). */
  const toPerson = async (item: OutboxItem): Promise<DeliverResult> => {
    const p = item.payload;
    if (p.type !== "answer") return { status: "dead", reason: "not an answer" };
    await dialog.deliverDeferred(p.address as Address, p.screen, p.locale, new Date(p.since), p.expireMinutes);
    return { status: "sent", messageId: null };
  };
  outbox = createOutboxWorker({
    reports,
    now,
    logger,
    deliver: (item) =>
      item.target.startsWith("relay:")
        ? toReporter(item)
        : item.target.startsWith("answer:")
          ? toPerson(item)
          : staff
            ? staff.deliver(item)
            : Promise.resolve({ status: "later" as const, at: new Date(now().getTime() + 60_000) }),
    // Telegram allows about 20 messages a minute to one group (A2.1).
    minIntervalMs: (target) => (target.startsWith("staff:") ? 60_000 / config.groupMessagesPerMinute : 0),
    async onDead(item, reason) {
      const reportId = item.target.startsWith("relay:")
        ? item.target.slice("relay:".length)
        : item.unreadable
          ? undefined
          : (item.payload as { reportId?: string }).reportId;
      const r = reportId ? await reports.byId(reportId) : null;
      // A reporter who blocked the bot or deleted the chat: staff hear it once, and retries stop (R2).
      if (reason === "blocked") {
        if (r && item.target.startsWith("relay:"))
          await reports.enqueue(
            [
              {
                dedupeKey: `notice:undeliverable:${r.id}`,
                target: `staff:${r.staffChatId}`,
                payload: { type: "notice", key: "staff.notice.undeliverable", vars: { code: r.code }, reportId: r.id },
              },
            ],
            now(),
          );
        return;
      }
      // Anything else given up on (unreadable, refused, too many attempts) is a fault staff must
      // hear of: once per reason and hour, content-free (the outbox row is already logged). Never
      // for this notice itself, which would loop on a group the bot cannot write to.
      if (!item.unreadable && item.payload.type === "notice" && item.payload.key === "staff.notice.outboxDead") return;
      const chat = r?.staffChatId ?? staffChats[0];
      if (chat === undefined) return;
      const hour = Math.floor(now().getTime() / 3600_000);
      await reports.enqueue(
        [
          {
            dedupeKey: `notice:outbox_dead:${reason}:${hour}`,
            target: `staff:${chat}`,
            payload: {
              type: "notice",
              key: "staff.notice.outboxDead",
              vars: { code: r?.code ?? "—", what: item.kind, reason },
              reportId: r?.id,
            },
          },
        ],
        now(),
      );
      kick();
    },
  });
  const worker = outbox;
  const dialog = createDialog({
    store,
    translator,
    directory,
    towns: createTownMatcher(directory.places),
    channels,
    logger,
    now,
    config,
    reports: {
      reports,
      staffChatFor: (regionId) => {
        if (!staffChats.length) return null;
        const chat = (regionId ? config.regionChats[regionId] : undefined) ?? config.adminChatId ?? staffChats[0];
        return chat === undefined || chat === null ? null : moved(chat);
      },
      async deliverNow(keys) {
        // The confirmation follows the commit at once; if Telegram is slow, the worker finishes it later.
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([worker.send(keys), new Promise((r) => (timer = setTimeout(r, 10_000)))]);
        clearTimeout(timer);
      },
      caseWordAfterHours: config.caseWordAfterHours,
      reportsPerDay: config.reportsPerDay,
      directoryChat: config.telegramEnabled && config.directoryChatId !== null ? moved(config.directoryChatId) : null,
      staffLocale: config.staffLocale,
      async defer(address, screen, locale, since, notBefore, expireMinutes) {
        // Keyed by the chat key, never the address (which travels sealed in the payload).
        await reports.enqueue(
          [
            {
              dedupeKey: `answer:${crypto.randomUUID()}`,
              target: `answer:${sealer.chatKey(address)}`,
              payload: { type: "answer", address, screen, locale, since: since.toISOString(), expireMinutes },
            },
          ],
          notBefore,
        );
        kick();
      },
      sign: (v) => sealer.sign(`k:${v}`),
      kick,
    },
  });
  telegram?.attach(dialog, staff?.install);
  whatsapp?.attach(dialog);

  const resumed = await dialog.eraser.resume();
  if (resumed) logger.info("exit.resumed", { count: resumed });

  const jobs = startJobs(
    opts.jobs === false
      ? []
      : [
          { name: "auto-erase", schedule: "* * * * *", run: () => runAutoErase({ store, now, wipe: dialog.wipe }) },
          { name: "retention", schedule: "7 * * * *", run: () => runRetention({ store, now, limits: config }) },
          { name: "expiry", schedule: "* * * * *", run: () => runExpiry({ store, now, channels }) },
          {
            name: "report-retention",
            schedule: "17 * * * *",
            run: () =>
              reports.purge(now(), {
                relayDays: config.relayRetentionDays,
                textDays: config.reportTextDays,
                draftHours: 24,
                auditDays: 365,
              }),
          },
          {
            name: "escalation",
            schedule: "* * * * *",
            run: () =>
              runEscalation({
                reports,
                desk,
                now,
                urgentMinutes: config.escalateUrgentMinutes,
                normalHours: config.escalateNormalHours,
                kick,
              }),
          },
          // Staff edits reload at once; this catches an import from the command line, pending
          // confirmations not yet posted, and phones that just passed a year unconfirmed.
          {
            name: "directory-sync",
            schedule: "* * * * *",
            async run() {
              await directoryDesk.reload();
              await directoryDesk.postPending();
              await directoryStore.purgePrompts(now());
            },
          },
          {
            name: "directory-check",
            schedule: config.directoryCheckCron,
            run: () => directoryDesk.checkRound().then(() => undefined),
          },
          {
            name: "digest",
            schedule: config.digestCron,
            run: () =>
              runDigest({
                reports,
                chats: staffChats,
                now,
                kick,
                sources: (since, until) => store.sourceCounts(since, until),
              }),
          },
          // A database that db:restore set aside holds reports and chats as they were: not kept for ever.
          {
            name: "restore-aside",
            schedule: "37 * * * *",
            run: async () => purgeSetAside(config.databaseFile, config.restoreKeepDays, now()).length,
          },
          {
            name: "backup",
            schedule: config.backupCron,
            async run() {
              const b = backupDatabase(config.databaseFile, config.backupDir, now(), config.backupKeep, key);
              // Decrypted beside the database (which holds the same), never in the backup folder.
              const check = verifyBackup(b.file, path.join(path.dirname(config.databaseFile), ".restore-check"), key);
              if (check.integrity !== "ok" || JSON.stringify(check.counts) !== JSON.stringify(b.counts))
                throw new Error("the new backup did not restore cleanly");
              return 1;
            },
          },
        ],
    { timezone: config.cronTimezone, logger },
  );
  try {
    await telegram?.start();
    await whatsapp?.start();
  } catch (err) {
    await jobs.stop();
    await dialog.eraser.stop();
    await db.close();
    releaseLock();
    throw err;
  }
  // Deliveries still pending from before a restart go out now (R1).
  worker.start();
  const health = config.healthPort
    ? await startHealth(config.healthPort, { db, reports, telegram, whatsapp })
    : undefined;
  const selfChecked = staff && staffChats.length ? staff.selfCheck().then(() => worker.kick()) : Promise.resolve();

  let stopping: Promise<void> | undefined;
  const app: App = {
    config,
    db,
    dialog,
    telegram,
    whatsapp,
    jobs,
    logger,
    reports,
    outbox: worker,
    sealer,
    directory: { store: directoryStore, desk: directoryDesk },
    selfChecked,
    stop() {
      stopping ??= (async () => {
        await telegram?.stop();
        await whatsapp?.stop();
        await jobs.stop();
        await dialog.eraser.stop();
        if (health) await new Promise<void>((resolve) => health.close(() => resolve()));
        await worker.stop();
        await db.close();
        releaseLock();
      })();
      return stopping;
    },
  };
  stopApp = () => app.stop();
  return app;
}

/**
 * GET /health on 127.0.0.1: the database answers, the outbox backlog, each
 * channel's state. 200 when all is well, 503 otherwise. No content, no ids.
 */
async function startHealth(
  port: number,
  parts: { db: OpenedDatabase; reports: ReportStore; telegram?: TelegramChannel; whatsapp?: WhatsAppChannel },
): Promise<http.Server> {
  const server = http.createServer(async (req, res) => {
    if (req.url !== "/health") {
      res.writeHead(404).end();
      return;
    }
    let db = "ok";
    let pending = -1;
    try {
      await parts.db.prisma.$queryRawUnsafe("SELECT 1");
      pending = await parts.reports.pendingCount();
    } catch {
      db = "failing";
    }
    const telegram = parts.telegram ? (parts.telegram.isRunning() ? "running" : "stopped") : "off";
    const whatsapp = parts.whatsapp ? parts.whatsapp.state() : "off";
    // WhatsApp reconnecting is shown, but only fails the check when it is the only channel.
    const ok = db === "ok" && telegram !== "stopped" && !(telegram === "off" && whatsapp === "reconnecting");
    res
      .writeHead(ok ? 200 : 503, { "content-type": "application/json" })
      .end(JSON.stringify({ status: ok ? "ok" : "degraded", db, outbox_pending: pending, telegram, whatsapp }));
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return server;
}

async function main() {
  const envFile = path.join(projectRoot, ".env");
  if (fs.existsSync(envFile)) process.loadEnvFile(envFile);
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger({ level: config.logLevel, secrets: [config.botToken] });
  let app: App;
  try {
    app = await startApp(config, logger);
  } catch (err) {
    if (err instanceof InstanceLockError) {
      process.stderr.write(`Qorgau did not start: ${err.message}\n`);
      process.exit(2);
    }
    if (err instanceof DatabaseStartError) {
      logger.error("db.refused", { error: err.name });
      process.stderr.write(`Qorgau did not start: ${err.message}\n`);
    } else {
      logger.error("start.failed", describeError(err));
      process.stderr.write(`Qorgau did not start: ${(err as Error).message}\n`);
    }
    process.exit(1);
  }
  const shutdown = (signal: string) => {
    logger.info("shutdown", { reason: signal });
    app.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGINT", () => shutdown("SIGINT"));
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  // A bug that escapes every handler is logged with safe fields and ends in the same orderly stop.
  let crashed = false;
  const crash = (event: string) => (err: unknown) => {
    logger.error(event, describeError(err));
    if (crashed) return;
    crashed = true;
    app.stop().finally(() => process.exit(1));
  };
  process.on("unhandledRejection", crash("process.unhandled_rejection"));
  process.on("uncaughtException", crash("process.uncaught_exception"));
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith("src/main.ts")) {
  void main();
}
