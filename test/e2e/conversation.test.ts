/**
 * Talking with staff feels like a conversation (issue 14): her typed answer
 * after a reply reaches the card, a staff reply to the bot's own note reaches
 * her, nothing staff send into a thread is dropped in silence, and "don't
 * contact me" asks first and can be undone with the case word.
 */
import { afterEach, describe, expect, it } from "vitest";
import { approvedStaff, buttonsOf, pressLabel, startHarness, type Harness } from "../support/harness.ts";
import { fileReport } from "../support/reports.ts";
import { prismaOf } from "../support/prisma.ts";

const STAFF = -1005550001;
const ALICE = 5551;
let h: Harness | undefined;
let offsetMs = 0;
afterEach(async () => {
  await h?.stop();
  h = undefined;
  offsetMs = 0;
});

async function reportWithReply(chat: number) {
  h = await startHarness({
    env: { ADMIN_CHAT_ID: String(STAFF), GROUP_MESSAGES_PER_MINUTE: "6000" },
    setup: (emu) => emu.protectedChats.add(STAFF),
    now: () => new Date(Date.now() + offsetMs),
  });
  const { emu } = h;
  await approvedStaff(h, STAFF, ALICE);
  const { code } = await fileReport(h, chat, { text: "Соседку бьют." });
  const card = await emu.waitFor(
    () => emu.sent(STAFF).find((m) => m.text?.includes(`Обращение ${code}`)),
    5000,
    "card",
  );
  emu.press(
    STAFF,
    card.id,
    (card.payload.reply_markup.inline_keyboard as Array<Array<{ callback_data: string }>>)[0]![0]!.callback_data,
    { id: ALICE },
  );
  await emu.waitFor(() => emu.textOf(STAFF, card.id)?.includes("взял") === true, 5000, "taken");
  let n = emu.sent(chat).length;
  const staffBefore = emu.sent(STAFF).length;
  emu.groupMessage(STAFF, ALICE, "Вам удобно, если придёт участковый?", card.id);
  await emu.waitForSent(chat, n, 1);
  const note = await emu.waitFor(
    () =>
      emu
        .sent(STAFF)
        .slice(staffBefore)
        .find((m) => m.text?.startsWith(`Ответ для ${code}`)),
    5000,
    "note",
  );
  n = emu.sent(chat).length;
  pressLabel(emu, chat, "Прочитать");
  const [shown] = await emu.waitForSent(chat, n, 1);
  return { emu, code, card, note, shown: shown! };
}

/** «📂 Мои обращения», then the report in it. */
async function openMine(chat: number) {
  const { emu } = h!;
  for (const label of ["📂 Мои обращения", / · в работе$/]) {
    const n = emu.sent(chat).length;
    pressLabel(emu, chat, label);
    await emu.waitForSent(chat, n, 1);
  }
}

describe("a conversation with staff (issue 14)", () => {
  it("after a shown reply, what she types goes to staff as her answer, and the screen says so, with a way not to answer", async () => {
    const chat = 5601;
    const { emu, code, card, shown } = await reportWithReply(chat);
    expect(shown.text).toMatch(
      /^Обращение .*\n\nСотрудник центра · \d\d\.\d\d \d\d:\d\d:\nВам удобно, если придёт участковый\?/,
    );
    expect(shown.text).toContain("Чтобы ответить, просто напишите сообщение: оно уйдёт сотруднику центра.");
    expect(buttonsOf(shown.payload)).toContain("✕ Не отвечать");
    const n = emu.sent(chat).length;
    emu.sendText(chat, "Да, лучше днём.");
    const [done] = await emu.waitForSent(chat, n, 1);
    expect(done!.text).toContain(`Передано сотрудникам (${code}).`);
    const back = await emu.waitFor(
      () => emu.sent(STAFF).find((m) => m.text?.includes("от автора")),
      5000,
      "answer in group",
    );
    expect(back.text).toBe(`💬 ${code}, от автора:\nДа, лучше днём.`);
    expect(back.payload.reply_parameters.message_id).toBe(card.id);
  });

  it("«✕ Не отвечать», or 30 minutes later, and what she types is not sent", async () => {
    const chat = 5602;
    const { emu } = await reportWithReply(chat);
    let n = emu.sent(chat).length;
    pressLabel(emu, chat, "✕ Не отвечать");
    await emu.waitForSent(chat, n, 1);
    n = emu.sent(chat).length;
    emu.sendText(chat, "это не для них");
    const [reply] = await emu.waitForSent(chat, n, 1);
    expect(reply!.text).toContain("Я лучше понимаю кнопки");

    // Read again, then wait past the window.
    await openMine(chat);
    offsetMs = 31 * 60_000;
    n = emu.sent(chat).length;
    emu.sendText(chat, "и это тоже");
    await emu.waitForSent(chat, n, 1);
    await h!.idle();
    await h!.app.outbox.drain();
    expect(emu.sent(STAFF).some((m) => m.text?.includes("от автора"))).toBe(false);
  });

  it("a staff reply to the bot's own note reaches the reporter; a reply to a bot message outside any report is refused with the reason", async () => {
    const chat = 5603;
    const { emu, note } = await reportWithReply(chat);
    let n = emu.sent(chat).length;
    emu.groupMessage(STAFF, ALICE, "И ещё: вы в безопасности сейчас?", note.id);
    const [knock] = await emu.waitForSent(chat, n, 1);
    expect(knock!.text).toBe("У вас новое сообщение. Нажмите, чтобы прочитать.");
    expect(await prismaOf(h!.app.db).reportMessage.count({ where: { direction: "out" } })).toBe(2);

    n = emu.sent(STAFF).length;
    emu.groupMessage(STAFF, ALICE, "/queue");
    const [queue] = await emu.waitForSent(STAFF, n, 1);
    n = emu.sent(STAFF).length;
    emu.groupMessage(STAFF, ALICE, "Это кому?", queue!.id);
    const [refused] = await emu.waitForSent(STAFF, n, 1);
    expect(refused!.text).toBe(
      "Не понял, к какому обращению это. Ответьте на карточку обращения или на сообщение под ней.",
    );
  });

  it("«🔕 Не связываться со мной» asks once, can be kept, and is undone from «📂 Мои обращения» only with the case word", async () => {
    const chat = 5604;
    const { emu, code, card } = await reportWithReply(chat);
    let n = emu.sent(chat).length;
    pressLabel(emu, chat, "🔕 Не связываться со мной");
    const [ask] = await emu.waitForSent(chat, n, 1);
    expect(ask!.text).toBe(
      `Больше не связываться с вами по обращению ${code}? Сотрудники не смогут вам написать. Вернуть можно в «📂 Мои обращения», с кодовым словом.`,
    );
    n = emu.sent(chat).length;
    pressLabel(emu, chat, "Нет, оставить");
    await emu.waitForSent(chat, n, 1);
    expect((await h!.app.reports.byCode(code))!.contact).toBe("any");

    n = emu.sent(chat).length;
    pressLabel(emu, chat, "🔕 Не связываться со мной");
    await emu.waitForSent(chat, n, 1);
    n = emu.sent(chat).length;
    pressLabel(emu, chat, "Да, не связываться");
    const [stopped] = await emu.waitForSent(chat, n, 1);
    expect(stopped!.text).toContain(
      "Хорошо, с вами больше не будут связываться. Если передумаете, разрешить связь снова можно в «📂 Мои обращения».",
    );
    expect((await h!.app.reports.byCode(code))!.contact).toBe("none");
    let s = emu.sent(STAFF).length;
    emu.groupMessage(STAFF, ALICE, "Вы здесь?", card.id);
    const [noContact] = await emu.waitForSent(STAFF, s, 1);
    expect(noContact!.text).toContain("связаться нельзя");

    await openMine(chat);
    n = emu.sent(chat).length;
    pressLabel(emu, chat, "🔔 Снова разрешить связь");
    const [word] = await emu.waitForSent(chat, n, 1);
    expect(word!.text).toBe("Чтобы снова разрешить связь, напишите кодовое слово этого обращения.");
    n = emu.sent(chat).length;
    emu.sendText(chat, "малина");
    await emu.waitForSent(chat, n, 1);
    expect((await h!.app.reports.byCode(code))!.contact).toBe("none");
    // Again, with the right word.
    await openMine(chat);
    n = emu.sent(chat).length;
    pressLabel(emu, chat, "🔔 Снова разрешить связь");
    await emu.waitForSent(chat, n, 1);
    n = emu.sent(chat).length;
    emu.sendText(chat, "черника");
    const [resumed] = await emu.waitForSent(chat, n, 1);
    expect(resumed!.text).toContain(`Готово: сотрудники снова могут вам написать (${code}).`);
    expect((await h!.app.reports.byCode(code))!.contact).toBe("any");
    await emu.waitFor(
      () => emu.sent(STAFF).some((m) => m.text === `${code}: автор снова разрешил(а) связь.`),
      5000,
      "staff told",
    );
    s = emu.sent(STAFF).length;
    n = emu.sent(chat).length;
    emu.groupMessage(STAFF, ALICE, "Мы снова на связи.", card.id);
    await emu.waitForSent(chat, n, 1);
    const audit = (await prismaOf(h!.app.db).auditLog.findMany()).map((a) => `${a.action} ${a.result}`);
    expect(audit).toEqual(
      expect.arrayContaining(["contact_withdrawn ok", "contact_resumed denied", "contact_resumed ok"]),
    );
  });
});
