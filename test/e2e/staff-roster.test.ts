/**
 * Staff authority (ST1, decision 11): membership lets a person see cards;
 * acting needs a supervisor's approval; acting on a report someone else holds
 * needs a supervisor; an unprotected group gets cards without the text (P4).
 * Tried as a person added to the group a minute ago would.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { makeAddress } from "../../src/core/types.ts";
import { approvedStaff, startHarness, type Harness } from "../support/harness.ts";
import { seedReport } from "../support/reports.ts";
import { prismaOf } from "../support/prisma.ts";

const STAFF = -1007770001;
const BOSS = 7001; // named in STAFF_SUPERVISORS
const NEWBIE = 7002; // added to the group a minute ago
const OLD_HAND = 7003; // approved staff
const ADMIN = 7004; // a group administrator, not a supervisor

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

async function harness(env: Record<string, string> = {}, protect = true) {
  h = await startHarness({
    env: { ADMIN_CHAT_ID: String(STAFF), STAFF_SUPERVISORS: String(BOSS), GROUP_MESSAGES_PER_MINUTE: "6000", ...env },
    setup: (emu) => {
      if (protect) emu.protectedChats.add(STAFF);
    },
    start: { staffProtectionCacheMs: 0 },
  });
  h.emu.setMember(STAFF, BOSS, "member");
  return h;
}

const buttons = (payload: Record<string, any>) =>
  (payload.reply_markup?.inline_keyboard ?? []).flat() as Array<{ text: string; callback_data: string }>;
const answerTo = async (h: Harness, q: string) =>
  (
    await h.emu.waitFor(
      () => h.emu.callsOf("answerCallbackQuery").find((c) => c.payload.callback_query_id === q),
      5000,
      "answer",
    )
  ).payload.text as string;
async function cardOf(h: Harness, code: string) {
  return h.emu.waitFor(() => h.emu.sent(STAFF).find((m) => m.text?.includes(`Обращение ${code}`)), 5000, "card");
}

describe("staff roster (ST1, decision 11)", () => {
  it("a new member sees the card but Take is refused with the reason; a supervisor approves them in the group with /staff; then Take works; both are audited", async () => {
    h = await harness();
    const { emu } = h;
    emu.memberUpdate(STAFF, NEWBIE, "member");
    await emu.waitFor(
      () => emu.sent(STAFF).some((m) => m.text?.startsWith("Staff7002 в группе и видит карточки")),
      5000,
      "joined notice",
    );
    const r = await seedReport(h.app.reports, makeAddress("telegram", 7101), STAFF);
    const card = await cardOf(h, r.code);
    expect(card.text).toContain("Соседку бьют.");
    const take = buttons(card.payload)[0]!.callback_data;

    expect(await answerTo(h, emu.press(STAFF, card.id, take, { id: NEWBIE }))).toBe(
      "Вас ещё не подтвердили. Попросите руководителя: /staff",
    );
    expect((await h.app.reports.byId(r.id))!.status).toBe("new");

    // The newbie cannot approve themself.
    let n = emu.sent(STAFF).length;
    emu.groupMessage(STAFF, NEWBIE, "/staff");
    const [list] = await emu.waitForSent(STAFF, n, 1);
    expect(list!.text).toContain("👑 id 7001 — руководитель");
    expect(list!.text).toContain("⏳ Staff7002 — ждёт подтверждения");
    const approve = buttons(list!.payload).find((b) => b.text === "✅ Staff7002")!.callback_data;
    expect(await answerTo(h, emu.press(STAFF, list!.id, approve, { id: NEWBIE }))).toBe(
      "Это может сделать только руководитель",
    );

    n = emu.sent(STAFF).length;
    expect(await answerTo(h, emu.press(STAFF, list!.id, approve, { id: BOSS }))).toBe("Staff7002: подтверждено");
    await emu.waitFor(
      () => emu.textOf(STAFF, list!.id)?.includes("✅ Staff7002 — может работать с обращениями") === true,
      5000,
      "list edited",
    );
    await emu.waitFor(
      () =>
        emu
          .sent(STAFF)
          .slice(n)
          .some((m) => m.text === "✅ Staff7002 может работать с обращениями (подтвердил(а) Staff7001)."),
      5000,
      "approved notice",
    );

    expect(await answerTo(h, emu.press(STAFF, card.id, take, { id: NEWBIE }))).toBe(`Вы взяли ${r.code}`);
    const audit = (await prismaOf(h.app.db).auditLog.findMany({ orderBy: { id: "asc" } })).map(
      (a) => `${a.actor} ${a.action} ${a.result}`,
    );
    expect(audit).toEqual(
      expect.arrayContaining([
        `staff:${NEWBIE} denied not approved`,
        `staff:${NEWBIE} denied approve: not a supervisor`,
        `staff:${BOSS} staff_approve user ${NEWBIE}`,
        `staff:${NEWBIE} take ok`,
      ]),
    );
  });

  it("acting on a report someone else holds needs a supervisor: a group administrator who is not one is refused, the supervisor is not", async () => {
    h = await harness();
    const { emu } = h;
    await approvedStaff(h, STAFF, OLD_HAND);
    await approvedStaff(h, STAFF, ADMIN);
    emu.setMember(STAFF, ADMIN, "administrator");
    const r = await seedReport(h.app.reports, makeAddress("telegram", 7102), STAFF);
    const card = await cardOf(h, r.code);
    expect(
      await answerTo(h, emu.press(STAFF, card.id, buttons(card.payload)[0]!.callback_data, { id: OLD_HAND })),
    ).toBe(`Вы взяли ${r.code}`);
    await emu.waitFor(() => emu.textOf(STAFF, card.id)?.includes("взял(а) Staff7003") === true, 5000, "taken card");
    const close = buttons({ reply_markup: (emu as any).chats.get(STAFF).messages.get(card.id).markup }).find(
      (b) => b.text === "✔ Закрыть",
    )!.callback_data;
    expect(await answerTo(h, emu.press(STAFF, card.id, close, { id: ADMIN }))).toBe("Это обращение ведёт Staff7003");
    // A reply from the administrator is refused too, with the reason.
    const n = emu.sent(STAFF).length;
    emu.groupMessage(STAFF, ADMIN, "Я сама отвечу", card.id);
    const [note] = await emu.waitForSent(STAFF, n, 1);
    expect(note!.text).toBe("Это обращение ведёт Staff7003");
    expect(await prismaOf(h.app.db).reportMessage.count()).toBe(0);
    // The supervisor may step in.
    const q = emu.press(STAFF, card.id, close, { id: BOSS });
    await emu.waitFor(
      () => emu.textOf(STAFF, card.id)?.includes("Чем закончилось") === true,
      5000,
      "outcomes for the supervisor",
    );
    expect(await answerTo(h, q)).toBeFalsy();
  });

  it("a supervisor removes someone: they can no longer act and what they held goes back to the queue", async () => {
    h = await harness();
    const { emu } = h;
    await approvedStaff(h, STAFF, OLD_HAND);
    const r = await seedReport(h.app.reports, makeAddress("telegram", 7103), STAFF);
    const card = await cardOf(h, r.code);
    const take = buttons(card.payload)[0]!.callback_data;
    await answerTo(h, emu.press(STAFF, card.id, take, { id: OLD_HAND }));
    const n = emu.sent(STAFF).length;
    emu.groupMessage(STAFF, BOSS, "/staff");
    const [list] = await emu.waitForSent(STAFF, n, 1);
    const remove = buttons(list!.payload).find((b) => b.text === "✖ Staff7003")!.callback_data;
    expect(await answerTo(h, emu.press(STAFF, list!.id, remove, { id: BOSS }))).toBe("Staff7003: убрано из списка");
    await vi.waitFor(async () => expect((await h!.app.reports.byId(r.id))!.status).toBe("new"));
    await emu.waitFor(
      () =>
        emu
          .sent(STAFF)
          .some((m) =>
            m.text?.includes(
              "Staff7003 больше не может работать с обращениями (решение: Staff7001). Взятые им(ей) обращения вернулись в очередь: 1.",
            ),
          ),
      5000,
      "removed notice",
    );
    expect(await answerTo(h, emu.press(STAFF, card.id, take, { id: OLD_HAND }))).toBe(
      "Вас ещё не подтвердили. Попросите руководителя: /staff",
    );
  });

  it("with no supervisors configured the group is told at start, and nobody can act", async () => {
    h = await harness({ STAFF_SUPERVISORS: "" });
    const { emu } = h;
    await emu.waitFor(
      () => emu.sent(STAFF).some((m) => m.text?.startsWith("⚠ Руководители не назначены (STAFF_SUPERVISORS)")),
      5000,
      "notice",
    );
    emu.setMember(STAFF, ADMIN, "creator");
    const r = await seedReport(h.app.reports, makeAddress("telegram", 7104), STAFF);
    const card = await cardOf(h, r.code);
    expect(await answerTo(h, emu.press(STAFF, card.id, buttons(card.payload)[0]!.callback_data, { id: ADMIN }))).toBe(
      "Вас ещё не подтвердили. Попросите руководителя: /staff",
    );
  });
});

describe("a staff group that does not restrict saving content (P4, decision 11)", () => {
  it("gets cards, answers and history without the report's text, and full cards come back by themselves once protection is on", async () => {
    h = await harness({}, false);
    const { emu } = h;
    await approvedStaff(h, STAFF, OLD_HAND);
    await emu.waitFor(() => emu.sent(STAFF).some((m) => m.text?.includes("«Запретить копирование»")), 5000, "warning");
    const r = await seedReport(h.app.reports, makeAddress("telegram", 7105), STAFF, {
      text: "Секретная подробность 123",
    });
    const card = await cardOf(h, r.code);
    expect(card.text).toContain(r.code);
    expect(card.text).toContain("Где:");
    expect(card.text).toContain("🔒 Текст скрыт");
    expect(card.text).not.toContain("Секретная подробность");
    await h.app.reports.addMessage(
      r.id,
      "in",
      "Ещё деталь 456",
      new Date(),
      { actor: "reporter", action: "add_info", reportId: r.id, result: "ok" },
      (mid) => [
        {
          dedupeKey: `to_staff:${mid}`,
          target: `staff:${STAFF}`,
          payload: { type: "to_staff", reportId: r.id, messageId: mid },
        },
      ],
    );
    h.app.outbox.kick();
    await emu.waitFor(
      () => emu.sent(STAFF).some((m) => m.text?.startsWith(`💬 ${r.code}, от автора: 🔒`)),
      5000,
      "withheld answer",
    );
    let n = emu.sent(STAFF).length;
    emu.groupMessage(STAFF, OLD_HAND, `/report ${r.code}`);
    const [hist] = await emu.waitForSent(STAFF, n, 1);
    expect(hist!.text).toContain("🔒 История скрыта");
    expect(JSON.stringify(emu.sent(STAFF))).not.toMatch(/Секретная подробность|Ещё деталь/);

    emu.protectedChats.add(STAFF);
    // The next look at the group (any delivery or press) sees it and edits the open cards.
    n = emu.sent(STAFF).length;
    emu.groupMessage(STAFF, OLD_HAND, `/report ${r.code}`);
    const [full] = await emu.waitForSent(STAFF, n, 1);
    expect(full!.text).toContain("Ещё деталь 456");
    await emu.waitFor(
      () => emu.textOf(STAFF, card.id)?.includes("Секретная подробность 123") === true,
      5000,
      "card shows its text again",
    );
  });
});
