/**
 * `npm run demo [-- --lang kk|ky|ru]`: the real bot against the local Bot API
 * emulator, no Telegram and no token needed. Plays a short conversation, a
 * report and its staff side, and prints them as chat transcripts, so anyone
 * can see what a survivor and a staff member would see.
 */
import { LOCALES, isLocale, type Locale } from "../src/config.ts";
import { createTranslator } from "../src/core/i18n.ts";
import { approvedStaff, pressLabel, startHarness } from "../test/support/harness.ts";
import type { BotApiEmulator } from "../src/playground/fakes/bot-api-emulator.ts";
import { FakeWaClient } from "../src/playground/fakes/fake-whatsapp.ts";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";

const CHAT = 42;
const STAFF = -1000000042;
const STAFF_MEMBER = 4242;
const out = (s: string) => process.stdout.write(s + "\n");

/** A typed message that the danger check recognises, per language (src/core/keywords.ts). */
const DANGER: Record<Locale, string> = { ru: "он меня убьёт", kk: "ол мені өлтіреді", ky: "ал мени өлтүрөт" };
const TOWN: Record<Locale, string> = { ru: "Шымкент", kk: "Шымкент", ky: "Шымкент" };
const STORY: Record<Locale, string> = {
  ru: "За стеной каждую ночь кричит соседка, слышны удары.",
  kk: "Қабырғаның арғы жағында көрші әйел түнде айқайлайды, соққы естіледі.",
  ky: "Дубалдын ары жагында кошуна аял түнү кыйкырат, сокку угулат.",
};
const REPLY: Record<Locale, string> = {
  ru: "Спасибо, что написали. Можем прислать участкового — вам удобно?",
  kk: "Жазғаныңызға рақмет. Учаскелік полиция инспекторын жібере аламыз — сізге ыңғайлы ма?",
  ky: "Жазганыңызга рахмат. Участкалык милиция кызматкерин жибере алабыз — сизге ыңгайлуубу?",
};

function printNew(emu: BotApiEmulator, chat: number, from: number): number {
  const msgs = emu.sent(chat).slice(from);
  for (const m of msgs) {
    if (m.method === "sendVenue") out(`  🤖 [map pin: ${m.payload.title} — ${m.payload.address}]`);
    else if (m.method === "sendVoice")
      out(`  🤖 [voice note, ${m.payload.duration ?? "?"} s] ${m.payload.caption ?? ""}`);
    else if (m.method === "sendPhoto") out(`  🤖 [photo] ${m.payload.caption ?? ""}`);
    else
      out(
        (m.text ?? "")
          .split("\n")
          .map((l, i) => (i === 0 ? `  🤖 ${l}` : `     ${l}`))
          .join("\n"),
      );
    const rows = m.payload.reply_markup?.inline_keyboard as Array<Array<{ text: string }>> | undefined;
    if (rows) out(rows.map((r) => "     " + r.map((b) => `[${b.text}]`).join(" ")).join("\n"));
    const kb = m.payload.reply_markup?.keyboard as Array<Array<{ text: string }>> | undefined;
    if (kb)
      out(
        `     keyboard: ${kb
          .flat()
          .map((b) => `⟨${b.text}⟩`)
          .join(" ")}`,
      );
  }
  return from + msgs.length;
}

/** Bytes standing for a recorded voice note (Opus in OGG): the demo prints, nobody plays it. */
const VOICE = Buffer.concat([Buffer.from("OggS"), Buffer.alloc(256, 1)]);
/** A photo as a phone camera writes it: a GPS position in its EXIF block. */
function cameraPhoto(): Promise<Buffer> {
  return sharp({ create: { width: 480, height: 360, channels: 3, background: { r: 120, g: 90, b: 60 } } })
    .jpeg()
    .withExif({
      IFD3: { GPSLatitudeRef: "N", GPSLatitude: "43/1 14/1 0/1", GPSLongitudeRef: "E", GPSLongitude: "76/1 53/1 0/1" },
    })
    .toBuffer();
}

function langArg(argv: string[]): Locale {
  const i = argv.indexOf("--lang");
  const v = i >= 0 ? argv[i + 1] : "ru";
  if (!isLocale(v)) {
    process.stderr.write(`--lang must be one of ${LOCALES.join(", ")}\n`);
    process.exit(1);
  }
  return v;
}

async function main() {
  const l = langArg(process.argv.slice(2));
  const t = createTranslator().forChannel(l, "telegram");
  const wa = new FakeWaClient();
  const h = await startHarness({
    env: {
      WHATSAPP_ENABLED: "true",
      WA_SEND_DELAY_MS: "0",
      WA_DATA_DIR: path.join(os.tmpdir(), "qorgau-demo-wa"),
      ADMIN_CHAT_ID: String(STAFF),
      STAFF_SUPERVISORS: String(STAFF_MEMBER),
      STAFF_LOCALE: l,
      GROUP_MESSAGES_PER_MINUTE: "6000",
    },
    setup: (emu) => emu.protectedChats.add(STAFF),
    start: { whatsappClient: { client: wa, makeLocation: (lat, lon, name, address) => ({ lat, lon, name, address }) } },
  });
  const { emu } = h;
  await approvedStaff(h, STAFF, STAFF_MEMBER);
  const seen = new Map<number, number>();
  const step = async (chat: number, label: string, act: () => unknown, expect = 1) => {
    out(`\n👤 ${label}`);
    act();
    await emu.waitForSent(chat, seen.get(chat) ?? 0, expect, 5000);
    await new Promise((r) => setTimeout(r, 50));
    seen.set(chat, printNew(emu, chat, seen.get(chat) ?? 0));
  };
  const tap = (chat: number, label: string | RegExp, expect = 1) =>
    step(chat, `taps «${label}»`, () => pressLabel(emu, chat, label), expect);
  try {
    out("━━━ A survivor asks for help nearby, then leaves at once ━━━");
    await step(CHAT, "/start", () => emu.sendText(CHAT, "/start", { languageCode: l }), 2);
    await tap(CHAT, t("language.name"));
    if (l === "ru") await tap(CHAT, t("country.KZ")); // Kazakh and Kyrgyz imply their country
    await tap(CHAT, t("menu.near"), 2);
    await step(CHAT, "shares a location in Almaty (43.24, 76.89)", () => emu.sendLocation(CHAT, 43.24, 76.89), 2);
    await step(CHAT, `types «${TOWN[l]}»`, () => emu.sendText(CHAT, TOWN[l]), 2);
    await step(CHAT, `types «${DANGER[l]}»`, () => emu.sendText(CHAT, DANGER[l]));
    const before = emu.visible(CHAT).length;
    await step(CHAT, `taps «${t("common.exitButton")}»`, () => emu.sendText(CHAT, t("common.exitButton")));
    out(
      `\n(quick exit: ${before + 1} messages in the chat before, ${emu.visible(CHAT).length} after — only the cover remains)`,
    );

    out("\n━━━ A neighbour reports what she hears; staff answer ━━━");
    const n = CHAT + 1;
    await step(n, "/start", () => emu.sendText(n, "/start", { languageCode: l }), 2);
    await tap(n, t("language.name"));
    if (l === "ru") await tap(n, t("country.KZ"));
    await tap(n, t("menu.report"));
    await tap(n, t("report.understood"));
    await tap(n, t("report.about.other"));
    await tap(n, new RegExp(t("report.kind.physical").replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));
    await tap(n, t("report.done"));
    await tap(n, t("report.no"));
    await step(n, `types «${TOWN[l]}»`, () => emu.sendText(n, TOWN[l]));
    await step(n, `types «${STORY[l]}»`, () => emu.sendText(n, STORY[l]));
    await step(n, "records a voice note (42 s)", () => emu.sendVoice(n, {}, { fileId: "demo-voice", seconds: 42 }), 2);
    await step(n, "sends a photo of the door", () => emu.sendPhoto(n, {}, "demo-photo"), 2);
    await tap(n, t("report.photosDone"));
    await tap(n, t("report.contact.any"));
    await step(n, "types a case word", () => emu.sendText(n, "chernika"));
    await tap(n, t("report.send"), 2);

    out("\n━━━ The staff group ━━━");
    const card = await emu.waitFor(
      () => emu.sent(STAFF).find((m) => m.payload.reply_markup?.inline_keyboard),
      5000,
      "the card",
    );
    seen.set(STAFF, printNew(emu, STAFF, 0));
    const take = (card.payload.reply_markup.inline_keyboard as Array<Array<{ callback_data: string }>>)[0]![0]!
      .callback_data;
    out("\n👩‍💼 a staff member takes it");
    emu.press(STAFF, card.id, take, { id: STAFF_MEMBER });
    await emu.waitFor(() => emu.textOf(STAFF, card.id) !== card.text, 5000, "the card edited");
    out(
      emu
        .textOf(STAFF, card.id)!
        .split("\n")
        .map((x) => `     ${x}`)
        .join("\n"),
    );
    await step(n, "(staff reply to the card)", () => emu.groupMessage(STAFF, STAFF_MEMBER, REPLY[l], card.id));
    await tap(n, t("report.read"));

    out("\n━━━ On WhatsApp, a survivor speaks her report and shows the door ━━━");
    const jid = "77010000042@c.us";
    let waSeen = 0;
    const say = async (label: string, act: () => unknown, expect = 1) => {
      out(`\n👤 ${label}`);
      act();
      const got = await wa.waitFor(jid, waSeen, expect);
      waSeen += got.length;
      for (const m of got) out(`  🤖 ${(m.text ?? "").split("\n").join("\n     ")}`);
    };
    const types = (text: string, expect = 1) => say(`types «${text}»`, () => wa.text(jid, text), expect);
    await types("/start", 2);
    await types(t("language.name"));
    if (l === "ru") await types(t("country.KZ"));
    await types(t("menu.report").replace(/^\S+\s/, ""));
    for (const n of ["1", "2", "1", "6", "2"]) await types(n);
    await types(TOWN[l]);
    await say("holds the microphone and speaks (37 s)", () => wa.voice(jid, VOICE, 37), 2);
    const jpeg = await cameraPhoto();
    await say("sends a photo from the camera (its EXIF holds where it was taken)", () => wa.photo(jid, jpeg), 2);
    for (const n of ["1", "1", "1"]) await types(n);
    await types("1", 2);
    out("\n━━━ The staff group ━━━");
    await emu.waitFor(() => emu.sent(STAFF).filter((m) => m.method === "sendVoice").length >= 2, 15_000, "the voice");
    await emu.waitFor(() => emu.sent(STAFF).filter((m) => m.method === "sendPhoto").length >= 2, 15_000, "the photo");
    seen.set(STAFF, printNew(emu, STAFF, seen.get(STAFF) ?? 0));
    const photo = emu
      .sent(STAFF)
      .filter((m) => m.method === "sendPhoto")
      .at(-1)!;
    const bytes = emu.uploads.get(photo.payload.photo)!.bytes;
    const gps = bytes.includes(Buffer.from("Exif\0\0")) ? "still there" : "none";
    out(`\n(the photo reached staff as ${bytes.length} bytes of JPEG, re-encoded by the bot; EXIF and GPS: ${gps})`);
  } finally {
    await h.stop();
  }
}

void main();
