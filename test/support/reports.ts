/** Helpers to put reports straight into the store, for queue and delivery tests. */
import { expect } from "vitest";
import { pressLabel, stepper, type Harness } from "./harness.ts";

export { seedReport } from "./seed.ts";

/** Walks a private chat through the whole report flow; returns the texts it saw. */
export async function fileReport(
  h: Harness,
  chat: number,
  opts: {
    text: string;
    about?: string;
    contact?: string;
    caseWord?: string;
    photo?: string;
    voice?: { fileId: string; seconds: number };
  },
) {
  const { emu } = h;
  const step = stepper(emu, chat);
  await step(() => emu.sendText(chat, "/start", { languageCode: "ru" }), 2);
  await step(() => pressLabel(emu, chat, "Русский"));
  await step(() => pressLabel(emu, chat, /Казахстан/));
  const [limits] = await step(() => pressLabel(emu, chat, "✍ Рассказать, что случилось"));
  expect(limits!.text).toContain("Прежде чем начать");
  await step(() => pressLabel(emu, chat, "Понятно, дальше"));
  await step(() => pressLabel(emu, chat, opts.about ?? "С другим взрослым"));
  await step(() => pressLabel(emu, chat, /Бьют/));
  await step(() => pressLabel(emu, chat, /Угрожают/));
  await step(() => pressLabel(emu, chat, "Готово ✔"));
  await step(() => pressLabel(emu, chat, "Нет"));
  await step(() => emu.sendText(chat, "Шымкент"));
  await step(() => emu.sendText(chat, opts.text));
  if (opts.photo) {
    await step(() => emu.sendPhoto(chat, {}, opts.photo), 2);
  }
  let voiceMessage: number | undefined;
  if (opts.voice) await step(() => (voiceMessage = emu.sendVoice(chat, {}, opts.voice)), 2);
  await step(() => pressLabel(emu, chat, "Дальше"));
  if ((opts.about ?? "С другим взрослым") === "Со мной") await step(() => pressLabel(emu, chat, "Пропустить"));
  await step(() => pressLabel(emu, chat, opts.contact ?? "Да, в любое время"));
  // A case word is required whenever staff may write back (decision 10).
  const word =
    opts.caseWord ?? ((opts.contact ?? "Да, в любое время") === "Нет, не связываться" ? undefined : "черника");
  if (word) await step(() => emu.sendText(chat, word));
  else await step(() => pressLabel(emu, chat, "Пропустить"));
  const [review] = emu.sent(chat).slice(-1);
  expect(review!.text).toContain("Проверьте, всё ли верно:");
  const got = await step(() => pressLabel(emu, chat, "📨 Отправить"), 2);
  const confirm = got.find((m) => m.text?.startsWith("Получено."))!;
  const code = /Код вашего обращения: (\S+)/.exec(confirm.text!)![1]!;
  return { code, confirm, voiceMessage };
}
