/**
 * `npm run whatsapp:link`: links the phone that will serve the bot, in the
 * foreground. Prints the QR code to scan (WhatsApp → Linked devices → Link a
 * device), waits until the session is saved in WA_DATA_DIR, and exits 0; a
 * failure prints the library's own reason and exits 1. The bot itself need not
 * (and must not) be running: the session folder is the bot's login.
 */
import fs from "node:fs";
import path from "node:path";
import { ConfigError, loadConfig } from "../../config.ts";
import { projectRoot } from "../../paths.ts";
import { createWhatsAppClient, WhatsAppSetupError } from "./client.ts";
import { printQr, waFailureDetail } from "./index.ts";

const LINK_TIMEOUT_MS = 5 * 60_000;

async function link(): Promise<number> {
  const envFile = path.join(projectRoot, ".env");
  if (fs.existsSync(envFile)) process.loadEnvFile(envFile);
  // Only the WhatsApp settings matter here: no Telegram token is needed to link a phone.
  const config = loadConfig({ ...process.env, TELEGRAM_ENABLED: "false", WHATSAPP_ENABLED: "true" });
  const { client } = await createWhatsAppClient(config);
  return await new Promise<number>((resolve) => {
    const done = (code: number, line: string) => {
      clearTimeout(timer);
      process.stdout.write(`${line}\n`);
      client
        .destroy()
        .catch(() => undefined)
        .finally(() => resolve(code));
    };
    const timer = setTimeout(
      () => done(1, "No phone was linked within 5 minutes. Run npm run whatsapp:link again."),
      LINK_TIMEOUT_MS,
    );
    client.on("qr", (qr: string) => {
      process.stdout.write(
        "Scan this with the phone that will serve the bot: WhatsApp → Linked devices → Link a device.\n",
      );
      void printQr(qr);
    });
    client.on("ready", () =>
      done(0, `Linked. The session is kept in ${config.whatsappDataDir}; start the bot with WHATSAPP_ENABLED=true.`),
    );
    client.on("auth_failure", (m: unknown) =>
      done(1, `WhatsApp refused the link (${waFailureDetail(m)}). Delete ${config.whatsappDataDir} and try again.`),
    );
    client.initialize().catch((err: unknown) => done(1, `WhatsApp did not start: ${waFailureDetail(err)}`));
  });
}

link().then(
  (code) => process.exit(code),
  (err: unknown) => {
    const line =
      err instanceof ConfigError || err instanceof WhatsAppSetupError
        ? (err as Error).message
        : `WhatsApp did not start: ${waFailureDetail(err)}`;
    process.stderr.write(`${line}\n`);
    process.exit(1);
  },
);
