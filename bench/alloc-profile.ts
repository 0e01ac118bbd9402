/**
 * Where the bot allocates (what the garbage collector then pays for): 200 people through the
 * survivor's script, in process on the emulator, with V8's sampling heap profiler keeping the
 * objects already collected too (a plain --heap-prof keeps only the live ones). Writes
 * OUT (default alloc.heapprofile), readable in Chrome's DevTools (Memory → Load). Usage:
 * `npx tsx bench/alloc-profile.ts [OUT]`.
 */
import inspector from "node:inspector/promises";
import fs from "node:fs";
import { pressLabel, startHarness } from "../test/support/harness.ts";

const h = await startHarness({
  env: { ADMIN_CHAT_ID: "-100777", GROUP_MESSAGES_PER_MINUTE: "6000" },
  setup: (e) => e.protectedChats.add(-100777),
});
const { emu } = h;
emu.record = false;
const s = new inspector.Session();
s.connect();
async function person(chat: number) {
  const step = async (act: () => unknown, n = 1) => {
    const before = emu.sent(chat).length;
    act();
    await emu.waitForSent(chat, before, n, 20_000);
  };
  await step(() => emu.sendText(chat, "/start", { languageCode: "ru" }), 2);
  await step(() => pressLabel(emu, chat, "Русский"));
  await step(() => pressLabel(emu, chat, /Казахстан/));
  await step(() => pressLabel(emu, chat, "☎ Телефоны доверия"));
  await step(() => emu.sendText(chat, "Шымкент"), 2);
  await step(() => emu.sendText(chat, "/menu"));
  await step(() => pressLabel(emu, chat, "✍ Рассказать, что случилось"));
  await step(() => pressLabel(emu, chat, "Понятно, дальше"));
  await step(() => pressLabel(emu, chat, "С другим взрослым"));
  await step(() => pressLabel(emu, chat, /Бьют/));
  await step(() => pressLabel(emu, chat, "Готово ✔"));
  await step(() => pressLabel(emu, chat, "Нет"));
  await step(() => emu.sendText(chat, "Шымкент"));
  await step(() => emu.sendText(chat, "Соседку бьют по ночам, слышны крики."));
  await step(() => pressLabel(emu, chat, "Дальше"));
  await step(() => pressLabel(emu, chat, "Нет, не связываться"));
  await step(() => pressLabel(emu, chat, "Пропустить"));
  await step(() => pressLabel(emu, chat, "📨 Отправить"), 2);
  await step(() => emu.sendText(chat, "/exit"));
}
// warm up
await Promise.all(Array.from({ length: 20 }, (_, i) => person(90000 + i)));
await s.post("HeapProfiler.startSampling", {
  samplingInterval: 4096,
  includeObjectsCollectedByMajorGC: true,
  includeObjectsCollectedByMinorGC: true,
} as any);
const t0 = Date.now();
await Promise.all(Array.from({ length: 200 }, (_, i) => person(100000 + i)));
const { profile } = (await s.post("HeapProfiler.stopSampling")) as any;
fs.writeFileSync(process.argv[2] ?? "alloc.heapprofile", JSON.stringify(profile));
console.log("ms", Date.now() - t0);
await h.stop();
process.exit(0);
