/**
 * Voices and pictures in a report, on both channels (issue 26): they reach the staff group under
 * their card, protected and labelled with the code only; WhatsApp's pictures lose their EXIF on
 * the way; nothing at rest holds a file id or the bytes; her voice goes with a quick exit; a file
 * that cannot be fetched is retried, and the card counts what did not arrive; staff reply in text.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { afterEach, describe, expect, it, vi } from "vitest";
import { backupDatabase, decryptBackup } from "../../src/db/backup.ts";
import { FakeWaClient } from "../../src/playground/fakes/fake-whatsapp.ts";
import { approvedStaff, startHarness, tempDir, type Harness } from "../support/harness.ts";
import { TEST_KEY } from "../support/keys.ts";
import { fileReport } from "../support/reports.ts";
import { prismaOf } from "../support/prisma.ts";

const STAFF = -1007770001;
const ALICE = 7701;
const VOICE_ID = "AwACAgIAAxkBAAIBvoicesecret42";
const PHOTO_ID = "AgACAgIAAxkBAAIBphotosecret17";

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

/** Every form a file id could sit in a file: text, UTF-16, base64 and hex. */
function forms(s: string): Buffer[] {
  return [
    Buffer.from(s),
    Buffer.from(s, "utf16le"),
    Buffer.from(Buffer.from(s).toString("base64").slice(0, -4)),
    Buffer.from(Buffer.from(s).toString("hex")),
  ];
}

const cardOf = (hh: Harness, code: string) => hh.emu.sent(STAFF).find((m) => m.text?.includes(`Обращение ${code}`));

describe("voices and pictures from Telegram (issue 26)", () => {
  it("a voice note and a photo reach the group under the card, protected; no file id rests in clear; a quick exit deletes her voice", async () => {
    h = await startHarness({
      env: { ADMIN_CHAT_ID: String(STAFF), GROUP_MESSAGES_PER_MINUTE: "6000" },
      setup: (emu) => emu.protectedChats.add(STAFF),
    });
    const { emu } = h;
    const chat = 6602;
    const { code, voiceMessage } = await fileReport(h, chat, {
      text: "Соседку бьют по ночам.",
      photo: PHOTO_ID,
      voice: { fileId: VOICE_ID, seconds: 42 },
    });
    const card = await emu.waitFor(() => cardOf(h!, code), 5000, "the card");
    expect(card.text).toContain("Голосовые: 1 (ниже)");
    expect(card.text).toContain("Фото: 1 (ниже)");
    const voice = await emu.waitFor(() => emu.sent(STAFF).find((m) => m.method === "sendVoice"), 5000, "voice");
    // A new send of her file id, never a forward: nothing links back to her chat (P2).
    expect(voice.payload.voice).toBe(VOICE_ID);
    expect(voice.payload.caption).toBe(`🎙 ${code}, голосовое 1/1`);
    expect(voice.payload.protect_content).toBe(true);
    expect(voice.payload.reply_parameters.message_id).toBe(card.id);
    expect(emu.callsOf("forwardMessage")).toEqual([]);
    const photo = await emu.waitFor(() => emu.sent(STAFF).find((m) => m.method === "sendPhoto"), 5000, "photo");
    expect(photo.payload.photo).toBe(PHOTO_ID);

    // Delivered, the references are forgotten: not even sealed ones stay in the queue.
    await vi.waitFor(async () => {
      const rows = await prismaOf(h!.app.db).outbox.findMany({
        where: { kind: { in: ["to_staff_photo", "to_staff_voice"] } },
      });
      expect(rows.map((r) => [r.kind, r.status, r.payloadEnc])).toEqual([
        ["to_staff_photo", "sent", ""],
        ["to_staff_voice", "sent", ""],
      ]);
    });
    // The database, its log and a backup (sealed, and opened with the key) hold neither file id.
    const backup = backupDatabase(h.dbFile, path.join(h.dir, "backups"), new Date(), 7, TEST_KEY).file;
    const opened = path.join(tempDir(), "opened.db");
    decryptBackup(backup, opened, TEST_KEY);
    for (const f of [h.dbFile, `${h.dbFile}-wal`, backup, opened]) {
      if (!fs.existsSync(f)) continue;
      const bytes = fs.readFileSync(f);
      for (const id of [VOICE_ID, PHOTO_ID])
        for (const form of forms(id)) expect(bytes.includes(form), `${id} in ${path.basename(f)}`).toBe(false);
    }

    // Her voice message is tracked like her words: the quick exit deletes it.
    expect(emu.history(chat).find((m) => m.id === voiceMessage)!.deleted).toBe(false);
    emu.sendText(chat, "/exit");
    await emu.waitFor(() => emu.visible(chat).length === 1, 8000, "only the cover left");
    expect(emu.history(chat).find((m) => m.id === voiceMessage)!.deleted).toBe(true);
  }, 90_000);

  it("a staff voice note in reply is refused with the reason, and nothing reaches the reporter", async () => {
    h = await startHarness({
      env: { ADMIN_CHAT_ID: String(STAFF), GROUP_MESSAGES_PER_MINUTE: "6000" },
      setup: (emu) => emu.protectedChats.add(STAFF),
    });
    const { emu } = h;
    await approvedStaff(h, STAFF, ALICE);
    const chat = 6603;
    const { code } = await fileReport(h, chat, { text: "Соседку бьют по ночам." });
    const card = await emu.waitFor(() => cardOf(h!, code), 5000, "the card");
    const take = (card.payload.reply_markup.inline_keyboard as Array<Array<{ callback_data: string }>>)[0]![0]!
      .callback_data;
    emu.press(STAFF, card.id, take, { id: ALICE });
    await emu.waitFor(() => emu.textOf(STAFF, card.id)?.includes("взял"), 5000, "taken");
    const before = emu.sent(chat).length;
    const spoken = emu.groupVoice(STAFF, ALICE, card.id);
    const refusal = await emu.waitFor(
      () => emu.sent(STAFF).find((m) => m.payload.reply_parameters?.message_id === spoken),
      5000,
      "the refusal",
    );
    expect(refusal.text).toBe(
      "Голосовое автору не передаётся: его могут включить рядом с тем, от кого автор скрывается. Напишите ответ текстом.",
    );
    await h.idle();
    expect(emu.sent(chat).length).toBe(before);
  }, 90_000);
});

/** A JPEG as a phone camera writes it: GPS position, camera owner and device in its EXIF block. */
async function cameraJpeg(): Promise<Buffer> {
  return sharp({ create: { width: 320, height: 240, channels: 3, background: { r: 180, g: 40, b: 40 } } })
    .jpeg()
    .withExif({
      IFD0: { Artist: "Aigerim Nurlanovna", Make: "Samsung", Model: "SM-A525F" },
      IFD3: { GPSLatitudeRef: "N", GPSLatitude: "42/1 18/1 3/1", GPSLongitudeRef: "E", GPSLongitude: "69/1 35/1 24/1" },
    })
    .toBuffer();
}

/** Opus in OGG as WhatsApp records it: the bytes pass as they are, so any recognisable bytes will do. */
const OGG = Buffer.concat([Buffer.from("OggS\0\x02"), Buffer.alloc(64, 7), Buffer.from("OpusHead-voice-bytes-xyz")]);

describe("voices and pictures from WhatsApp (issue 26)", () => {
  let wa: FakeWaClient;
  async function waHarness() {
    wa = new FakeWaClient();
    h = await startHarness({
      env: {
        WHATSAPP_ENABLED: "true",
        WA_SEND_DELAY_MS: "0",
        WA_DATA_DIR: path.join(os.tmpdir(), "qorgau-wa-media-test"),
        ADMIN_CHAT_ID: String(STAFF),
        ENCRYPTION_KEY: Buffer.alloc(32, 8).toString("base64"),
        GROUP_MESSAGES_PER_MINUTE: "6000",
      },
      setup: (emu) => emu.protectedChats.add(STAFF),
      start: {
        whatsappClient: { client: wa, makeLocation: (lat, lon, name, address) => ({ lat, lon, name, address }) },
      },
    });
    return h;
  }
  async function say(jid: string, act: () => unknown, count = 1) {
    const before = wa.count(jid);
    act();
    return (await wa.waitFor(jid, before, count)).map((m) => m.text ?? "");
  }
  /** Through the report up to the step that takes photos and voices. */
  async function toAttachments(jid: string) {
    for (const [text, n] of [
      ["привет", 2],
      ["3", 1],
      ["1", 1],
      ["рассказать, что случилось", 1],
      ["1", 1],
      ["2", 1],
      ["5", 1],
      ["6", 1],
      ["2", 1],
      ["Шымкент", 1],
    ] as const)
      await say(jid, () => wa.text(jid, text), n);
  }
  async function send(jid: string) {
    await say(jid, () => wa.text(jid, "1")); // «Дальше»
    await say(jid, () => wa.text(jid, "1")); // no contact
    await say(jid, () => wa.text(jid, "1")); // the case word skipped
    const [confirm] = await say(jid, () => wa.text(jid, "1"), 2);
    return /Код вашего обращения: (\S+)/.exec(confirm!)![1]!;
  }

  it("a ptt voice and a JPEG with GPS: staff receive a voice note and a photo whose bytes hold no EXIF; a failed download is retried", async () => {
    await waHarness();
    const { emu } = h!;
    const jid = "77015550177@c.us";
    await toAttachments(jid);
    // Spoken, not typed: the voice is the story.
    const [added] = await say(jid, () => wa.voice(jid, OGG, 37), 2);
    expect(added).toBe("Голосовое добавлено (1 из 3).");
    const jpeg = await cameraJpeg();
    expect(jpeg.includes(Buffer.from("Exif\0\0"))).toBe(true);
    const [photoAdded] = await say(jid, () => wa.photo(jid, jpeg), 2);
    expect(photoAdded).toBe("Фото добавлено (1 из 5).");
    // The phone is offline for the first try: nothing is lost, it is tried again.
    wa.failDownloads = 1;
    const code = await send(jid);

    const card = await emu.waitFor(() => cardOf(h!, code), 5000, "the card");
    expect(card.text).toContain("Голосовые: 1 (ниже)");
    // Spoken, not typed: the card says where the story is.
    expect(card.text).toContain("Текст:\n(рассказано голосом: голосовые ниже)");
    const voice = await emu.waitFor(() => emu.sent(STAFF).find((m) => m.method === "sendVoice"), 15_000, "voice");
    expect(emu.uploads.get(voice.payload.voice)!.bytes.equals(OGG)).toBe(true);
    expect(voice.payload.caption).toBe(`🎙 ${code}, голосовое 1/1`);
    expect(Number(voice.payload.duration)).toBe(37);
    expect(voice.payload.protect_content).toBe(true);
    const photo = await emu.waitFor(() => emu.sent(STAFF).find((m) => m.method === "sendPhoto"), 15_000, "photo");
    const sent = emu.uploads.get(photo.payload.photo)!.bytes;
    const meta = await sharp(sent).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(["jpeg", 320, 240]);
    expect(meta.exif).toBeUndefined();
    for (const trace of ["Exif\0\0", "Aigerim", "Samsung", "SM-A525F"])
      expect(sent.includes(Buffer.from(trace)), trace).toBe(false);
    expect(wa.downloads).toBeGreaterThanOrEqual(3);
    expect(emu.textOf(STAFF, card.id)).not.toContain("Не дошло");

    // At rest: neither the voice's nor the photo's bytes, and no WhatsApp message id in clear.
    await prismaOf(h!.app.db).$queryRawUnsafe("PRAGMA wal_checkpoint(TRUNCATE)");
    const raw = Buffer.concat(
      [h!.dbFile, `${h!.dbFile}-wal`].filter((f) => fs.existsSync(f)).map((f) => fs.readFileSync(f)),
    );
    for (const needle of [OGG.subarray(-24), jpeg.subarray(-64), Buffer.from("77015550177"), Buffer.from("false_")])
      expect(raw.includes(needle)).toBe(false);
  }, 90_000);

  it("a voice WhatsApp no longer has is given up on, and the card counts it", async () => {
    await waHarness();
    const { emu } = h!;
    const jid = "77015550188@c.us";
    await toAttachments(jid);
    await say(jid, () => wa.text(jid, "Сосед шумел всю ночь."));
    const lost = await (async () => {
      let id = "";
      await say(jid, () => (id = wa.voice(jid, OGG, 12)), 2);
      return id;
    })();
    // Gone from the phone before it could be fetched (deleted for everyone).
    wa.files.delete(lost);
    const code = await send(jid);
    const card = await emu.waitFor(() => cardOf(h!, code), 5000, "the card");
    await emu.waitFor(() => emu.textOf(STAFF, card.id)?.includes("⚠ Не дошло вложений: 1"), 10_000, "counted");
    expect(emu.sent(STAFF).filter((m) => m.method === "sendVoice")).toEqual([]);
  }, 90_000);

  it("limits are said kindly in kk, ky and ru: a voice over 5 minutes, a fourth voice, a file", async () => {
    await waHarness();
    const cases = [
      [
        "77015550101@c.us",
        "1",
        "Бұл дауыстық хабар 5 минуттан ұзын.",
        "3 дауыстық хабардан артық",
        "Бұл файл ретінде келді",
      ],
      ["996700550102@c.us", "1", "Бул үн билдирүү 5 мүнөттөн узун.", "3 үн билдирүүдөн ашык", "Бул файл катары келди"],
      ["77015550103@c.us", "3", "Это голосовое длиннее 5 мин.", "Больше 3 голосовых", "Это пришло файлом"],
    ] as const;
    for (const [jid, lang, tooLong, limit, file] of cases) {
      await say(jid, () => wa.text(jid, "привет"), 2);
      await say(jid, () => wa.text(jid, lang));
      if (lang === "3") await say(jid, () => wa.text(jid, "1"));
      // «Tell what happened» is the fifth entry of the menu in every language.
      for (const n of ["5", "1", "2", "5", "6", "2", "2"]) await say(jid, () => wa.text(jid, n));
      // Each answer is the kind line, then the same step again.
      const [long] = await say(jid, () => wa.voice(jid, OGG, 301), 2);
      expect(long).toContain(tooLong);
      for (let i = 0; i < 3; i++) await say(jid, () => wa.voice(jid, OGG, 10), 2);
      const [fourth] = await say(jid, () => wa.voice(jid, OGG, 10), 2);
      expect(fourth).toContain(limit);
      const [doc] = await say(jid, () => wa.media(jid, "document"), 2);
      expect(doc).toContain(file);
    }
  }, 90_000);
});
