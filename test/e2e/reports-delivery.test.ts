import { afterEach, describe, expect, it, vi } from "vitest";
import { makeAddress } from "../../src/core/types.ts";
import { buttonsOf, pressLabel, startHarness, type Harness, approvedStaff } from "../support/harness.ts";
import { seedReport } from "../support/reports.ts";
import { prismaOf } from "../support/prisma.ts";

const STAFF = -1009990001;
const KEY = Buffer.alloc(32, 9).toString("base64");
let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

async function harness(env: Record<string, string> = {}, now?: () => Date) {
  return startHarness({
    env: { ADMIN_CHAT_ID: String(STAFF), ENCRYPTION_KEY: KEY, GROUP_MESSAGES_PER_MINUTE: "6000", ...env },
    now,
    setup: (emu) => emu.protectedChats.add(STAFF),
  });
}

const cardsFor = (h: Harness, code: string) => h.emu.sent(STAFF).filter((m) => m.text?.includes(`Обращение ${code}`));

describe("delivery that loses nothing (R1, R2, ST4)", () => {
  it("100 reports in a burst, with the API answering 429 and 500 to a share of calls → 100 cards, none twice", async () => {
    // The bot's clock runs ahead of the wall clock, so the outbox's backoffs and flood waits pass
    // in a fraction of their time: what is tested is that nothing is lost or doubled, not the wait.
    let skipped = 0;
    h = await harness({}, () => new Date(Date.now() + skipped));
    const ticker = setInterval(() => (skipped += 2000), 20);
    const { emu } = h;
    let n = 0;
    // Every 7th card send fails with 500, every 11th with a flood wait of 12 s (left to the outbox).
    emu.fail(
      "sendMessage",
      { error_code: 500, description: "Internal Server Error" },
      1000,
      (p) => Number(p.chat_id) === STAFF && ++n % 7 === 0,
    );
    let m = 0;
    emu.fail(
      "sendMessage",
      { error_code: 429, description: "Too Many Requests: retry after 12", retry_after: 12 },
      1000,
      (p) => Number(p.chat_id) === STAFF && ++m % 11 === 0,
    );
    const codes: string[] = [];
    for (let i = 0; i < 100; i++)
      codes.push((await seedReport(h.app.reports, makeAddress("telegram", 9000 + i), STAFF)).code);
    h.app.outbox.kick();
    await emu
      .waitFor(() => codes.every((c) => cardsFor(h!, c).length > 0), 60_000, "100 cards")
      .finally(() => clearInterval(ticker));
    for (const c of codes) expect(cardsFor(h, c), c).toHaveLength(1);
    await vi.waitFor(async () =>
      expect(await prismaOf(h!.app.db).outbox.count({ where: { status: { not: "sent" } } })).toBe(0),
    );
    // The failures really happened.
    expect(
      emu.calls.filter((c) => c.method === "sendMessage" && Number(c.payload.chat_id) === STAFF).length,
    ).toBeGreaterThan(110);
  }, 90_000);

  it("a report committed just before the process stopped gets its card after the restart, once", async () => {
    h = await harness();
    await h.app.outbox.stop(); // as if the process died right after the commit
    const r = await seedReport(h.app.reports, makeAddress("telegram", 8001), STAFF);
    expect(cardsFor(h, r.code)).toHaveLength(0);
    await h.restart();
    await h.emu.waitFor(() => cardsFor(h!, r.code).length > 0, 5000, "card after restart");
    // Another pass finds nothing left to send.
    await h.app.outbox.drain();
    expect(cardsFor(h, r.code)).toHaveLength(1);
  });

  it("two staff taking at once: exactly one wins, the others are told who has it", async () => {
    h = await harness();
    const r = await seedReport(h.app.reports, makeAddress("telegram", 8002), STAFF);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => h!.app.reports.take(r.id, { id: 100 + i, name: `S${i}` }, new Date(), [])),
    );
    const winners = results.filter((x) => x.ok);
    expect(winners).toHaveLength(1);
    const losers = results.filter((x) => !x.ok);
    expect(losers).toHaveLength(19);
    for (const l of losers) expect(!l.ok && l.reason).toBe("taken");
    const holder = (await h.app.reports.byId(r.id))!;
    expect(holder.takenBy).toBe(winners[0]!.ok ? winners[0]!.report.takenBy : -1);
  });

  it("a reporter who blocked the bot: no more retries, and staff are told once (R2)", async () => {
    h = await harness();
    const chat = 8003;
    const r = await seedReport(h.app.reports, makeAddress("telegram", chat), STAFF);
    await h.emu.waitFor(() => cardsFor(h!, r.code).length > 0, 5000, "card");
    h.emu.fail(
      "sendMessage",
      { error_code: 403, description: "Forbidden: bot was blocked by the user" },
      100,
      (p) => Number(p.chat_id) === chat,
    );
    await h.app.reports.take(r.id, { id: 1, name: "A" }, new Date(), []);
    await h.app.reports.addMessage(
      r.id,
      "out",
      "Здравствуйте",
      new Date(),
      { actor: "staff:1", action: "reply", result: "queued" },
      (mid) => [{ dedupeKey: `knock:${mid}`, target: `relay:${r.id}`, payload: { type: "knock", reportId: r.id } }],
    );
    h.app.outbox.kick();
    await h.emu.waitFor(
      () => h!.emu.sent(STAFF).some((m) => m.text?.startsWith(`${r.code}: сообщение автору не доставлено`)),
      5000,
      "staff notice",
    );
    await h.app.outbox.drain();
    expect(h.emu.callsOf("sendMessage", chat)).toHaveLength(1);
    expect(h.emu.sent(STAFF).filter((m) => m.text?.includes("не доставлено"))).toHaveLength(1);
    expect(await prismaOf(h.app.db).outbox.count({ where: { status: "dead" } })).toBe(1);
  });

  it("a row the outbox cannot open, or gives up on for a reason other than 403, alerts the staff group once, content-free, and is logged (issue 14)", async () => {
    h = await harness();
    const { emu } = h;
    const r = await seedReport(h.app.reports, makeAddress("telegram", 8004), STAFF);
    await emu.waitFor(() => cardsFor(h!, r.code).length > 0, 5000, "card");
    // Two rows sealed with some other key (a restore from the wrong place, a changed file).
    const { createSealer } = await import("../../src/core/safety/sealer.ts");
    const stranger = createSealer(Buffer.alloc(32, 99));
    for (const i of [1, 2])
      await prismaOf(h.app.db).outbox.create({
        data: {
          dedupeKey: `bogus:${i}`,
          kind: "knock",
          target: `relay:${r.id}`,
          reportId: r.id,
          payloadEnc: stranger.seal('{"type":"knock"}'),
          nextAttemptAt: new Date(),
          createdAt: new Date(),
        },
      });
    h.app.outbox.kick();
    const alert = await emu.waitFor(
      () => emu.sent(STAFF).find((m) => m.text?.includes("не смог доставить")),
      5000,
      "alert",
    );
    expect(alert.text).toBe(
      `⚠ ${r.code}: бот не смог доставить сообщение (knock) и больше не пытается: unreadable. Подробности — в журнале сервера.`,
    );
    // A knock refused for good (400) is another reason: one more alert, and no text of the report in either.
    emu.fail(
      "sendMessage",
      { error_code: 400, description: "Bad Request: chat not found" },
      100,
      (p) => Number(p.chat_id) === 8004,
    );
    await h.app.reports.take(r.id, { id: 1, name: "A" }, new Date(), []);
    await h.app.reports.addMessage(
      r.id,
      "out",
      "Здравствуйте",
      new Date(),
      { actor: "staff:1", action: "reply", result: "queued" },
      (mid) => [{ dedupeKey: `knock:${mid}`, target: `relay:${r.id}`, payload: { type: "knock", reportId: r.id } }],
    );
    h.app.outbox.kick();
    await emu.waitFor(
      () => emu.sent(STAFF).filter((m) => m.text?.includes("не смог доставить")).length === 2,
      5000,
      "second alert",
    );
    await h.app.outbox.drain();
    const alerts = emu.sent(STAFF).filter((m) => m.text?.includes("не смог доставить"));
    expect(alerts).toHaveLength(2);
    expect(alerts[1]!.text).toContain("bad_request");
    expect(JSON.stringify(alerts)).not.toContain("Соседку");
    expect(JSON.stringify(alerts)).not.toContain("Здравствуйте");
    expect(await prismaOf(h.app.db).outbox.count({ where: { status: "dead" } })).toBe(3);
    expect(h.logs.filter((l) => l.includes('"outbox.dead"'))).toHaveLength(3);
  });

  it("429 with retry_after is waited out and the card is delivered once", async () => {
    h = await harness();
    h.emu.fail(
      "sendMessage",
      { error_code: 429, description: "Too Many Requests: retry after 2", retry_after: 2 },
      1,
      (p) => Number(p.chat_id) === STAFF,
    );
    const t0 = Date.now();
    const r = await seedReport(h.app.reports, makeAddress("telegram", 8004), STAFF);
    h.app.outbox.kick();
    await h.emu.waitFor(() => cardsFor(h!, r.code).length > 0, 8000, "card");
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2000);
    expect(cardsFor(h, r.code)).toHaveLength(1);
  });
});

describe("after quick exit nothing is sent until the reporter writes again (S6)", () => {
  it("holds a staff reply after an exit, tells staff, keeps it held when someone writes, and shows it only after the case word (decision 10)", async () => {
    h = await harness();
    const chat = 8100;
    const { emu } = h;
    emu.sendText(chat, "/start");
    await emu.waitForSent(chat, 0, 2);
    const r = await seedReport(h.app.reports, makeAddress("telegram", chat), STAFF, { caseWord: "голубика" });
    await emu.waitFor(() => cardsFor(h!, r.code).length > 0, 5000, "card");
    await approvedStaff(h, STAFF, 42);
    await h.app.reports.take(r.id, { id: 42, name: "Staff42" }, new Date(), []);

    emu.sendText(chat, "/exit");
    await emu.waitFor(() => emu.visible(chat).length === 1, 5000, "wipe");
    const sentAfterExit = emu.sent(chat).length;

    const card = cardsFor(h, r.code)[0]!;
    emu.groupMessage(STAFF, 42, "Как вы?", card.id);
    await emu.waitFor(
      () => emu.sent(STAFF).some((m) => m.text?.startsWith(`Автор ${r.code} воспользовался быстрым выходом`)),
      5000,
      "held notice",
    );
    await vi.waitFor(async () => expect(await prismaOf(h!.app.db).outbox.count({ where: { status: "held" } })).toBe(1));
    expect(emu.sent(chat).length).toBe(sentAfterExit);

    // Someone else on the phone: /start, the language, «📂 Мои обращения». Nothing about the report.
    emu.sendText(chat, "/start");
    await emu.waitForSent(chat, sentAfterExit, 2);
    pressLabel(emu, chat, "Русский");
    await emu.waitForSent(chat, sentAfterExit + 2, 1);
    pressLabel(emu, chat, /Казахстан/);
    await emu.waitForSent(chat, sentAfterExit + 3, 1);
    pressLabel(emu, chat, "📂 Мои обращения");
    const [mine] = await emu.waitForSent(chat, sentAfterExit + 4, 1);
    expect(mine!.text).not.toContain(r.code);
    expect(buttonsOf(mine!.payload).join(" ")).not.toContain(r.code);
    // The code alone, typed: the status only, no reply.
    emu.sendText(chat, r.code);
    const [byCode] = await emu.waitForSent(chat, sentAfterExit + 5, 1);
    expect(byCode!.text).not.toContain("Как вы?");
    await h.idle();
    await h.app.outbox.drain();
    expect(emu.sent(chat).some((m) => m.text === "У вас новое сообщение. Нажмите, чтобы прочитать.")).toBe(false);
    expect(await prismaOf(h.app.db).outbox.count({ where: { status: "held" } })).toBe(1);

    // The reporter herself: «📂 Мои обращения», then the case word opens it with the reply.
    const n = emu.sent(chat).length;
    pressLabel(emu, chat, "📂 Мои обращения");
    await emu.waitForSent(chat, n, 1);
    emu.sendText(chat, "Голубика");
    const [opened] = await emu.waitForSent(chat, n + 1, 1);
    expect(opened!.text).toContain(r.code);
    expect(opened!.text).toContain("Как вы?");
    // Read now: the held knock is not sent on top of it.
    await vi.waitFor(async () => expect(await prismaOf(h!.app.db).outbox.count({ where: { status: "held" } })).toBe(0));
    await h.app.outbox.drain();
    expect(emu.sent(chat).some((m) => m.text === "У вас новое сообщение. Нажмите, чтобы прочитать.")).toBe(false);
  });
});
