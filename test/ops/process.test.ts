import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { BotApiEmulator } from "../support/bot-api-emulator.ts";
import { tempDir } from "../support/harness.ts";
import { killAllBots, startBotProcess } from "../support/process.ts";

let emu: BotApiEmulator | undefined;
afterEach(async () => {
  killAllBots();
  await emu?.stop();
  emu = undefined;
});

describe("the bot as a process", () => {
  it("a second instance on the same database refuses to start; SIGTERM lets the update in flight finish and exits 0 (T2, R5)", async () => {
    emu = await new BotApiEmulator().start();
    const dbFile = path.join(tempDir(), "proc.db");
    const env = { BOT_TOKEN: emu.token, TELEGRAM_API_ROOT: emu.apiRoot, DATABASE_URL: `file:${dbFile}`, SYNC_BOT_PROFILE: "false" };
    const first = startBotProcess(env);
    await emu.waitFor(() => emu!.calls.some((c) => c.method === "getMe"), 30_000, "the first bot to start");
    await new Promise((r) => setTimeout(r, 500));

    const second = startBotProcess(env);
    expect((await second.exited).code).toBe(2);
    expect(second.output()).toContain("another Qorgau");

    // An update whose answer is slow is in flight when SIGTERM arrives.
    emu.delay("sendMessage", 1500, 1, (p) => Number(p.chat_id) === 4242);
    emu.sendText(4242, "/start");
    await emu.waitFor(() => emu!.calls.some((c) => c.method === "sendMessage" && Number(c.payload.chat_id) === 4242), 10_000, "the slow send");
    first.child.kill("SIGTERM");
    expect((await first.exited).code).toBe(0);
    // The handler finished: both the welcome and the language choice went out.
    expect(emu.sent(4242)).toHaveLength(2);
  }, 60_000);
});
