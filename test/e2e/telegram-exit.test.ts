import { afterEach, describe, expect, it, vi } from "vitest";
import { makeAddress } from "../../src/core/types.ts";
import { DELETE_WINDOW_MS } from "../../src/playground/fakes/bot-api-emulator.ts";
import { chatAtMenu, countRows, pressLabel, startHarness, stepper, type Harness } from "../support/harness.ts";
import { prismaOf } from "../support/prisma.ts";

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

const HOUR = 3600_000;

/** Puts an old message into both the emulator's chat and the bot's tracking table. */
async function seed(h: Harness, chat: number, fromBot: boolean, ageMs: number): Promise<number> {
  const id = h.emu.seedMessage(chat, fromBot, ageMs);
  await prismaOf(h.app.db).trackedMessage.create({
    data: {
      address: h.app.db.sealer.chatKey(makeAddress("telegram", chat)),
      messageId: String(id),
      fromBot,
      sentAt: new Date(Date.now() - ageMs),
    },
  });
  return id;
}

describe("telegram: quick exit (S2, S3, S5)", () => {
  it("deletes every message under 47.5 h from both sides, including /exit, then leaves one cover message", async () => {
    h = await startHarness();
    const chat = 3001;
    const byAge: Record<string, number[]> = {};
    for (const age of [1, 30, 47, 49]) {
      byAge[age] = [await seed(h, chat, true, age * HOUR), await seed(h, chat, false, age * HOUR)];
    }
    await chatAtMenu(h.emu, chat);
    const live = h.emu
      .visible(chat)
      .filter((id) => !byAge[49]!.includes(id) && ![1, 30, 47].some((a) => byAge[a]!.includes(id)));
    const sentBefore = h.emu.sent(chat).length;

    const exitId = h.emu.sendText(chat, "/exit");
    await h.emu.waitForSent(chat, sentBefore, 1);

    const deleted = h.emu.callsOf("deleteMessages", chat).flatMap((c) => c.payload.message_ids as number[]);
    const expected = [...byAge[1]!, ...byAge[30]!, ...byAge[47]!, ...live, exitId];
    expect([...deleted].sort((a, b) => a - b)).toEqual([...new Set(expected)].sort((a, b) => a - b));
    expect(deleted).not.toContain(byAge[49]![0]);
    // The only send after the wipe is the cover, and it removes the keyboard.
    const after = h.emu.sent(chat).slice(sentBefore);
    expect(after).toHaveLength(1);
    expect(after[0]!.text).toBe("Список покупок: хлеб, молоко, яблоки.");
    expect(after[0]!.payload.reply_markup).toEqual({ remove_keyboard: true });
    // What is left in the chat: the messages too old to delete, and the cover.
    expect(h.emu.visible(chat)).toEqual([...byAge[49]!, after[0]!.id].sort((a, b) => a - b));
    // Nothing the user said remains in the database.
    const address = makeAddress("telegram", chat);
    const db = prismaOf(h.app.db);
    // The marker is cleared just after the cover is sent.
    await vi.waitFor(async () => expect(await db.exitPending.count()).toBe(0));
    expect(await db.session.count({ where: { address: h.app.db.sealer.chatKey(address) } })).toBe(0);
    expect(await db.trackedMessage.count({ where: { address: h!.app.db.sealer.chatKey(address) } })).toBe(0);
    expect(DELETE_WINDOW_MS).toBe(48 * HOUR);
  });

  it("sends at most 100 ids per deleteMessages call", async () => {
    h = await startHarness();
    const chat = 3002;
    for (let i = 0; i < 230; i++) await seed(h, chat, i % 2 === 0, HOUR);
    await chatAtMenu(h.emu, chat);
    h.emu.sendText(chat, "✕ Выйти");
    await h.emu.waitFor(
      () => h!.emu.callsOf("sendMessage", chat).some((c) => c.payload.reply_markup?.remove_keyboard),
      5000,
      "cover",
    );
    const batches = h.emu.callsOf("deleteMessages", chat).map((c) => (c.payload.message_ids as number[]).length);
    expect(batches.length).toBe(3);
    expect(Math.max(...batches)).toBeLessThanOrEqual(100);
    expect(batches.reduce((a, b) => a + b, 0)).toBe(230 + 6);
    expect(h.emu.visible(chat)).toHaveLength(1);
  });

  it("where deleteMessages is refused for good, every message is deleted one by one", async () => {
    h = await startHarness();
    const chat = 3006;
    await chatAtMenu(h.emu, chat);
    h.emu.sendText(chat, "Алматы");
    await h.emu.waitFor(() => h!.emu.visible(chat).length >= 7, 5000, "the results");
    // A Bot API server without the batch method (or one that refuses it) answers 404 every time.
    h.emu.fail("deleteMessages", { error_code: 404, description: "Not Found: method not found" }, 1000);
    h.emu.sendText(chat, "/exit");
    await h.emu.waitFor(() => h!.emu.visible(chat).length === 1, 8000, "only the cover left");
    expect(h.emu.lastSent(chat)!.text).toBe("Список покупок: хлеб, молоко, яблоки.");
    expect(h.emu.callsOf("deleteMessage", chat).length).toBeGreaterThanOrEqual(7);
    // Nothing is left waiting for a retry: every id was settled.
    await vi.waitFor(async () => expect(await prismaOf(h!.app.db).exitDelete.count()).toBe(0));
  });

  it("does not wait behind a slow answer in the same chat, and takes that answer back when it lands (S1)", async () => {
    h = await startHarness();
    const chat = 3003;
    await chatAtMenu(h.emu, chat);
    // The next venue for this chat hangs for 4 s, as on a slow network.
    h.emu.delay("sendVenue", 4000, 1, (p) => Number(p.chat_id) === chat);
    h.emu.sendText(chat, "Алматы");
    await h.emu.waitFor(() => h!.emu.calls.some((c) => c.method === "sendVenue"), 3000, "the slow venue call");
    const t0 = Date.now();
    h.emu.sendText(chat, "/exit");
    await h.emu.waitFor(() => h!.emu.callsOf("deleteMessages", chat).length > 0, 3000, "the first delete");
    expect(Date.now() - t0).toBeLessThan(3000);
    // When the slow venue finally arrives it is deleted too; the cover is all that stays.
    await h.emu.waitFor(() => h!.emu.visible(chat).length === 1, 8000, "the late message to be deleted");
    const left = h.emu.visible(chat)[0];
    expect(h.emu.sent(chat).find((m) => m.id === left)!.text).toBe("Список покупок: хлеб, молоко, яблоки.");
  });

  it("answers one chat's messages in the order they came: the next waits for a slow answer, another chat does not", async () => {
    h = await startHarness();
    const chat = 3006;
    const other = 3007;
    await chatAtMenu(h.emu, chat);
    await chatAtMenu(h.emu, other);
    const greeting = h.emu.sent(chat)[0]!.text;
    // The next venue for this chat hangs for 4 s, as on a slow network.
    h.emu.delay("sendVenue", 4000, 1, (p) => Number(p.chat_id) === chat);
    h.emu.sendText(chat, "Алматы");
    await h.emu.waitFor(() => h!.emu.calls.some((c) => c.method === "sendVenue"), 3000, "the slow venue call");
    const before = h.emu.sent(chat).length;
    h.emu.sendText(chat, "/start", { languageCode: "ru" });
    // Another chat is answered meanwhile, while the venue still hangs.
    const n = h.emu.sent(other).length;
    h.emu.sendText(other, "/start", { languageCode: "ru" });
    await h.emu.waitForSent(other, n, 2, 1000);
    expect(h.emu.sent(chat).length).toBe(before);
    // The welcome comes only after the whole answer to «Алматы», venues included.
    await h.emu.waitFor(
      () => h!.emu.sent(chat).some((m, i) => i >= before && m.text === greeting),
      8000,
      "the welcome",
    );
    const after = h.emu.sent(chat).slice(before);
    const welcome = after.findIndex((m) => m.text === greeting);
    expect(after.slice(0, welcome).some((m) => m.method === "sendVenue")).toBe(true);
    expect(after.slice(welcome).some((m) => m.method === "sendVenue")).toBe(false);
  });

  it("a message whose answer fails does not hold up the next one in its chat", async () => {
    h = await startHarness();
    const chat = 3008;
    await chatAtMenu(h.emu, chat);
    const greeting = h.emu.sent(chat)[0]!.text;
    // The answer to «Алматы» fails after 800 ms (a 500 is not sent again in the call): its update ends in an error.
    h.emu.fail(
      "sendMessage",
      { error_code: 500, description: "Internal Server Error" },
      1,
      (p) => Number(p.chat_id) === chat,
      800,
    );
    const calls = h.emu.callsOf("sendMessage", chat).length;
    h.emu.sendText(chat, "Алматы");
    await h.emu.waitFor(() => h!.emu.callsOf("sendMessage", chat).length > calls, 3000, "the failing call");
    const before = h.emu.sent(chat).length;
    // Sent while that answer is still on its way: it waits in the chat's line, then is answered.
    h.emu.sendText(chat, "/start", { languageCode: "ru" });
    await h.emu.waitFor(
      () => h!.emu.sent(chat).some((m, i) => i >= before && m.text === greeting),
      5000,
      "the welcome after the failed answer",
    );
  });

  it("finishes a wipe that a crash interrupted, at the next start, without a new /exit", async () => {
    h = await startHarness();
    const chat = 3004;
    await chatAtMenu(h.emu, chat);
    const address = makeAddress("telegram", chat);
    await vi.waitFor(async () =>
      expect(
        await prismaOf(h!.app.db).trackedMessage.count({ where: { address: h!.app.db.sealer.chatKey(address) } }),
      ).toBe(5),
    );
    // The process died right after the wipe's first commit (its marker): nothing deleted, nothing else written.
    h.app.db.hot
      .prepare("INSERT INTO exit_pending (chat, handle_enc, locale, cover, created_at) VALUES (?, ?, 'kk', 1, ?)")
      .run(h.app.db.sealer.chatKey(address), h.app.db.sealer.seal(address), new Date().toISOString());
    expect(h.emu.visible(chat).length).toBeGreaterThan(3);
    await h.restart();
    expect(h.emu.visible(chat)).toHaveLength(1);
    expect(h.emu.lastSent(chat)!.text).toBe("Сатып алу тізімі: нан, сүт, алма.");
    expect(await prismaOf(h.app.db).exitPending.count()).toBe(0);
    expect(await prismaOf(h.app.db).session.count({ where: { address: h.app.db.sealer.chatKey(address) } })).toBe(0);
  });

  it("a screen still waiting in memory when the exit comes is not written after it: the stopped bot leaves no session (S5)", async () => {
    // A minute's wait: only the wipe, or the stop, can write or drop what waits.
    h = await startHarness({ start: { sessionWriteMs: 60_000 } });
    const { emu } = h;
    const chat = 3006;
    const step = stepper(emu, chat);
    await chatAtMenu(emu, chat);
    await step(() => pressLabel(emu, chat, "☎ Телефоны доверия"));
    const [cover] = await step(() => emu.sendText(chat, "/exit"));
    expect(h.emu.visible(chat)).toEqual([cover!.id]);
    await vi.waitFor(() => expect(countRows(h!.dbFile, "SELECT count(*) AS n FROM exit_pending")).toBe(0));
    await h.app.stop();
    expect(countRows(h.dbFile, "SELECT count(*) AS n FROM sessions")).toBe(0);
  });

  it("uses the configured cover text for the user's language", async () => {
    h = await startHarness({ env: { COVER_TEXT_RU: "Рецепт: гречка с грибами." } });
    const chat = 3005;
    await chatAtMenu(h.emu, chat);
    const n = h.emu.sent(chat).length;
    h.emu.sendText(chat, "стоп");
    const [cover] = await h.emu.waitForSent(chat, n, 1);
    expect(cover!.text).toBe("Рецепт: гречка с грибами.");
  });
});
