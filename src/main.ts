/**
 * The service: reads the environment (and a .env beside the project), starts the app (src/app.ts)
 * and stops it in order on SIGINT/SIGTERM or on a bug that escapes every handler.
 */
import fs from "node:fs";
import path from "node:path";
import { startApp, type App } from "./app.ts";
import { ConfigError, loadConfig, type Config } from "./config.ts";
import { InstanceLockError } from "./db/lock.ts";
import { DatabaseStartError } from "./db/open.ts";
import { createLogger, describeError } from "./logger.ts";
import { projectRoot } from "./paths.ts";

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

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith("src/app.ts")) {
  void main();
}
