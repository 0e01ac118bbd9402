import fs from "node:fs";
import { afterEach, describe, expect, it, vi } from "vitest";
import { makeAddress } from "../../src/core/types.ts";
import { buttonsOf, pressLabel, startHarness, type Harness, approvedStaff } from "../support/harness.ts";
import { fileReport } from "../support/reports.ts";
import { prismaOf } from "../support/prisma.ts";

const STAFF = -1001234567890;
const KEY = Buffer.alloc(32, 7).toString("base64");
const ALICE = 501; // staff member
const BOB = 502; // staff member
const MALLORY = 666; // not in the staff chat

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

async function staffHarness(env: Record<string, string> = {}) {
  const harness = await startHarness({
    env: { ADMIN_CHAT_ID: String(STAFF), ENCRYPTION_KEY: KEY, GROUP_MESSAGES_PER_MINUTE: "6000", ...env },
    setup: (emu) => emu.protectedChats.add(STAFF),
  });
  await approvedStaff(harness, STAFF, ALICE);
  await approvedStaff(harness, STAFF, BOB);
  return harness;
}

const cardOf = (h: Harness, code: string) => h.emu.sent(STAFF).find((m) => m.text?.includes(`Обращение ${code}`));
const buttonData = (payload: Record<string, any>, label: string) =>
  (payload.reply_markup.inline_keyboard as Array<Array<{ text: string; callback_data: string }>>)
    .flat()
    .find((b) => b.text === label)!.callback_data;

describe("reports end to end (issue 3)", () => {
  it("report → card → take → a stranger is refused → reply both ways → close", async () => {
    h = await staffHarness();
    const { emu } = h;
    const chat = 7001;
    const { code, confirm } = await fileReport(h, chat, {
      text: "За стеной каждую ночь кричит ребёнок, слышны удары.",
      photo: "AgACphoto123",
    });
    expect(code).toMatch(/^[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}$/);
    expect(confirm.text).toContain("Сотрудник центра прочитает его и ответит здесь.");

    // The card: code, kinds, region, reporter type, text; and a Take button.
    const card = await emu.waitFor(() => cardOf(h!, code), 5000, "the card");
    expect(card.text).toContain("Кто пострадал: другой взрослый");
    expect(card.text).toContain("Что происходит: Бьют, причиняют боль; Угрожают, преследуют");
    expect(card.text).toContain("Где: Шымкент");
    expect(card.text).toContain("За стеной каждую ночь кричит ребёнок");
    expect(card.payload.protect_content).toBe(true);
    expect(buttonsOf(card.payload)).toEqual(["✋ Взять"]);
    expect(card.text).toContain("Фото: 1 (ниже)");
    // The photo follows as a new send of its file id, replying to the card — never a forward (P2).
    const photo = await emu.waitFor(() => emu.sent(STAFF).find((m) => m.method === "sendPhoto"), 5000, "photo");
    expect(photo.payload.photo).toBe("AgACphoto123");
    expect(photo.payload.caption).toBe(`📷 ${code}, фото 1/1`);
    expect(photo.payload.reply_parameters.message_id).toBe(card.id);
    // Nothing in the staff chat names the reporter.
    expect(JSON.stringify(emu.callsOf("sendMessage", STAFF))).not.toContain(String(chat));

    // A non-member presses Take: refused, nothing changes.
    const take = buttonData(card.payload, "✋ Взять");
    const q1 = emu.press(STAFF, card.id, take, { id: MALLORY });
    await emu.waitFor(
      () => emu.callsOf("answerCallbackQuery").find((c) => c.payload.callback_query_id === q1),
      5000,
      "refusal",
    );
    expect(emu.callsOf("answerCallbackQuery").find((c) => c.payload.callback_query_id === q1)!.payload.text).toBe(
      "Недоступно",
    );
    const report = (await h.app.reports.byCode(code))!;
    expect(report.status).toBe("new");

    // Alice takes it: the card is edited in place and shows who holds it.
    const q2 = emu.press(STAFF, card.id, take, { id: ALICE });
    await emu.waitFor(() => emu.textOf(STAFF, card.id)?.includes("Статус: взял(а) Staff501"), 5000, "card edit");
    expect(emu.callsOf("answerCallbackQuery").find((c) => c.payload.callback_query_id === q2)!.payload.text).toBe(
      `Вы взяли ${code}`,
    );

    // Alice replies to the card: the reporter gets a neutral knock, and the text only after pressing Read.
    const knocksBefore = emu.sent(chat).length;
    emu.groupMessage(STAFF, ALICE, "Здравствуйте. Мы можем прислать участкового. Вам удобно?", card.id);
    const [knock] = await emu.waitForSent(chat, knocksBefore, 1);
    expect(knock!.text).toBe("У вас новое сообщение. Нажмите, чтобы прочитать.");
    expect(JSON.stringify(knock!.payload)).not.toContain("участков");
    await emu.waitFor(
      () => emu.sent(STAFF).some((m) => m.text?.startsWith(`Ответ для ${code} поставлен в очередь`)),
      5000,
      "staff note",
    );
    const readBefore = emu.sent(chat).length;
    pressLabel(emu, chat, "Прочитать");
    const [content] = await emu.waitForSent(chat, readBefore, 1);
    expect(content!.text).toMatch(
      /Сотрудник центра · \d\d\.\d\d \d\d:\d\d:\nЗдравствуйте. Мы можем прислать участкового. Вам удобно?/,
    );
    expect(content!.text).not.toContain("Staff501");
    expect(content!.payload.protect_content).toBe(true);

    // The reporter answers (she just types, issue 14): it comes back into the group under the card, without forwarding.
    emu.sendText(chat, "Да, лучше днём.");
    const back = await emu.waitFor(
      () => emu.sent(STAFF).find((m) => m.text?.includes("от автора")),
      5000,
      "answer in group",
    );
    expect(back.text).toBe(`💬 ${code}, от автора:\nДа, лучше днём.`);
    expect(back.payload.reply_parameters.message_id).toBe(card.id);
    expect(emu.calls.some((c) => c.method === "forwardMessage")).toBe(false);

    // Close with an outcome.
    const closeData = buttonData(
      { reply_markup: (emu as any).chats.get(STAFF).messages.get(card.id).markup },
      "✔ Закрыть",
    );
    emu.press(STAFF, card.id, closeData, { id: ALICE });
    await emu.waitFor(() => emu.textOf(STAFF, card.id)?.includes("Чем закончилось"), 5000, "outcomes");
    const outcomes = (emu as any).chats.get(STAFF).messages.get(card.id).markup;
    emu.press(STAFF, card.id, buttonData({ reply_markup: outcomes }, "помогли"), { id: ALICE });
    await emu.waitFor(() => emu.textOf(STAFF, card.id)?.includes("Статус: закрыто: помогли"), 5000, "closed card");
    expect((await h.app.reports.byCode(code))!.status).toBe("closed");

    // Every staff action is in the audit log, without content.
    const audit = await prismaOf(h.app.db).auditLog.findMany({ orderBy: { id: "asc" } });
    expect(audit.map((a) => `${a.actor.split(":")[0]} ${a.action} ${a.result}`)).toEqual(
      expect.arrayContaining([
        "reporter submit ok",
        `staff denied not a member`,
        "staff take ok",
        "staff reply queued",
        "reporter add_info ok",
        "staff close helped",
      ]),
    );
    expect(JSON.stringify(audit)).not.toContain("участков");
  });

  it("a reply to a closed report is refused, and nothing reaches the reporter", async () => {
    h = await staffHarness();
    const { emu } = h;
    const chat = 7002;
    const { code } = await fileReport(h, chat, { text: "Соседку бьют." });
    const r = (await h.app.reports.byCode(code))!;
    await h.app.reports.take(r.id, { id: ALICE, name: "Alice" }, new Date(), []);
    await h.app.reports.update(
      r.id,
      { status: "closed", outcome: "duplicate", from: ["taken"] },
      new Date(),
      { actor: "staff:501", action: "close", result: "duplicate" },
      [],
    );
    const card = await emu.waitFor(() => cardOf(h!, code), 5000, "card");
    const before = emu.sent(chat).length;
    emu.groupMessage(STAFF, ALICE, "Вы здесь?", card.id);
    await emu.waitFor(
      () => emu.sent(STAFF).some((m) => m.text?.startsWith(`${code} закрыто: ответ не отправлен`)),
      5000,
      "refusal",
    );
    await h.idle();
    await h.app.outbox.drain();
    expect(emu.sent(chat).length).toBe(before);
  });

  it("ordinary chatter in the staff group is neither stored nor answered (P6)", async () => {
    h = await staffHarness();
    const auditBefore = await prismaOf(h.app.db).auditLog.count();
    const calls = h.emu.calls.length;
    h.emu.groupMessage(STAFF, ALICE, "Коллеги, кто сегодня дежурит? CANARY-P6");
    await h.idle();
    expect(await prismaOf(h.app.db).auditLog.count()).toBe(auditBefore);
    expect(h.emu.calls.slice(calls).filter((c) => c.method.startsWith("send"))).toEqual([]);
    expect(h.logs.join("\n")).not.toContain("CANARY-P6");
  });

  it("forged and stale staff buttons are answered once, change nothing and are audited (ST2)", async () => {
    h = await staffHarness();
    const { emu } = h;
    const { code } = await fileReport(h, 7003, { text: "Кричат за стеной." });
    const card = await emu.waitFor(() => cardOf(h!, code), 5000, "card");
    const real = buttonData(card.payload, "✋ Взять");
    const forged = [
      "s:take:AAAAAAAAAAAAAAAA:abcdefgh", // a report that does not exist, wrong signature
      real.slice(0, -1) + (real.endsWith("A") ? "B" : "A"), // signature tampered
      real.replace("s:take:", "s:close:"), // action swapped under the same signature
      "\u0000".repeat(10),
      "x".repeat(64),
    ];
    const ids = forged.map((d) => emu.press(STAFF, card.id, d, { id: ALICE }));
    await emu.waitFor(
      () => ids.every((id) => emu.callsOf("answerCallbackQuery").some((c) => c.payload.callback_query_id === id)),
      5000,
      "answers",
    );
    for (const id of ids)
      expect(emu.callsOf("answerCallbackQuery").filter((c) => c.payload.callback_query_id === id)).toHaveLength(1);
    expect((await h.app.reports.byCode(code))!.status).toBe("new");
    const denied = await prismaOf(h.app.db).auditLog.count({ where: { action: "denied" } });
    expect(denied).toBe(forged.length);
  });

  it("the database file, read raw, holds no reporter chat id and no plain report text (P1)", async () => {
    h = await staffHarness();
    const chat = 778899001;
    const secret = "Уникальный текст обращения ZQX-4471";
    const { code } = await fileReport(h, chat, { text: secret });
    await h.emu.waitFor(() => cardOf(h!, code), 5000, "card");
    await prismaOf(h.app.db).$queryRawUnsafe("PRAGMA wal_checkpoint(TRUNCATE)");
    // The chat's own session and message ids are erased by quick exit; what must not hold it is the report side.
    h.emu.sendText(chat, "/exit");
    await vi.waitFor(async () =>
      expect(
        await prismaOf(h!.app.db).session.count({
          where: { address: h!.app.db.sealer.chatKey(makeAddress("telegram", chat)) },
        }),
      ).toBe(0),
    );
    // The wipe is over once its marker is gone (every id deleted): then nothing of the chat is left.
    await vi.waitFor(async () => expect(await prismaOf(h!.app.db).exitPending.count()).toBe(0));
    await prismaOf(h.app.db).$queryRawUnsafe("PRAGMA wal_checkpoint(TRUNCATE)");
    const raw = Buffer.concat([
      fs.readFileSync(h.dbFile),
      fs.existsSync(`${h.dbFile}-wal`) ? fs.readFileSync(`${h.dbFile}-wal`) : Buffer.alloc(0),
    ]);
    const needles = [
      String(chat),
      Buffer.from(String(chat)).toString("base64"),
      `telegram:${chat}`,
      "ZQX-4471",
      Buffer.from(secret).toString("base64").slice(0, 20),
    ];
    for (const n of needles) expect(raw.includes(Buffer.from(n)), n).toBe(false);
    expect(raw.includes(Buffer.from(code))).toBe(true); // the code is meant to be there
  });
});
