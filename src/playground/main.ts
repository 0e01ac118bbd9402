/**
 * `npm run playground [-- --port 8177 --lang kk|ky|ru]`: the bot on this computer, with a page
 * to try it (see server.ts). Ctrl+C stops it and removes its database.
 */
import { isLocale } from "../config.ts";
import { startPlayground } from "./server.ts";

const argv = process.argv.slice(2);
const arg = (name: string) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const port = Number(arg("--port") ?? process.env.PLAYGROUND_PORT ?? 8177);
const lang = arg("--lang") ?? "ru";
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`--port must be a port number, got "${arg("--port")}"\n`);
  process.exit(1);
}
if (!isLocale(lang)) {
  process.stderr.write(`--lang must be kk, ky or ru, got "${lang}"\n`);
  process.exit(1);
}
const pg = await startPlayground({ port, lang });
process.stdout.write(
  `Qorgau playground: ${pg.url}  (texts for review: ${pg.url}review)\nOnly on this computer; nothing leaves it. Ctrl+C to stop.\n`,
);
let stopping = false;
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    if (stopping) return;
    stopping = true;
    void pg.stop().finally(() => process.exit(0));
  });
}
