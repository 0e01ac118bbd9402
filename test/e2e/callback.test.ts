/**
 * "No phone" still leads to help (issue 16): where the nearest service
 * publishes no phone, a person asks to be written to, in a few taps, and the
 * staff of that region answer through the anonymous relay.
 */
import { afterEach, describe, expect, it } from "vitest";
import { approvedStaff, buttonsOf, pressLabel, startHarness, stepper, type Harness } from "../support/harness.ts";
import { prismaOf } from "../support/prisma.ts";

const MAIN = -1004440100;
const OSH = -1004440200;
const STAFF = 4401;
let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

describe("ask them to write to me (issue 16)", () => {
  it("from Osh: three taps and a case word put a request in the Osh group's queue, and the staff reply reaches the person through the relay", async () => {
    h = await startHarness({
      env: { ADMIN_CHAT_ID: String(MAIN), REGION_CHATS: `kg-osh-city=${OSH}`, GROUP_MESSAGES_PER_MINUTE: "6000" },
      setup: (emu) => {
        emu.protectedChats.add(MAIN);
        emu.protectedChats.add(OSH);
      },
    });
    const { emu } = h;
    await approvedStaff(h, OSH, STAFF);
    const chat = 4501;
    const step = stepper(emu, chat);
    await step(() => emu.sendText(chat, "/start", { languageCode: "ru" }), 2);
    await step(() => pressLabel(emu, chat, "Русский"));
    await step(() => pressLabel(emu, chat, /Кыргызстан/));
    await step(() => pressLabel(emu, chat, "📍 Помощь рядом"), 2);
    const results = await step(() => emu.sendLocation(chat, 40.53, 72.8), 2);
    const list = results.at(-1)!;
    expect(list.text).toContain("Телефон не опубликован. Если опасно — звоните на 102.");
    expect(buttonsOf(list.payload)).toContain("✉ Попросить написать мне");

    const [limits] = await step(() => pressLabel(emu, chat, "✉ Попросить написать мне"));
    expect(limits!.text).toContain("Прежде чем начать");
    const [about] = await step(() => pressLabel(emu, chat, "Понятно, дальше"));
    expect(about!.text).toMatch(/^Сотрудник центра вашего региона напишет вам сюда/);
    const [when] = await step(() => pressLabel(emu, chat, "Со мной"));
    expect(when!.text).toBe("Когда вам безопасно получить сообщение здесь?");
    expect(buttonsOf(when!.payload)).not.toContain("Нет, не связываться");
    await step(() => pressLabel(emu, chat, "Да, в любое время"));
    const [review] = await step(() => emu.sendText(chat, "черника"));
    expect(review!.text).toMatch(/^Проверьте просьбу написать вам:/);
    expect(review!.text).toContain("Ош");
    const got = await step(() => pressLabel(emu, chat, "📨 Попросить написать"), 2);
    const code = /Код вашего обращения: (\S+)/.exec(got.find((m) => m.text?.startsWith("Получено."))!.text!)![1]!;

    const card = await emu.waitFor(
      () => emu.sent(OSH).find((m) => m.text?.includes(code)),
      5000,
      "card in the Osh group",
    );
    expect(card.text).toContain(`✉ ${code}: просьба написать`);
    expect(card.text).toContain("Человек не нашёл телефона службы рядом и просит написать ему через бота.");
    expect(emu.sent(MAIN).some((m) => m.text?.includes(code))).toBe(false);
    const r = (await h.app.reports.byCode(code))!;
    expect(r.request).toBe("callback");
    expect(r.regionId).toBe("kg-osh-city");

    emu.press(
      OSH,
      card.id,
      (card.payload.reply_markup.inline_keyboard as Array<Array<{ callback_data: string }>>)[0]![0]!.callback_data,
      { id: STAFF },
    );
    await emu.waitFor(() => emu.textOf(OSH, card.id)?.includes("взял") === true, 5000, "taken");
    const [knock] = await step(() =>
      emu.groupMessage(OSH, STAFF, "Здравствуйте, это кризисный центр Оша. Чем помочь?", card.id),
    );
    expect(knock!.text).toBe("У вас новое сообщение. Нажмите, чтобы прочитать.");
    const [shown] = await step(() => pressLabel(emu, chat, "Прочитать"));
    expect(shown!.text).toContain("Здравствуйте, это кризисный центр Оша. Чем помочь?");
  });

  it("«☎ Номер не сработал»: a content-free notice goes to the directory group, counted per number; nothing about the person", async () => {
    const DIRECTORY = -1004440300;
    h = await startHarness({
      env: { ADMIN_CHAT_ID: String(MAIN), DIRECTORY_CHAT_ID: String(DIRECTORY), GROUP_MESSAGES_PER_MINUTE: "6000" },
      setup: (emu) => {
        emu.protectedChats.add(MAIN);
        emu.protectedChats.add(DIRECTORY);
      },
    });
    const { emu } = h;
    const signal = async (chat: number, name: string) => {
      emu.people.set(chat, { firstName: name, username: `${name.toLowerCase()}_x` });
      const step = stepper(emu, chat);
      await step(() => emu.sendText(chat, "/start", { languageCode: "ru" }), 2);
      await step(() => pressLabel(emu, chat, "Русский"));
      await step(() => pressLabel(emu, chat, /Казахстан/));
      await step(() => pressLabel(emu, chat, "📍 Помощь рядом"), 2);
      await step(() => emu.sendLocation(chat, 43.24, 76.89), 2);
      const [which] = await step(() => pressLabel(emu, chat, "☎ Номер не сработал"));
      expect(which!.text).toBe("Какой номер не сработал? Мы передадим, его проверят. О вас ничего не передаётся.");
      const [thanks] = await step(() => pressLabel(emu, chat, /^150 · /));
      expect(thanks!.text).toContain("Спасибо, передали: номер проверят. Если опасно сейчас — звоните: 112, 102.");
    };
    await signal(4601, "Айгерим");
    const first = await emu.waitFor(
      () => emu.sent(DIRECTORY).find((m) => m.text?.startsWith("☎ У кого-то не сработал номер")),
      5000,
      "notice",
    );
    expect(first.text).toMatch(/\(150\)\. Сигналов за 30 дней: 1\. Проверьте его\.$/);
    expect(await prismaOf(h.app.db).directorySignal.count()).toBe(1);
    // A second person in the same hour: counted, and the group is not told twice within the hour.
    await signal(4602, "Гульмира");
    expect(await prismaOf(h.app.db).directorySignal.count()).toBe(2);
    await h.idle();
    await h.app.outbox.drain();
    expect(emu.sent(DIRECTORY).filter((m) => m.text?.startsWith("☎ У кого-то не сработал номер"))).toHaveLength(1);
    // The next hour's notice carries the count.
    const { entryId } = (await prismaOf(h.app.db).directorySignal.findFirst())!;
    await h.app.reports.noteSignal(entryId, new Date(), (n) => [
      {
        dedupeKey: `signal:${entryId}:next-hour`,
        target: `staff:${DIRECTORY}`,
        payload: { type: "notice", key: "staff.notice.numberFailed", vars: { name: "150", phones: "150", n } },
      },
    ]);
    h.app.outbox.kick();
    await emu.waitFor(
      () => emu.sent(DIRECTORY).some((m) => m.text?.includes("Сигналов за 30 дней: 3")),
      5000,
      "next notice",
    );
    expect(JSON.stringify(emu.sent(DIRECTORY))).not.toMatch(/4601|4602|Айгерим|Гульмира|айгерим_x/);
    expect(emu.sent(MAIN).some((m) => m.text?.includes("не сработал номер"))).toBe(false);
  });
});
