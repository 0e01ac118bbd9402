/**
 * The directory kept by staff in chat (issue 16). Tried as the harm it guards
 * against would be tried: someone in the group who was not approved, someone
 * outside it, a staff member whose own new phone nobody else checked. A new
 * number reaches survivors only once a supervisor other than its author
 * confirms it; the weekly round asks the right group about old entries.
 */
import { afterEach, describe, expect, it } from "vitest";
import { approvedStaff, buttonsOf, startHarness, tempDir, type Harness } from "../support/harness.ts";
import { localDay } from "../../src/core/directory/search.ts";
import { prismaOf } from "../support/prisma.ts";

const STAFF = -1008880001;
const SHYMKENT_GROUP = -1008880002;
const DIRECTORY = -1008880003;
const BOSS = 7101; // a supervisor (STAFF_SUPERVISORS)
const BOSS2 = 7106; // the second supervisor
const EDITOR = 7103; // approved staff
const NEWBIE = 7102; // a member nobody approved
const OUTSIDER = 7109; // not in the group
// Clearly not a real number: tests must not put a plausible phone in front of anyone.
const NEW_PHONE = "+7 700 000 0001";

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

async function harness(env: Record<string, string> = {}) {
  h = await startHarness({
    env: {
      ADMIN_CHAT_ID: String(STAFF),
      STAFF_SUPERVISORS: `${BOSS},${BOSS2}`,
      GROUP_MESSAGES_PER_MINUTE: "6000",
      ...env,
    },
    // Groups that restrict saving content, as they should: no start-up warning among the messages.
    setup: (emu) => [STAFF, SHYMKENT_GROUP, DIRECTORY].forEach((c) => emu.protectedChats.add(c)),
  });
  h.emu.setMember(STAFF, BOSS, "member");
  h.emu.setMember(STAFF, BOSS2, "member");
  h.emu.setMember(STAFF, NEWBIE, "member");
  await approvedStaff(h, STAFF, EDITOR);
  return h;
}

type Sent = { id: number; text?: string; payload: Record<string, any> };
const data = (m: Sent, label: string | RegExp) => {
  const b = ((m.payload.reply_markup?.inline_keyboard ?? []) as Array<Array<{ text: string; callback_data: string }>>)
    .flat()
    .find((x) => (typeof label === "string" ? x.text === label : label.test(x.text)));
  if (!b) throw new Error(`no button ${label} among ${buttonsOf(m.payload).join(" | ")}`);
  return b.callback_data;
};
const answerTo = async (h: Harness, q: string) =>
  (
    await h.emu.waitFor(
      () => h.emu.callsOf("answerCallbackQuery").find((c) => c.payload.callback_query_id === q),
      5000,
      "answer",
    )
  ).payload.text as string | undefined;

/** What a survivor sees for a typed town: the results message. */
async function survivorSees(h: Harness, chat: number, town: string): Promise<string> {
  const { emu } = h;
  emu.sendText(chat, "/start", { languageCode: "ru" });
  await emu.waitForSent(chat, 0, 2);
  const pick = (label: string | RegExp) => {
    const m = [...emu.sent(chat)].reverse().find((x) => x.payload.reply_markup?.inline_keyboard)!;
    emu.press(chat, m.id, data(m, label));
  };
  pick("Русский");
  await emu.waitForSent(chat, 2, 1);
  pick(/Казахстан/);
  await emu.waitForSent(chat, 3, 1);
  const n = emu.sent(chat).length;
  emu.sendText(chat, town);
  const msgs = await emu.waitForSent(chat, n, 2);
  return msgs.at(-1)!.text!;
}

/** The Komek card of Shymkent, opened from /centers by `user`. */
/**
 * The list for Шымкент, then the Комек card from it. Each is waited for by what it is, not as the
 * next message: a roster or start-up notice may reach the group in between.
 */
async function komekCard(h: Harness, chat: number, user: number): Promise<Sent> {
  const { emu } = h;
  let n = emu.sent(chat).length;
  emu.groupMessage(chat, user, "/centers Шымкент");
  const list = await emu.waitFor(
    () =>
      emu
        .sent(chat)
        .slice(n)
        .find((m) => m.text?.startsWith("Найдено по «Шымкент»")),
    5000,
    "the list",
  );
  expect(list.text).toMatch(/^Найдено по «Шымкент»: \d+/);
  n = emu.sent(chat).length;
  emu.press(chat, list.id, data(list, /Комек/), { id: user });
  return emu.waitFor(
    () =>
      emu
        .sent(chat)
        .slice(n)
        .find((m) => buttonsOf(m.payload).length > 0),
    5000,
    "the card",
  );
}

/** Today as a staff group outside any region reads it (Asia/Almaty, no TZ set in tests): "05.12.2026". */
const staffToday = () => localDay(new Date(), "Asia/Almaty").split("-").reverse().join(".");

const month = (d = new Date()) =>
  `${["январь", "февраль", "март", "апрель", "май", "июнь", "июль", "август", "сентябрь", "октябрь", "ноябрь", "декабрь"][d.getUTCMonth()]} ${d.getUTCFullYear()}`;

describe("the directory in chat (issue 16)", () => {
  it("a new phone reaches survivors only after a supervisor other than its author confirms it; then with 'checked <month>'; outsiders and unapproved members cannot edit", async () => {
    h = await harness();
    const { emu } = h;
    const card = await komekCard(h, STAFF, EDITOR);
    // The card shows what survivors see, and the buttons to keep it true.
    expect(card.text).toContain("Кризисный центр «Комек»");
    expect(card.text).toContain("Телефон не опубликован: позвоните на 111");
    expect(buttonsOf(card.payload)).toEqual([
      "☎ Телефон",
      "🕘 Часы",
      "📍 Адрес",
      "🧩 Услуги",
      "🔘 Статус",
      "✅ Проверено сегодня",
      "🗂 История",
    ]);

    // Someone outside the group, and a member nobody approved: refused, nothing asked.
    const before = emu.sent(STAFF).length;
    expect(await answerTo(h, emu.press(STAFF, card.id, data(card, "☎ Телефон"), { id: OUTSIDER }))).toBe("Недоступно");
    expect(await answerTo(h, emu.press(STAFF, card.id, data(card, "☎ Телефон"), { id: NEWBIE }))).toBe(
      "Вас ещё не подтвердили. Попросите руководителя: /staff",
    );
    // A forged button (another entry's id under this MAC) is refused too.
    const forged = data(card, "☎ Телефон").replace("kz-shy-komek", "kz-shy-center3");
    expect(await answerTo(h, emu.press(STAFF, card.id, forged, { id: EDITOR }))).toBe("Недоступно");
    expect(emu.sent(STAFF).length).toBe(before);

    // The approved editor: the question, a wrong number refused with the reason, then the number.
    let n = emu.sent(STAFF).length;
    emu.press(STAFF, card.id, data(card, "☎ Телефон"), { id: EDITOR });
    const [ask] = await emu.waitForSent(STAFF, n, 1);
    expect(ask!.text).toMatch(/^Новый телефон для «Кризисный центр «Комек»/);
    expect(ask!.payload.reply_markup.force_reply).toBe(true);
    n = emu.sent(STAFF).length;
    emu.groupMessage(STAFF, EDITOR, "звоните Айгуль", ask!.id);
    const [bad] = await emu.waitForSent(STAFF, n, 1);
    expect(bad!.text).toMatch(/^«звоните Айгуль» не похоже на номер/);
    // Five digits are neither a full number nor a short line.
    n = emu.sent(STAFF).length;
    emu.groupMessage(STAFF, EDITOR, "12345", ask!.id);
    expect((await emu.waitForSent(STAFF, n, 1))[0]!.text).toMatch(
      /^«12345» не похоже на номер Казахстана или Кыргызстана/,
    );
    // The unapproved member answering the same question is refused.
    n = emu.sent(STAFF).length;
    emu.groupMessage(STAFF, NEWBIE, "+7 700 000 0009", ask!.id);
    expect((await emu.waitForSent(STAFF, n, 1))[0]!.text).toBe(
      "Вас ещё не подтвердили. Попросите руководителя: /staff",
    );
    n = emu.sent(STAFF).length;
    emu.groupMessage(STAFF, EDITOR, NEW_PHONE, ask!.id);
    const [source] = await emu.waitForSent(STAFF, n, 1);
    expect(source!.text).toContain(`телефон: ${NEW_PHONE}`);
    expect(source!.text).toContain("Откуда это известно?");
    expect(source!.text).toContain("Это увидят только после подтверждения руководителем (не вами).");

    n = emu.sent(STAFF).length;
    expect(await answerTo(h, emu.press(STAFF, source!.id, data(source!, /^☎ Позвонили сегодня/), { id: EDITOR }))).toBe(
      "Отправлено руководителю на подтверждение",
    );
    const got = await emu.waitForSent(STAFF, n, 2);
    const confirm = got.find((m) => m.text?.startsWith("☎ Правка ждёт подтверждения"))!;
    expect(confirm.text).toContain(`Станет: ${NEW_PHONE}`);
    // The source in the staff language, dated in the group's own time zone.
    expect(confirm.text).toContain(`Источник: звонили ${staffToday()}`);
    expect(confirm.text).toContain("Предложение от: Staff7103");

    // Not yet: survivors see what they saw before.
    let seen = await survivorSees(h, 8101, "Шымкент");
    expect(seen).not.toContain(NEW_PHONE);
    expect(seen).toContain("Телефон не опубликован: позвоните на 111");

    // The author is not a supervisor; a supervisor confirms.
    expect(await answerTo(h, emu.press(STAFF, confirm.id, data(confirm, "✓ Подтвердить"), { id: EDITOR }))).toBe(
      "Это может сделать только руководитель",
    );
    expect(await answerTo(h, emu.press(STAFF, confirm.id, data(confirm, "✓ Подтвердить"), { id: BOSS }))).toBe(
      "Подтверждено",
    );
    await emu.waitFor(
      () =>
        emu.textOf(STAFF, confirm.id)?.includes("✓ Подтверждено (Staff7101). Обратившиеся видят новые данные.") ===
        true,
      5000,
      "confirm card edited",
    );
    // Pressed twice (two supervisors at once): decided already, nothing changes.
    expect(await answerTo(h, emu.press(STAFF, confirm.id, data(confirm, "✓ Подтвердить"), { id: BOSS2 }))).toBe(
      "Кнопка устарела. Откройте список или карточку заново.",
    );

    seen = await survivorSees(h, 8102, "Шымкент");
    const komek = seen.split("\n\n").find((b) => b.includes("Комек"))!;
    expect(komek).toContain(`☎ ${NEW_PHONE} · проверен: ${month()}`);
    expect(komek).toContain(`Сотрудники проверили: ${month()}`);
    expect(komek).not.toContain("Телефон не опубликован");

    // Who, when, from what: the history and the audit.
    const changes = await prismaOf(h.app.db).directoryChange.findMany({ where: { entryId: "kz-shy-komek" } });
    expect(changes.map((c) => [c.field, c.state, c.by, c.decidedBy])).toEqual([
      ["phones", "applied", `staff:${EDITOR}`, `staff:${BOSS}`],
    ]);
    const audit = (await prismaOf(h.app.db).auditLog.findMany()).map((a) => `${a.actor} ${a.action} ${a.result}`);
    expect(audit).toEqual(
      expect.arrayContaining([
        `staff:${OUTSIDER} denied directory: not a member`,
        `staff:${NEWBIE} denied directory: not approved`,
        `staff:${EDITOR} denied directory: bad data`,
        `staff:${EDITOR} directory_change kz-shy-komek phones pending`,
        `staff:${BOSS} directory_confirm kz-shy-komek phones`,
      ]),
    );
    n = emu.sent(STAFF).length;
    emu.press(STAFF, card.id, data(card, "🗂 История"), { id: NEWBIE });
    const [hist] = await emu.waitForSent(STAFF, n, 1);
    expect(hist!.text).toContain(`Staff7103 · телефон: — → ${NEW_PHONE}`);
    expect(hist!.text).toContain(`источник: звонили ${staffToday()}`);
    expect(hist!.text).not.toMatch(/called on|checked in chat/);
  });

  it("a supervisor's own new phone waits for the other supervisor; a source can be a link, a date in the future is refused; new hours and «closed» wait for a supervisor too", async () => {
    h = await harness();
    const { emu } = h;
    const card = await komekCard(h, STAFF, BOSS);
    let n = emu.sent(STAFF).length;
    emu.press(STAFF, card.id, data(card, "☎ Телефон"), { id: BOSS });
    const [ask] = await emu.waitForSent(STAFF, n, 1);
    n = emu.sent(STAFF).length;
    emu.groupMessage(STAFF, BOSS, NEW_PHONE, ask!.id);
    const [source] = await emu.waitForSent(STAFF, n, 1);
    n = emu.sent(STAFF).length;
    emu.groupMessage(STAFF, BOSS, "звонили 01.12.2099", source!.id);
    expect((await emu.waitForSent(STAFF, n, 1))[0]!.text).toBe("Эта дата ещё не наступила. Укажите дату звонка.");
    n = emu.sent(STAFF).length;
    emu.groupMessage(STAFF, BOSS, "https://example.org/komek-contacts", source!.id);
    const got = await emu.waitForSent(STAFF, n, 2);
    const confirm = got.find((m) => m.text?.startsWith("☎ Правка ждёт подтверждения"))!;
    expect(confirm.text).toContain("Источник: ссылка: https://example.org/komek-contacts");
    expect(await answerTo(h, emu.press(STAFF, confirm.id, data(confirm, "✓ Подтвердить"), { id: BOSS }))).toBe(
      "Свою правку подтверждает другой руководитель",
    );
    expect((await h.app.directory.store.get("kz-shy-komek"))!.phones).toEqual([]);
    expect(await answerTo(h, emu.press(STAFF, confirm.id, data(confirm, "✕ Отклонить"), { id: BOSS2 }))).toBe(
      "Отклонено",
    );
    expect((await h.app.directory.store.get("kz-shy-komek"))!.phones).toEqual([]);

    // Hours: typed, sourced, and shown only once a supervisor confirms.
    n = emu.sent(STAFF).length;
    emu.press(STAFF, card.id, data(card, "🕘 Часы"), { id: EDITOR });
    const [askHours] = await emu.waitForSent(STAFF, n, 1);
    n = emu.sent(STAFF).length;
    emu.groupMessage(STAFF, EDITOR, "пн–пт 9:00–18:00", askHours!.id);
    const [src] = await emu.waitForSent(STAFF, n, 1);
    expect(src!.text).toContain("Это увидят только после подтверждения руководителем (не вами).");
    n = emu.sent(STAFF).length;
    expect(await answerTo(h, emu.press(STAFF, src!.id, data(src!, /^☎ Позвонили сегодня/), { id: EDITOR }))).toBe(
      "Отправлено руководителю на подтверждение",
    );
    const hoursConfirm = (await emu.waitForSent(STAFF, n, 2)).find((m) =>
      m.text?.startsWith("☎ Правка ждёт подтверждения"),
    )!;
    expect(hoursConfirm.text).toContain("часы");
    expect(await survivorSees(h, 8200, "Шымкент")).not.toContain("пн–пт 9:00–18:00");
    expect(
      await answerTo(h, emu.press(STAFF, hoursConfirm.id, data(hoursConfirm, "✓ Подтвердить"), { id: BOSS })),
    ).toBe("Подтверждено");
    expect(await survivorSees(h, 8201, "Шымкент")).toContain("Часы: пн–пт 9:00–18:00");

    // Closed: one member alone cannot make a shelter disappear; a supervisor's confirmation does.
    n = emu.sent(STAFF).length;
    emu.press(STAFF, card.id, data(card, "🔘 Статус"), { id: EDITOR });
    const [menu] = await emu.waitForSent(STAFF, n, 1);
    expect(buttonsOf(menu!.payload)).toEqual(["работает", "переехала", "закрыта", "неизвестно"]);
    n = emu.sent(STAFF).length;
    emu.press(STAFF, menu!.id, data(menu!, "закрыта"), { id: EDITOR });
    const [closeSrc] = await emu.waitForSent(STAFF, n, 1);
    // Someone else cannot finish this person's edit.
    expect(
      await answerTo(h, emu.press(STAFF, closeSrc!.id, data(closeSrc!, /^☎ Позвонили сегодня/), { id: BOSS })),
    ).toBe("Эту правку ведёт другой сотрудник");
    n = emu.sent(STAFF).length;
    expect(
      await answerTo(h, emu.press(STAFF, closeSrc!.id, data(closeSrc!, /^☎ Позвонили сегодня/), { id: EDITOR })),
    ).toBe("Отправлено руководителю на подтверждение");
    const closeConfirm = (await emu.waitForSent(STAFF, n, 2)).find((m) =>
      m.text?.startsWith("☎ Правка ждёт подтверждения"),
    )!;
    // Status names in the staff language, never the stored codes.
    expect(closeConfirm.text).toContain("Было: работает");
    expect(closeConfirm.text).toContain("Станет: закрыта");
    expect(await survivorSees(h, 8202, "Шымкент")).toContain("Комек");
    expect(
      await answerTo(h, emu.press(STAFF, closeConfirm.id, data(closeConfirm, "✓ Подтвердить"), { id: BOSS2 })),
    ).toBe("Подтверждено");
    expect(await survivorSees(h, 8203, "Шымкент")).not.toContain("Комек");
  });

  it("a region's group edits only its region's entries; the directory group and supervisors edit any", async () => {
    const BISHKEK_GROUP = -1008880004;
    h = await harness({
      REGION_CHATS: `kz-shymkent=${SHYMKENT_GROUP},kg-bishkek=${BISHKEK_GROUP}`,
      DIRECTORY_CHAT_ID: String(DIRECTORY),
    });
    const { emu } = h;
    await approvedStaff(h, BISHKEK_GROUP, EDITOR);
    await approvedStaff(h, DIRECTORY, EDITOR + 1);
    h.emu.setMember(BISHKEK_GROUP, BOSS, "member");
    // A member of the Bishkek group opens a Shymkent shelter: they may look, not edit.
    const card = await komekCard(h, BISHKEK_GROUP, EDITOR);
    expect(await answerTo(h, emu.press(BISHKEK_GROUP, card.id, data(card, "🔘 Статус"), { id: EDITOR }))).toBe(
      "Эта служба в другом регионе: её правят группа справочника или руководитель",
    );
    expect(
      await answerTo(h, emu.press(BISHKEK_GROUP, card.id, data(card, "✅ Проверено сегодня"), { id: EDITOR })),
    ).toBe("Эта служба в другом регионе: её правят группа справочника или руководитель");
    expect((await h.app.directory.store.history("kz-shy-komek")).filter((c) => c.field !== "seed")).toEqual([]);
    expect((await prismaOf(h.app.db).auditLog.findMany()).map((a) => a.result)).toContain(
      "directory edit kz-shy-komek: another region",
    );
    // A supervisor in the same group may.
    expect(await answerTo(h, emu.press(BISHKEK_GROUP, card.id, data(card, "✅ Проверено сегодня"), { id: BOSS }))).toBe(
      "Отмечено: проверено сегодня",
    );
    // The directory group may edit any entry.
    const fromDirectory = await komekCard(h, DIRECTORY, EDITOR + 1);
    expect(
      await answerTo(
        h,
        emu.press(DIRECTORY, fromDirectory.id, data(fromDirectory, "✅ Проверено сегодня"), { id: EDITOR + 1 }),
      ),
    ).toBe("Отмечено: проверено сегодня");
  });

  it("an edit in progress belongs to its author: another member's typed answer is refused; it survives a restart and is finished after it", async () => {
    const dir = tempDir();
    h = await startHarness({
      dir,
      env: { ADMIN_CHAT_ID: String(STAFF), STAFF_SUPERVISORS: `${BOSS},${BOSS2}`, GROUP_MESSAGES_PER_MINUTE: "6000" },
      setup: (emu) => emu.protectedChats.add(STAFF),
    });
    h.emu.setMember(STAFF, BOSS, "member");
    await approvedStaff(h, STAFF, EDITOR);
    const card = await komekCard(h, STAFF, EDITOR);
    let n = h.emu.sent(STAFF).length;
    h.emu.press(STAFF, card.id, data(card, "🕘 Часы"), { id: EDITOR });
    const [ask] = await h.emu.waitForSent(STAFF, n, 1);
    // Someone else answers the editor's question: refused, and the question still waits for its author.
    n = h.emu.sent(STAFF).length;
    h.emu.groupMessage(STAFF, BOSS, "круглосуточно", ask!.id);
    expect((await h.emu.waitForSent(STAFF, n, 1))[0]!.text).toBe("Эту правку ведёт другой сотрудник");
    expect((await h.app.directory.store.get("kz-shy-komek"))!.hours_text ?? null).toBeNull();

    // The bot restarts on the same database; the editor answers the question asked before.
    await h.app.stop();
    h = await startHarness({
      dir,
      emu: h.emu,
      env: { ADMIN_CHAT_ID: String(STAFF), STAFF_SUPERVISORS: `${BOSS},${BOSS2}`, GROUP_MESSAGES_PER_MINUTE: "6000" },
    });
    n = h.emu.sent(STAFF).length;
    h.emu.groupMessage(STAFF, EDITOR, "пн–сб 9:00–19:00", ask!.id);
    const [src] = await h.emu.waitForSent(STAFF, n, 1);
    expect(src!.text).toContain("часы: пн–сб 9:00–19:00");
    expect(await answerTo(h, h.emu.press(STAFF, src!.id, data(src!, /^☎ Позвонили сегодня/), { id: EDITOR }))).toBe(
      "Отправлено руководителю на подтверждение",
    );
    const [pending] = await h.app.directory.store.pendingOf("kz-shy-komek");
    expect(pending).toMatchObject({ field: "hours", after: "пн–сб 9:00–19:00", by: `staff:${EDITOR}` });
    await h.app.directory.store.decide(pending!.id, true, `staff:${BOSS}`, new Date());
    expect((await h.app.directory.store.get("kz-shy-komek"))!.hours_text).toBe("пн–сб 9:00–19:00");
  });

  it("the weekly round posts due entries to their region's group, the ones said not to work first; «still right» moves the date and takes the entry out of the next round", async () => {
    h = await harness({ REGION_CHATS: `kz-shymkent=${SHYMKENT_GROUP}`, DIRECTORY_CHAT_ID: String(DIRECTORY) });
    const { emu } = h;
    await approvedStaff(h, SHYMKENT_GROUP, EDITOR);
    // A survivor said a number of Bakytty Zhanuya did not work: it comes first.
    await prismaOf(h.app.db).directorySignal.create({ data: { entryId: "kz-shy-bakytty-zhanuya", at: new Date() } });

    const queued = await h.app.directory.desk.checkRound();
    expect(queued).toBeGreaterThan(3);
    const cards = await emu.waitFor(
      () => {
        const l = emu.sent(SHYMKENT_GROUP).filter((m) => m.text?.startsWith("🔎 Проверка справочника"));
        return l.length === 3 ? l : undefined;
      },
      5000,
      "three Shymkent checks",
    );
    expect(cards[0]!.text).toContain("Бақытты жанұя");
    expect(cards[0]!.text).toContain("Сообщений «номер не сработал»: 1");
    expect(cards.every((c) => c.text!.includes("Шымкент"))).toBe(true);
    expect(buttonsOf(cards[0]!.payload)).toEqual(["✓ Всё верно", "✎ Изменилось", "✕ Закрылась"]);
    // Other regions' entries went to the directory group, a few at a time.
    const elsewhere = await emu.waitFor(
      () => {
        const l = emu.sent(DIRECTORY).filter((m) => m.text?.startsWith("🔎 Проверка справочника"));
        return l.length === 5 ? l : undefined;
      },
      5000,
      "five checks in the directory group",
    );
    expect(elsewhere.some((c) => c.text!.includes("Шымкент"))).toBe(false);

    const komek = cards.find((c) => c.text!.includes("Комек"))!;
    expect(await answerTo(h, emu.press(SHYMKENT_GROUP, komek.id, data(komek, "✓ Всё верно"), { id: EDITOR }))).toBe(
      "Отмечено: проверено сегодня",
    );
    await emu.waitFor(
      () =>
        emu
          .textOf(SHYMKENT_GROUP, komek.id)
          ?.includes(`Последняя проверка: ${new Date().toISOString().slice(0, 10).split("-").reverse().join(".")}`) ===
        true,
      5000,
      "card shows the check",
    );
    expect((await h.app.directory.store.get("kz-shy-komek"))!.checked_at).toBe(new Date().toISOString().slice(0, 10));
    expect(await survivorSees(h, 8301, "Шымкент")).toContain(`Сотрудники проверили: ${month()}`);

    const due = await h.app.directory.store.due(new Date(Date.now() - 90 * 86_400_000), new Date());
    expect(due.map((d) => d.entry.id)).not.toContain("kz-shy-komek");
    expect(due.map((d) => d.entry.id)).toContain("kz-shy-center3");
  });

  it("a local phone nobody confirmed for 366 days is not shown (the service is, with 111); at 364 days it is", async () => {
    h = await harness();
    const day = (ago: number) => new Date(Date.now() - ago * 86_400_000).toISOString().slice(0, 10);
    const setPhone = async (checked: string) => {
      const row = await prismaOf(h!.app.db).directoryEntry.findUniqueOrThrow({ where: { id: "kz-shy-komek" } });
      const e = JSON.parse(row.data);
      await prismaOf(h!.app.db).directoryEntry.update({
        where: { id: "kz-shy-komek" },
        data: { data: JSON.stringify({ ...e, phones: [{ as_published: NEW_PHONE, checked }] }) },
      });
      await h!.app.directory.desk.reload();
    };
    await setPhone(day(366));
    let komek = (await survivorSees(h, 8401, "Шымкент")).split("\n\n").find((b) => b.includes("Комек"))!;
    expect(komek).not.toContain(NEW_PHONE);
    expect(komek).toContain("Телефон не опубликован: позвоните на 111");
    // Staff see why it is hidden.
    const card = await komekCard(h, STAFF, EDITOR);
    expect(card.text).toContain(`Скрыт (не подтверждён больше года): ${NEW_PHONE}`);

    await setPhone(day(364));
    komek = (await survivorSees(h, 8402, "Шымкент")).split("\n\n").find((b) => b.includes("Комек"))!;
    expect(komek).toContain(`☎ ${NEW_PHONE}`);
  });
});
