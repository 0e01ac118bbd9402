/**
 * The one wiring: config → database → directory → dialog → channels → staff desks → outbox → jobs,
 * and the stop in reverse. `main.ts` (the service), the playground and the test harnesses all build
 * the application here, so a new dependency is added in one place.
 */
import type { Config } from "./config.ts";
import { createDialog, type Dialog } from "./core/dialog.ts";
import { createTranslator, type Translator } from "./core/i18n.ts";
import type { DirectoryDesk } from "./core/directory/desk.ts";
import type { LiveDirectory } from "./core/directory/search.ts";
import type { DirectoryStore } from "./core/directory/store.ts";
import { createTownMatcher } from "./core/directory/towns.ts";
import { createReporterDelivery } from "./core/reports/delivery.ts";
import { createOutboxWorker, type OutboxWorker } from "./core/reports/outbox.ts";
import { createOutboxRoutes, staffNotice } from "./core/reports/routes.ts";
import type { ReportStore } from "./core/reports/types.ts";
import type { Sealer } from "./core/safety/sealer.ts";
import type { Channel } from "./core/channel.ts";
import type { Store } from "./core/store.ts";
import type { ChannelName } from "./core/types.ts";
import { createTelegramChannel, type TelegramChannel } from "./channels/telegram/index.ts";
import type { WhatsAppChannel } from "./channels/whatsapp/index.ts";
import { createDirectoryStore } from "./db/directory.ts";
import type { OpenedDatabase } from "./db/open.ts";
import { createReportStore } from "./db/reports.ts";
import { startHealth } from "./health.ts";
import { startJobs, type Jobs } from "./jobs/index.ts";
import { appJobs } from "./jobs/schedule.ts";
import { describeError, type Logger } from "./logger.ts";
import { directoryDeskFor, reportDepsFor, staffDeskFor, staffGroups, telegramStaffFor } from "./wiring/staff-groups.ts";
import { chatStore, checkedSeed, openStorage, syncDirectory } from "./wiring/storage.ts";
import { startWhatsApp, type WhatsAppStartOptions } from "./wiring/whatsapp.ts";

export { encryptionKey } from "./wiring/storage.ts";
export { staffChatsOf } from "./wiring/staff-groups.ts";

export interface App {
  config: Config;
  db: OpenedDatabase;
  dialog: Dialog;
  telegram?: TelegramChannel;
  whatsapp?: WhatsAppChannel;
  jobs: Jobs;
  logger: Logger;
  /** Chats, sessions and exits. */
  store: Store;
  reports: ReportStore;
  outbox: OutboxWorker;
  sealer: Sealer;
  translator: Translator;
  /** The directory as people see it, the one in the database, and its staff desk. */
  directory: { live: LiveDirectory; store: DirectoryStore; desk: DirectoryDesk };
  /** The start-up check of the staff groups, done and its notices queued (tests wait for it). */
  selfChecked: Promise<void>;
  stop(): Promise<void>;
}

export interface StartOptions extends WhatsAppStartOptions {
  now?: () => Date;
  jobs?: boolean;
  /**
   * Channels to use instead of the real adapters, by name (the core tests' recording channel, the
   * playground's screen crawler). A channel given here is not started or stopped by the app.
   */
  channels?: Partial<Record<ChannelName, Channel>>;
  /** Wraps the translator the app made (the screen crawler notes which keys each screen used). */
  translator?: (made: Translator) => Translator;
  /**
   * Called after the app stopped itself in order (Telegram refused the token: 409 or 401), with the
   * exit code and the line that says why; by default the process exits with that code.
   */
  onStopped?: (code: number, line: string) => void;
  /** How long a staff group's "restrict saving content" setting is trusted before it is read again (tests shorten it). */
  staffProtectionCacheMs?: number;
  /** How long a screen's state may wait in memory before it is written (`SESSION_WRITE_MS`; tests set it). */
  sessionWriteMs?: number;
}

export async function startApp(config: Config, logger: Logger, opts: StartOptions = {}): Promise<App> {
  const now = opts.now ?? (() => new Date());
  const seed = checkedSeed();
  const made = createTranslator(undefined, (key) => logger.warn("i18n.missing", { reason: key }));
  const translator = opts.translator ? opts.translator(made) : made;
  const { db, key, releaseLock } = await openStorage(config, logger, opts.jobs !== false);
  // Every table on the message connection's statements (src/db/README.md); screens still in memory are written at close.
  const store = chatStore(db, logger, opts.sessionWriteMs);
  const closeData = () => store.close().then(db.close);
  const directoryStore = createDirectoryStore(db);
  const directory = await syncDirectory(directoryStore, seed, logger, now);
  const sealer = db.sealer;
  const reports = createReportStore(db, sealer);
  const groups = staffGroups(config, await reports.chatMoves());
  let outbox: OutboxWorker | undefined;
  const kick = () => outbox?.kick();
  /** A content-free notice to a staff group (none without Telegram), sent once per dedupe key. */
  const queueNotice = (chat: number | undefined, item: (chat: number) => Parameters<typeof reports.enqueue>[0][0]) =>
    chat === undefined ? Promise.resolve() : reports.enqueue([item(chat)], now()).then(kick);
  const notice = (chat: number | undefined, dedupeKey: string, key: string) =>
    queueNotice(chat, (c) => staffNotice(c, dedupeKey, key));

  let stoppingForGood = false;
  /** Telegram will not go on: one clear line, the orderly stop (drain, outbox, database), then exit. */
  const stopForGood = (code: number, line: string) => {
    if (stoppingForGood) return;
    stoppingForGood = true;
    logger.error("app.stopping", { reason: "telegram refused" });
    process.stderr.write(`Qorgau is stopping: ${line}\n`);
    void app
      .stop()
      .catch((err) => logger.error("app.stop_failed", describeError(err)))
      .finally(() => (opts.onStopped ?? ((c: number) => process.exit(c)))(code, line));
  };

  const channels: Partial<Record<ChannelName, Channel>> = { ...opts.channels };
  const telegram =
    config.telegramEnabled && !opts.channels?.telegram
      ? createTelegramChannel({
          config,
          translator,
          logger,
          firstSeen: (key, urgent) => store.firstSeen(key, now(), urgent),
          onFatal: (line) => stopForGood(2, line),
        })
      : undefined;
  if (telegram) channels.telegram = telegram.channel;
  const whatsapp =
    config.whatsappEnabled && !opts.channels?.whatsapp
      ? await startWhatsApp(config, opts, { translator, directory, sealer, logger, now }, (item) =>
          queueNotice(groups.chats[0], item),
        )
      : undefined;
  if (whatsapp) channels.whatsapp = whatsapp.channel;

  const parts = { store: directoryStore, directory, translator, reports };
  const directoryDesk = directoryDeskFor(config, groups, parts, now, kick);
  const desk = staffDeskFor(config, { reports, directory, translator, store }, now, kick);
  const staff =
    telegram &&
    telegramStaffFor(config, groups, {
      bot: telegram.bot,
      desk,
      reports,
      sealer,
      directory: { desk: directoryDesk, store: directoryStore },
      protectionCacheMs: opts.staffProtectionCacheMs,
      fetchMedia: whatsapp?.fetchMedia,
      logger,
      now,
      kick,
      notice,
    });
  const dialog = createDialog({
    store,
    translator,
    directory,
    towns: createTownMatcher(directory.places),
    channels,
    logger,
    now,
    config,
    reports: reportDepsFor(config, groups, { reports, sealer, outbox: () => outbox! }, kick),
  });
  const toReporter = createReporterDelivery({
    reports,
    store,
    channels,
    translator,
    sign: (v) => sealer.sign(`k:${v}`),
    now,
    eraser: dialog.eraser,
  });
  const routes = createOutboxRoutes({
    reports,
    now,
    toReporter,
    deliverDeferred: dialog.deliverDeferred,
    toStaff: staff ? staff.deliver : undefined,
    staffChats: groups.chats,
    groupMessagesPerMinute: config.groupMessagesPerMinute,
    kick,
  });
  const worker = (outbox = createOutboxWorker({ reports, now, logger, ...routes }));
  telegram?.attach(dialog, staff?.install);
  whatsapp?.attach(dialog);

  const resumed = await dialog.eraser.resume();
  if (resumed) logger.info("exit.resumed", { count: resumed });

  const schedule = appJobs({
    config,
    key,
    store,
    reports,
    channels,
    wipe: dialog.wipe,
    desk,
    directory: { desk: directoryDesk, store: directoryStore },
    staffChats: groups.chats,
    kick,
    now,
  });
  const jobs = startJobs(opts.jobs === false ? [] : schedule, { timezone: config.cronTimezone, logger });
  try {
    await telegram?.start();
    await whatsapp?.start();
  } catch (err) {
    await jobs.stop();
    await dialog.eraser.stop();
    await closeData();
    releaseLock();
    throw err;
  }
  // Deliveries still pending from before a restart go out now (R1).
  worker.start();
  const health = config.healthPort
    ? await startHealth(config.healthPort, { db, reports, telegram, whatsapp })
    : undefined;
  const selfChecked = staff && groups.chats.length ? staff.selfCheck().then(() => worker.kick()) : Promise.resolve();

  let stopping: Promise<void> | undefined;
  const app: App = {
    config,
    db,
    dialog,
    telegram,
    whatsapp,
    jobs,
    logger,
    store,
    reports,
    outbox: worker,
    sealer,
    translator,
    directory: { live: directory, store: directoryStore, desk: directoryDesk },
    selfChecked,
    stop() {
      stopping ??= (async () => {
        await telegram?.stop();
        await whatsapp?.stop();
        await jobs.stop();
        await dialog.eraser.stop();
        if (health) await new Promise<void>((resolve) => health.close(() => resolve()));
        await worker.stop();
        await closeData();
        releaseLock();
      })();
      return stopping;
    },
  };
  return app;
}
