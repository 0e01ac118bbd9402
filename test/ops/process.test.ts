import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { projectRoot } from "../../src/db/url.ts";
import { BotApiEmulator } from "../support/bot-api-emulator.ts";
import { tempDir } from "../support/harness.ts";

let emu: BotApiEmulator | undefined;
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill("SIGKILL");
  await emu?.stop();
  emu = undefined;
});

function startBot(env: Record<string, string>) {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(projectRoot, "src", "main.ts")], {
    cwd: projectRoot,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, exited, output: () => out };
}

describe("the bot as a process", () => {
  it("a second instance on the same database refuses to start; SIGTERM lets the update in flight finish and exits 0 (T2, R5)", async () => {
    emu = await new BotApiEmulator().start();
    const dbFile = path.join(tempDir(), "proc.db");
    const env = { BOT_TOKEN: emu.token, TELEGRAM_API_ROOT: emu.apiRoot, DATABASE_URL: `file:${dbFile}`, SYNC_BOT_PROFILE: "false" };
    const first = startBot(env);
    await emu.waitFor(() => emu!.calls.some((c) => c.method === "getMe"), 20_000, "the first bot to start");
    await new Promise((r) => setTimeout(r, 500));

    const second = startBot(env);
    expect(await second.exited).toBe(2);
    expect(second.output()).toContain("another Qorgau");

    // An update whose answer is slow is in flight when SIGTERM arrives.
    emu.delay("sendMessage", 1500, 1, (p) => Number(p.chat_id) === 4242);
    emu.sendText(4242, "/start");
    await emu.waitFor(() => emu!.calls.some((c) => c.method === "sendMessage" && Number(c.payload.chat_id) === 4242), 10_000, "the slow send");
    first.child.kill("SIGTERM");
    expect(await first.exited).toBe(0);
    // The handler finished: both the welcome and the language choice went out.
    expect(emu.sent(4242)).toHaveLength(2);
  }, 60_000);
});
