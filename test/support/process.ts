/** Runs the built bot as a child process (`node dist/src/main.mjs`), for the kill and shutdown tests. */
import { spawn, type ChildProcess } from "node:child_process";
import { TEST_KEY } from "./keys.ts";
import { projectRoot } from "../../src/paths.ts";
import { distMain } from "./dist.ts";

export interface BotProcess {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
}

const running: ChildProcess[] = [];

/** `asUser`: run as this uid and gid (a service user; root ignores file modes, so permission tests need one). */
export function startBotProcess(
  env: Record<string, string>,
  asUser?: { uid: number; gid: number },
  opts: { umask?: string } = {},
): BotProcess {
  const bot = [process.execPath, distMain];
  // Under a umask, as systemd's UMask= would set it: through a shell that sets it and execs the bot.
  const [command, ...args] = opts.umask ? ["/bin/sh", "-c", `umask ${opts.umask} && exec "$@"`, "sh", ...bot] : bot;
  const child = spawn(command!, args, {
    cwd: projectRoot,
    // As the harness: a test key (no development key in the real home), and machine-speed chats.
    env: {
      PATH: process.env.PATH ?? "",
      HOME: asUser ? "/tmp" : (process.env.HOME ?? "/tmp"),
      ENCRYPTION_KEY: TEST_KEY.toString("base64"),
      CHAT_UPDATES_PER_MINUTE: "1000000",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
    ...(asUser ?? {}),
  });
  running.push(child);
  let out = "";
  child.stdout!.on("data", (d) => (out = (out + d).slice(-50_000)));
  child.stderr!.on("data", (d) => (out = (out + d).slice(-50_000)));
  // A child that cannot even start (its Node not executable for that user) fails the test at once, with the reason.
  child.on("error", (err) => (out += `\nspawn failed: ${err.message}`));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on("exit", (code, signal) => resolve({ code, signal }));
    child.on("error", () => resolve({ code: -1, signal: null }));
  });
  return { child, exited, output: () => out };
}

export function killAllBots() {
  for (const c of running.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
}
