/**
 * `npm run demo`: the real bot against the local Bot API emulator, no
 * Telegram and no token needed. Plays a short conversation and prints it as a
 * chat transcript, so anyone can see what a survivor would see.
 */
import { pressLabel, startHarness } from "./support/harness.ts";
import type { BotApiEmulator } from "./support/bot-api-emulator.ts";

const CHAT = 42;
const out = (s: string) => process.stdout.write(s + "\n");

function printNew(emu: BotApiEmulator, from: number): number {
  const msgs = emu.sent(CHAT).slice(from);
  for (const m of msgs) {
    if (m.method === "sendVenue") out(`  🤖 [map pin: ${m.payload.title} — ${m.payload.address}]`);
    else out(m.text!.split("\n").map((l, i) => (i === 0 ? `  🤖 ${l}` : `     ${l}`)).join("\n"));
    const rows = m.payload.reply_markup?.inline_keyboard as Array<Array<{ text: string }>> | undefined;
    if (rows) out(rows.map((r) => "     " + r.map((b) => `[${b.text}]`).join(" ")).join("\n"));
    const kb = m.payload.reply_markup?.keyboard as Array<Array<{ text: string }>> | undefined;
    if (kb) out(`     keyboard: ${kb.flat().map((b) => `⟨${b.text}⟩`).join(" ")}`);
  }
  return from + msgs.length;
}

async function main() {
  const h = await startHarness();
  const { emu } = h;
  let seen = 0;
  const step = async (label: string, act: () => unknown, expect = 1) => {
    out(`\n👤 ${label}`);
    act();
    await emu.waitForSent(CHAT, seen, expect, 5000);
    await new Promise((r) => setTimeout(r, 50));
    seen = printNew(emu, seen);
  };
  try {
    await step("/start", () => emu.sendText(CHAT, "/start", { languageCode: "ru" }), 2);
    await step("taps «Русский»", () => pressLabel(emu, CHAT, "Русский"));
    await step("taps «Казахстан»", () => pressLabel(emu, CHAT, /Казахстан/));
    await step("taps «Помощь рядом»", () => pressLabel(emu, CHAT, "📍 Помощь рядом"), 2);
    await step("shares a location in Almaty (43.24, 76.89)", () => emu.sendLocation(CHAT, 43.24, 76.89), 2);
    await step("types «Shymkent»", () => emu.sendText(CHAT, "Shymkent"), 2);
    await step("types «он меня убьёт»", () => emu.sendText(CHAT, "он меня убьёт"));
    const before = emu.visible(CHAT).length;
    await step("taps «✕ Выйти»", () => emu.sendText(CHAT, "✕ Выйти"));
    out(`\n(quick exit: ${before + 1} messages in the chat before, ${emu.visible(CHAT).length} after — only the cover remains)`);
  } finally {
    await h.stop();
  }
}

void main();
