/**
 * Wires config → database → i18n → directory → dialog → channels → jobs, and
 * shuts them down in reverse on SIGINT/SIGTERM.
 */
import fs from "node:fs";
import path from "node:path";
import { ConfigError, loadConfig, type Config } from "./config.ts";
import { createDialog, type Dialog } from "./core/dialog.ts";
import { resumePendingExits } from "./core/flows/exit.ts";
import { createTranslator } from "./core/i18n.ts";
import { loadDirectory, validateDirectory } from "./core/services/directory.ts";
import { runAutoErase, runRetention } from "./core/services/housekeeping.ts";
import { createTownMatcher } from "./core/services/towns.ts";
import { DatabaseStartError, openDatabase, type OpenedDatabase } from "./db/open.ts";
import { createPrismaStore } from "./db/store.ts";
import { projectRoot } from "./db/url.ts";
import { createTelegramChannel, type TelegramChannel } from "./channels/telegram/index.ts";
import { startJobs, type Jobs } from "./jobs/index.ts";
import { createLogger, describeError, type Logger } from "./logger.ts";

export interface App {
  config: Config;
  db: OpenedDatabase;
  dialog: Dialog;
  telegram: TelegramChannel;
  jobs: Jobs;
  logger: Logger;
  stop(): Promise<void>;
}

export async function startApp(config: Config, logger: Logger, opts: { now?: () => Date; jobs?: boolean } = {}): Promise<App> {
  const now = opts.now ?? (() => new Date());
  const directory = loadDirectory();
  const problems = validateDirectory(directory);
  if (problems.length) throw new Error(`the crisis-center directory has problems:\n  - ${problems.join("\n  - ")}`);
  const translator = createTranslator(undefined, (key) => logger.warn("i18n.missing", { reason: key }));
  const db = await openDatabase(config.databaseFile);
  logger.info("db.ready", { migrations: db.applied.length });
  const store = createPrismaStore(db.prisma);

  const telegram = createTelegramChannel({ config, translator, logger });
  const dialog = createDialog({
    store,
    translator,
    directory,
    towns: createTownMatcher(directory.places),
    channels: { telegram: telegram.channel },
    logger,
    now,
    config,
  });
  telegram.attach(dialog);

  const resumed = await resumePendingExits(dialog.exitDeps);
  if (resumed) logger.info("exit.resumed", { count: resumed });

  const jobs = startJobs(
    opts.jobs === false
      ? []
      : [
          { name: "auto-erase", schedule: "* * * * *", run: () => runAutoErase({ store, now, wipe: dialog.wipe }) },
          { name: "retention", schedule: "7 * * * *", run: () => runRetention({ store, now, limits: config }) },
        ],
    { timezone: config.cronTimezone, logger },
  );
  try {
    await telegram.start();
  } catch (err) {
    await jobs.stop();
    await db.close();
    throw err;
  }

  let stopping: Promise<void> | undefined;
  return {
    config,
    db,
    dialog,
    telegram,
    jobs,
    logger,
    stop() {
      stopping ??= (async () => {
        await telegram.stop();
        await jobs.stop();
        await db.close();
      })();
      return stopping;
    },
  };
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
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith("src/main.ts")) {
  void main();
}
