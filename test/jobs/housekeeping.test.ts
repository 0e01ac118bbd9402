import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { runAutoErase, runRetention } from "../../src/core/safety/housekeeping.ts";
import { makeAddress } from "../../src/core/types.ts";
import { startJobs } from "../../src/jobs/index.ts";
import { createLogger } from "../../src/logger.ts";
import { createCoreHarness, startChat, type CoreHarness } from "../support/core.ts";

let h: CoreHarness;
beforeAll(async () => {
  h = await createCoreHarness();
});
afterAll(async () => {
  await h.close();
});
const MIN = 60_000;
const HOUR = 60 * MIN;

describe("auto-erase (issue 2, safety setting)", () => {
  it("erases the chat after the chosen minutes of silence, once, leaving the cover", async () => {
    const chat = 501;
    const address = makeAddress("telegram", chat);
    await startChat(h, chat, "kk");
    await h.press(chat, h.translator.t("kk", "menu.settings"));
    await h.press(chat, "settings:erase");
    await h.press(chat, h.translator.t("kk", "settings.minutes", { count: 10 }));
    expect(h.channel.lastText()).toContain(h.translator.t("kk", "settings.eraseSet_telegram", { count: 10 }));
    const deps = { store: h.store, now: () => h.now.value, wipe: h.dialog.wipe };

    const start = h.now.value.getTime();
    h.now.value = new Date(start + 9 * MIN);
    expect(await runAutoErase(deps)).toBe(0);
    h.now.value = new Date(start + 10 * MIN + 1);
    const covers = h.channel.covers.length;
    expect(await runAutoErase(deps)).toBe(1);
    expect(h.channel.covers.length).toBe(covers + 1);
    expect(h.channel.covers.at(-1)!.text).toBe(h.translator.t("kk", "exit.cover"));
    expect(await h.store.getSession(address)).toBeNull();
    // A late or repeated run finds nothing more to do (O1).
    h.now.value = new Date(start + 3 * HOUR);
    expect(await runAutoErase(deps)).toBe(0);
  });

  it("a message resets the silence clock; 'do not erase' turns it off", async () => {
    const chat = 502;
    await startChat(h, chat, "ru", "KG");
    await h.press(chat, h.translator.t("ru", "menu.settings"));
    await h.press(chat, "settings:erase");
    await h.press(chat, "erase:30");
    const deps = { store: h.store, now: () => h.now.value, wipe: h.dialog.wipe };
    const t0 = h.now.value.getTime();
    h.now.value = new Date(t0 + 20 * MIN);
    await h.text(chat, "/menu");
    h.now.value = new Date(t0 + 40 * MIN);
    expect(await runAutoErase(deps)).toBe(0);
    await h.press(chat, h.translator.t("ru", "menu.settings"));
    await h.press(chat, "settings:erase");
    await h.press(chat, "erase:0");
    h.now.value = new Date(t0 + 10 * HOUR);
    expect(await runAutoErase(deps)).toBe(0);
  });
});

describe("retention (P7)", () => {
  it("forgets sessions after 24 h of silence and message ids after 47.5 h", async () => {
    const chat = 503;
    const address = makeAddress("telegram", chat);
    await startChat(h, chat, "ru");
    const limits = { sessionTtlHours: 24, messageTrackHours: 47.5 };
    const t0 = h.now.value.getTime();
    let r = await runRetention({ store: h.store, now: () => new Date(t0 + 23 * HOUR), limits });
    expect(await h.store.getSession(address)).not.toBeNull();
    r = await runRetention({ store: h.store, now: () => new Date(t0 + 25 * HOUR), limits });
    expect(r.sessions).toBeGreaterThanOrEqual(1);
    expect(await h.store.getSession(address)).toBeNull();
    expect((await h.store.trackedMessages(address)).length).toBeGreaterThan(0);
    r = await runRetention({ store: h.store, now: () => new Date(t0 + 48 * HOUR), limits });
    expect(await h.store.trackedMessages(address)).toEqual([]);
  });
});

describe("job scheduling (O2)", () => {
  it("a failing job is logged by name, without content, and the process goes on", async () => {
    const logs: string[] = [];
    const printed: string[] = [];
    const spies = (["log", "error", "warn", "info"] as const).map((m) =>
      vi.spyOn(console, m).mockImplementation((...a) => void printed.push(a.join(" "))),
    );
    const jobs = startJobs(
      [
        {
          name: "boom",
          schedule: "0 0 1 1 *",
          run: async () => {
            throw new Error("secret text 12345678");
          },
        },
      ],
      {
        timezone: "Asia/Almaty",
        logger: createLogger({ write: (l) => logs.push(l) }),
      },
    );
    await jobs.tasks[0]!.execute().catch(() => undefined);
    await jobs.stop();
    spies.forEach((s) => s.mockRestore());
    expect(printed.join()).not.toContain("secret text");
    const failed = logs.map((l) => JSON.parse(l)).find((l) => l.event === "job.failed");
    expect(failed).toMatchObject({ job: "boom", error: "Error" });
    expect(logs.join()).not.toContain("secret text");
  });

  it("the runtime knows Kazakhstan moved to UTC+5 on 1 March 2024 (O1)", () => {
    const f = new Intl.DateTimeFormat("en", { timeZone: "Asia/Almaty", timeZoneName: "longOffset" });
    expect(f.format(new Date("2024-03-02T12:00:00Z"))).toContain("GMT+05:00");
  });
});
