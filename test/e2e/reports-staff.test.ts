import { afterEach, describe, expect, it, vi } from "vitest";
import { makeAddress } from "../../src/core/types.ts";
import { startHarness, type Harness, approvedStaff } from "../support/harness.ts";
import { seedReport } from "../support/reports.ts";
import { staffChatsOf } from "../../src/app.ts";
import { prismaOf } from "../support/prisma.ts";

const STAFF = -1004440001;
const KEY = Buffer.alloc(32, 4).toString("base64");
let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

describe("staff chat safeguards", () => {
  it("warns a staff group that does not restrict saving content, and one where the bot may invite or promote (P4, ST7)", async () => {
    h = await startHarness({
      env: { ADMIN_CHAT_ID: String(STAFF), ENCRYPTION_KEY: KEY, GROUP_MESSAGES_PER_MINUTE: "6000" },
      setup: (emu) => {
        emu.setMember(STAFF, emu.botUser.id, "administrator");
        const orig = (emu as any).handle.bind(emu);
        (emu as any).handle = (m: string, p: any, c: any) =>
          m === "getChatMember" && Number(p.user_id) === emu.botUser.id
            ? { ...orig(m, p, c), can_invite_users: true }
            : orig(m, p, c);
      },
    });
    await h.emu.waitFor(() => h!.emu.sent(STAFF).length >= 2, 5000, "warnings");
    const texts = h.emu.sent(STAFF).map((m) => m.text);
    expect(texts.some((t) => t?.includes("«Запретить копирование»"))).toBe(true);
    expect(texts.some((t) => t?.includes("лишние права"))).toBe(true);
  });

  it("a protected group with a least-privileged bot gets no warning", async () => {
    h = await startHarness({
      env: { ADMIN_CHAT_ID: String(STAFF), ENCRYPTION_KEY: KEY },
      setup: (emu) => emu.protectedChats.add(STAFF),
    });
    // The start-up check is done and the outbox has run after it: nothing was queued for the group.
    await h.app.selfChecked;
    await h.app.outbox.drain();
    expect(h.emu.sent(STAFF)).toEqual([]);
  });

  it("a staff member who leaves loses the role at once, and their reports go back to the queue (ST3)", async () => {
    h = await startHarness({
      env: { ADMIN_CHAT_ID: String(STAFF), ENCRYPTION_KEY: KEY, GROUP_MESSAGES_PER_MINUTE: "6000" },
      setup: (emu) => emu.protectedChats.add(STAFF),
    });
    const { emu } = h;
    await approvedStaff(h, STAFF, 77);
    const r = await seedReport(h.app.reports, makeAddress("telegram", 6001), STAFF);
    const card = await emu.waitFor(() => emu.sent(STAFF).find((m) => m.text?.includes(r.code)), 5000, "card");
    const take = (card.payload.reply_markup.inline_keyboard as Array<Array<{ callback_data: string }>>)[0]![0]!
      .callback_data;
    emu.press(STAFF, card.id, take, { id: 77 });
    await vi.waitFor(async () => expect((await h!.app.reports.byId(r.id))!.status).toBe("taken"));

    emu.memberUpdate(STAFF, 77, "left");
    await vi.waitFor(async () => expect((await h!.app.reports.byId(r.id))!.status).toBe("new"));
    await emu.waitFor(() => emu.sent(STAFF).some((m) => m.text?.includes("больше не в группе")), 5000, "notice");
    await emu.waitFor(() => emu.textOf(STAFF, card.id)?.includes("новое, никто не взял"), 5000, "card back to new");
    // The next press from that person is refused: the cached membership was dropped.
    const q = emu.press(STAFF, card.id, take, { id: 77 });
    await emu.waitFor(
      () => emu.callsOf("answerCallbackQuery").find((c) => c.payload.callback_query_id === q),
      5000,
      "answer",
    );
    expect(emu.callsOf("answerCallbackQuery").find((c) => c.payload.callback_query_id === q)!.payload.text).toBe(
      "Недоступно",
    );
    expect((await h.app.reports.byId(r.id))!.status).toBe("new");
  });

  it("staff commands: /queue lists open reports by priority, /report CODE shows the history, /stats counts", async () => {
    h = await startHarness({
      env: { ADMIN_CHAT_ID: String(STAFF), ENCRYPTION_KEY: KEY, GROUP_MESSAGES_PER_MINUTE: "6000" },
      setup: (emu) => emu.protectedChats.add(STAFF),
    });
    const { emu } = h;
    await approvedStaff(h, STAFF, 88);
    const normal = await seedReport(
      h.app.reports,
      makeAddress("telegram", 6101),
      STAFF,
      {},
      new Date(Date.now() - 3600_000),
    );
    const urgent = await seedReport(h.app.reports, makeAddress("telegram", 6102), STAFF, { urgent: true });
    await emu.waitFor(() => emu.sent(STAFF).filter((m) => m.text?.includes("Обращение")).length >= 2, 5000, "cards");
    let n = emu.sent(STAFF).length;
    emu.groupMessage(STAFF, 88, "/queue");
    const [queue] = await emu.waitForSent(STAFF, n, 1);
    const lines = queue!.text!.split("\n");
    expect(lines[0]).toBe("Открытые обращения (2):");
    expect(lines[1]).toContain(urgent.code);
    expect(lines[1]!.startsWith("🔴")).toBe(true);
    expect(lines[2]).toContain(normal.code);

    n = emu.sent(STAFF).length;
    emu.groupMessage(STAFF, 88, `/report ${normal.code.toLowerCase()}`);
    const [hist] = await emu.waitForSent(STAFF, n, 1);
    expect(hist!.text).toContain(`Обращение ${normal.code}`);
    expect(hist!.text).toContain("Соседку бьют.");

    n = emu.sent(STAFF).length;
    emu.groupMessage(STAFF, 88, "/stats");
    const [stats] = await emu.waitForSent(STAFF, n, 1);
    expect(stats!.text).toContain("всего 2");
    expect(stats!.text).toContain("Бьют, причиняют боль: 2");
    expect(stats!.text).toContain("Шымкент: 2");

    // A member nobody approved is refused the queue, the figures and a history, with the reason.
    emu.setMember(STAFF, 555, "member");
    for (const cmd of ["/queue", "/stats", `/report ${normal.code}`]) {
      n = emu.sent(STAFF).length;
      emu.groupMessage(STAFF, 555, cmd);
      const [refused] = await emu.waitForSent(STAFF, n, 1);
      expect(refused!.text).toBe("Вас ещё не подтвердили. Попросите руководителя: /staff");
    }
    await vi.waitFor(async () =>
      expect(
        (await prismaOf(h!.app.db).auditLog.findMany({ where: { actor: "staff:555" } })).map((a) => a.result),
      ).toEqual(["queue: not approved", "stats: not approved", "report: not approved"]),
    );

    // A stranger's command is ignored and audited.
    n = emu.sent(STAFF).length;
    emu.groupMessage(STAFF, 999, "/queue");
    await h.idle();
    expect(emu.sent(STAFF).length).toBe(n);

    // A reply to a bot message that belongs to no report is refused with the reason.
    n = emu.sent(STAFF).length;
    emu.groupMessage(STAFF, 88, "Ответ кому-то", queue!.id);
    await emu.waitForSent(STAFF, n, 1);

    // Every message that went into the staff group was protected from forwarding and saving (P4).
    const sends = emu.calls.filter(
      (c) =>
        /^(send|copyMessage|forwardMessage)/.test(c.method) &&
        c.method !== "sendChatAction" &&
        Number(c.payload.chat_id) === STAFF,
    );
    expect(sends.length).toBeGreaterThan(5);
    expect(sends.filter((c) => c.payload.protect_content !== true).map((c) => c.method)).toEqual([]);
  });
});

describe("routing and moves", () => {
  it("a staff group upgraded to a supergroup is followed: the card is resent to the new id, remembered after a restart (ST6)", async () => {
    const NEW = -1009998887776;
    h = await startHarness({
      env: { ADMIN_CHAT_ID: String(STAFF), ENCRYPTION_KEY: KEY, GROUP_MESSAGES_PER_MINUTE: "6000" },
      setup: (emu) => {
        emu.protectedChats.add(STAFF);
        emu.protectedChats.add(NEW);
        emu.fail(
          "sendMessage",
          {
            error_code: 400,
            description: "Bad Request: group chat was upgraded to a supergroup chat",
            migrate_to_chat_id: NEW,
          },
          1,
          (p) => Number(p.chat_id) === STAFF,
        );
      },
    });
    const { emu } = h;
    const r = await seedReport(h.app.reports, makeAddress("telegram", 6201), STAFF);
    h.app.outbox.kick();
    await emu.waitFor(() => emu.sent(NEW).some((m) => m.text?.includes(r.code)), 5000, "card in the new group");
    await emu.waitFor(() => emu.sent(NEW).some((m) => m.text?.includes("стала супергруппой")), 5000, "notice");
    expect((await h.app.reports.byId(r.id))!.staffChatId).toBe(NEW);
    expect(await prismaOf(h.app.db).auditLog.count({ where: { action: "chat_migrated" } })).toBe(1);
    expect(emu.sent(STAFF)).toEqual([]);

    await h.restart();
    const r2 = await seedReport(h.app.reports, makeAddress("telegram", 6202), STAFF);
    h.app.outbox.kick();
    // Reports created with the old id after the restart still land in the new group.
    await emu.waitFor(() => emu.sent(NEW).some((m) => m.text?.includes(r2.code)), 5000, "second card");
  });

  it("reports from a region with its own committee chat go there; others go to the admin chat", async () => {
    const COMMITTEE = -1003330001;
    h = await startHarness({
      env: {
        ADMIN_CHAT_ID: String(STAFF),
        REGION_CHATS: `kz-shymkent=${COMMITTEE}`,
        ENCRYPTION_KEY: KEY,
        GROUP_MESSAGES_PER_MINUTE: "6000",
      },
      setup: (emu) => {
        emu.protectedChats.add(STAFF);
        emu.protectedChats.add(COMMITTEE);
      },
    });
    expect(staffChatsOf(h.config)).toEqual([STAFF, COMMITTEE]);
    const { emu } = h;
    // Through the flow: "Шымкент" typed at the where-step.
    const chat = 6301;
    const step = async (act: () => unknown, n = 1) => {
      const before = emu.sent(chat).length;
      act();
      await emu.waitForSent(chat, before, n);
    };
    const press = (label: string | RegExp) => {
      const m = [...emu.sent(chat)].reverse().find((x) => x.payload.reply_markup?.inline_keyboard)!;
      const b = (m.payload.reply_markup.inline_keyboard as Array<Array<{ text: string; callback_data: string }>>)
        .flat()
        .find((x) => (typeof label === "string" ? x.text === label : label.test(x.text)))!;
      emu.press(chat, m.id, b.callback_data);
    };
    await step(() => emu.sendText(chat, "/start"), 2);
    await step(() => press("Русский"));
    await step(() => press(/Казахстан/));
    await step(() => press("✍ Рассказать, что случилось"));
    await step(() => press("Понятно, дальше"));
    await step(() => press("С ребёнком"));
    await step(() => press(/без ухода/));
    await step(() => press("Готово ✔"));
    await step(() => press("Нет"));
    await step(() => emu.sendText(chat, "Шымкент"));
    await step(() => emu.sendText(chat, "Ребёнок один дома третий день."));
    await step(() => press("Дальше"));
    await step(() => press("Нет, не связываться"));
    await step(() => press("Пропустить"));
    await step(() => press("📨 Отправить"), 2);
    const card = await emu.waitFor(
      () => emu.sent(COMMITTEE).find((m) => m.text?.includes("Ребёнок один дома")),
      5000,
      "card in the committee chat",
    );
    expect(card.text).toContain("Кто пострадал: ребёнок");
    expect(card.text).toContain("Связь: связаться нельзя");
    expect(emu.sent(STAFF).filter((m) => m.text?.includes("Ребёнок один дома"))).toEqual([]);
  });

  it("refer offers the region's centers from the directory and records the choice on the card", async () => {
    h = await startHarness({
      env: { ADMIN_CHAT_ID: String(STAFF), ENCRYPTION_KEY: KEY, GROUP_MESSAGES_PER_MINUTE: "6000" },
      setup: (emu) => emu.protectedChats.add(STAFF),
    });
    const { emu } = h;
    await approvedStaff(h, STAFF, 55);
    const r = await seedReport(h.app.reports, makeAddress("telegram", 6401), STAFF, { regionId: "kz-shymkent" });
    const card = await emu.waitFor(() => emu.sent(STAFF).find((m) => m.text?.includes(r.code)), 5000, "card");
    const markup = () =>
      (emu as any).chats.get(STAFF).messages.get(card.id).markup as {
        inline_keyboard: Array<Array<{ text: string; callback_data: string }>>;
      };
    const press = (label: string | RegExp) =>
      emu.press(
        STAFF,
        card.id,
        markup()
          .inline_keyboard.flat()
          .find((b) => (typeof label === "string" ? b.text === label : label.test(b.text)))!.callback_data,
        { id: 55 },
      );
    press("✋ Взять");
    await emu.waitFor(
      () =>
        markup()
          .inline_keyboard.flat()
          .some((b) => b.text === "➡ Направить"),
      5000,
      "taken card",
    );
    press("➡ Направить");
    await emu.waitFor(() => emu.textOf(STAFF, card.id)?.includes(`Куда направить ${r.code}?`), 5000, "refer menu");
    const choices = markup()
      .inline_keyboard.flat()
      .map((b) => b.text);
    expect(choices).toEqual(expect.arrayContaining(["Кризисный центр «Комек» (ОО «Сенім-ай»)", "← Назад"]));
    press(/Комек/);
    await emu.waitFor(
      () => emu.textOf(STAFF, card.id)?.includes("Статус: направлено: Кризисный центр «Комек»"),
      5000,
      "referred card",
    );
    expect((await h.app.reports.byId(r.id))!).toMatchObject({ status: "referred", referredTo: "kz-shy-komek" });
  });
});

describe("the bot's own standing", () => {
  it("demoted in a staff group, the bot holds deliveries there and resumes when it is an admin again (ST3)", async () => {
    h = await startHarness({
      env: { ADMIN_CHAT_ID: String(STAFF), ENCRYPTION_KEY: KEY, GROUP_MESSAGES_PER_MINUTE: "6000" },
      setup: (emu) => emu.protectedChats.add(STAFF),
    });
    const { emu } = h;
    emu.botStatus(STAFF, "member");
    await vi.waitFor(async () =>
      expect(await prismaOf(h!.app.db).auditLog.count({ where: { action: "bot_demoted" } })).toBe(1),
    );
    const r = await seedReport(h.app.reports, makeAddress("telegram", 6501), STAFF);
    await h.app.outbox.drain();
    expect(emu.sent(STAFF).filter((m) => m.text?.includes(r.code))).toEqual([]);
    emu.botStatus(STAFF, "administrator");
    await emu.waitFor(() => emu.sent(STAFF).some((m) => m.text?.includes(r.code)), 5000, "card after restore");
  });
});

describe("redelivered updates (R1)", () => {
  /** A person's `/start` in a private chat, as Telegram sends it. */
  const startFrom = (updateId: number, chatId: number) => ({
    update_id: updateId,
    message: {
      message_id: 1,
      date: Math.floor(Date.now() / 1000),
      chat: { id: chatId, type: "private" as const, first_name: "T" },
      from: { id: chatId, is_bot: false, first_name: "T" },
      text: "/start",
      entities: [{ type: "bot_command" as const, offset: 0, length: 6 }],
    },
  });

  it("the same update handled twice answers once", async () => {
    h = await startHarness({ env: { ADMIN_CHAT_ID: String(STAFF), ENCRYPTION_KEY: KEY } });
    const update = startFrom(777001, 6601);
    await h.app.telegram!.bot.handleUpdate(update);
    await h.app.telegram!.bot.handleUpdate(update);
    expect(h.emu.callsOf("sendMessage", 6601)).toHaveLength(2); // the welcome and the language choice, once
    expect(await prismaOf(h.app.db).processedUpdate.count()).toBeGreaterThanOrEqual(1);
  });

  it("the same update twice in one poll (both started at once) answers once (R1)", async () => {
    h = await startHarness({ env: { ADMIN_CHAT_ID: String(STAFF), ENCRYPTION_KEY: KEY } });
    const update = startFrom(777051, 6651);
    const bot = h.app.telegram!.bot;
    await Promise.all([bot.handleUpdate(update), bot.handleUpdate(structuredClone(update))]);
    await h.app.telegram!.idle();
    expect(h.emu.callsOf("sendMessage", 6651)).toHaveLength(2); // the welcome and the language choice, once
  });

  it("a message redelivered after her quick exit brings nothing back: no answer, no tracked row, no second wipe (R1, S1)", async () => {
    h = await startHarness({ env: { ADMIN_CHAT_ID: String(STAFF), ENCRYPTION_KEY: KEY } });
    const chat = { id: 6602, type: "private" as const, first_name: "T" };
    const from = { id: 6602, is_bot: false, first_name: "T" };
    const date = Math.floor(Date.now() / 1000);
    const said = { update_id: 777101, message: { message_id: 11, date, chat, from, text: "Муж опять бил меня" } };
    const exit = {
      update_id: 777102,
      message: {
        message_id: 12,
        date,
        chat,
        from,
        text: "/exit",
        entities: [{ type: "bot_command" as const, offset: 0, length: 5 }],
      },
    };
    const bot = h.app.telegram!.bot;
    await bot.handleUpdate(said);
    await bot.handleUpdate(exit);
    const db = prismaOf(h.app.db);
    await vi.waitFor(async () => expect(await db.exitPending.count()).toBe(0));
    const sends = h.emu.callsOf("sendMessage", 6602).length;
    const deletes = h.emu.calls.filter((c) => c.method.startsWith("deleteMessage")).length;
    // Telegram sends the update again after a restart that came before its offset was confirmed.
    await bot.handleUpdate(said);
    await h.app.telegram!.idle();
    await new Promise((r) => setTimeout(r, 300));
    expect(h.emu.callsOf("sendMessage", 6602)).toHaveLength(sends);
    expect(h.emu.calls.filter((c) => c.method.startsWith("deleteMessage"))).toHaveLength(deletes);
    expect(
      await db.trackedMessage.count({ where: { address: h.app.db.sealer.chatKey(makeAddress("telegram", 6602)) } }),
    ).toBe(0);
    expect(await db.exitPending.count()).toBe(0);
  });

  it("a command from an anonymous admin or a channel (no person to check) is ignored, not a crash (issue 14)", async () => {
    h = await startHarness({
      env: { ADMIN_CHAT_ID: String(STAFF), ENCRYPTION_KEY: Buffer.alloc(32, 4).toString("base64") },
      setup: (emu) => emu.protectedChats.add(STAFF),
    });
    const bot = h.app.telegram!.bot;
    const chat = { id: STAFF, type: "supergroup" as const, title: "Staff" };
    const queue = { text: "/queue", entities: [{ type: "bot_command" as const, offset: 0, length: 6 }] };
    const date = Math.floor(Date.now() / 1000);
    // An anonymous admin: Telegram's GroupAnonymousBot as `from`, the group as `sender_chat`.
    await bot.handleUpdate({
      update_id: 900001,
      message: {
        message_id: 900001,
        date,
        chat,
        sender_chat: chat,
        from: { id: 1087968824, is_bot: true, first_name: "Group" },
        ...queue,
      },
    } as never);
    // A channel post forwarded into the group: no `from` at all.
    await bot.handleUpdate({
      update_id: 900002,
      message: {
        message_id: 900002,
        date,
        chat,
        sender_chat: { id: -1001111, type: "channel", title: "News" },
        ...queue,
      },
    } as never);
    await h.idle();
    expect(h.emu.sent(STAFF)).toEqual([]);
    expect(h.logs.filter((l) => l.includes("telegram.update_failed"))).toEqual([]);
    expect(h.logs.filter((l) => l.includes("staff.not_a_person"))).toHaveLength(2);
  });
});
