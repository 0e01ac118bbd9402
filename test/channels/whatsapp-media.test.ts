/** What a WhatsApp file becomes before staff receive it (issue 26): nothing that names her goes with it. */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { removeLeftoverRecordings, toStaffMedia } from "../../src/channels/whatsapp/media.ts";

const FFMPEG = process.env.FFMPEG_PATH ?? "/usr/bin/ffmpeg";
/** CI installs ffmpeg and requires these tests (.ci/run sets it); elsewhere they wait for ffmpeg to be installed. */
const REQUIRED = process.env.QORGAU_MEDIA_TESTS === "1";
const HAVE = fs.existsSync(FFMPEG);

const audioDirs = () => fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith("qorgau-audio-"));
const b64 = (b: Buffer) => b.toString("base64");

/** An MP3 as a phone's recorder app writes it: an ID3v2 tag in front, an ID3v1 tag at the end. */
function taggedMp3(): { file: Buffer; audio: Buffer } {
  const frame = Buffer.concat([
    Buffer.from("TIT2"),
    Buffer.from([0, 0, 0, 16, 0, 0, 3]),
    Buffer.from("Aigerim at home"),
  ]);
  const size = frame.length;
  const syncsafe = Buffer.from([(size >> 21) & 0x7f, (size >> 14) & 0x7f, (size >> 7) & 0x7f, size & 0x7f]);
  const head = Buffer.concat([Buffer.from("ID3"), Buffer.from([4, 0, 0]), syncsafe, frame]);
  const audio = Buffer.concat([Buffer.from([0xff, 0xfb, 0x90, 0x64]), Buffer.alloc(400, 0x55)]);
  const tail = Buffer.concat([
    Buffer.from("TAG"),
    Buffer.from("Voice memo".padEnd(30, "\0")),
    Buffer.from("Nurlanovna".padEnd(95, "\0")),
  ]);
  return { file: Buffer.concat([head, audio, tail]), audio };
}

describe("WhatsApp files on their way to staff (issue 26)", () => {
  it("a voice note (Opus in OGG) passes as it came", async () => {
    const ogg = Buffer.concat([Buffer.from("OggS"), Buffer.alloc(100, 3)]);
    const got = await toStaffMedia("ptt", { mimetype: "audio/ogg; codecs=opus", data: b64(ogg) });
    expect(got).toEqual({ kind: "voice", bytes: ogg, mime: "audio/ogg" });
  });

  it("without ffmpeg, an MP3 recording goes without its tags: no title, name or note reaches staff", async () => {
    const { file, audio } = taggedMp3();
    const got = await toStaffMedia("audio", { mimetype: "audio/mpeg", data: b64(file) }, { ffmpeg: undefined });
    expect(got!.mime).toBe("audio/mpeg");
    expect(got!.bytes.equals(audio)).toBe(true);
    for (const trace of ["Aigerim", "Nurlanovna", "Voice memo", "ID3", "TAG"])
      expect(got!.bytes.includes(Buffer.from(trace)), trace).toBe(false);
  });

  it("a recording neither Telegram nor ffmpeg can make a voice of is not sent (the card counts it)", async () => {
    const junk = { mimetype: "audio/amr", data: b64(Buffer.from("#!AMR\n1234")) };
    expect(await toStaffMedia("audio", junk, { ffmpeg: undefined })).toBeNull();
    if (HAVE) expect(await toStaffMedia("audio", junk, { ffmpeg: FFMPEG })).toBeNull();
  });

  it.skipIf(!HAVE && !REQUIRED)(
    "with ffmpeg, recordings in other formats become voice notes (Opus in OGG) with none of their tags",
    async () => {
      if (!HAVE)
        throw new Error(`these tests need ffmpeg at ${FFMPEG} (apt-get install -y ffmpeg; .ci/run installs it)`);
      // Two seconds of tone as a phone's recorder might save it, tagged with a name.
      for (const [format, mimetype] of [
        ["mp3", "audio/mpeg"],
        ["wav", "audio/wav"],
        ["m4a", "audio/mp4"],
      ] as const) {
        const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "qorgau-rec-")), `rec.${format}`);
        execFileSync(FFMPEG, [
          ...["-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "sine=frequency=440:duration=2"],
          ...["-metadata", "title=Aigerim at home", "-metadata", "artist=Nurlanovna", out],
        ]);
        const file = fs.readFileSync(out);
        expect(file.includes(Buffer.from("Aigerim")), `${format} carries its tag`).toBe(true);
        const leftBefore = audioDirs();
        const got = await toStaffMedia("audio", { mimetype, data: b64(file) }, { ffmpeg: FFMPEG });
        // The recording was on the disk only while ffmpeg read it.
        expect(audioDirs()).toEqual(leftBefore);
        expect(got!.mime, format).toBe("audio/ogg");
        expect(got!.bytes.subarray(0, 4).toString(), format).toBe("OggS");
        expect(got!.bytes.includes(Buffer.from("OpusHead")), format).toBe(true);
        for (const trace of ["Aigerim", "Nurlanovna"])
          expect(got!.bytes.includes(Buffer.from(trace)), format).toBe(false);
      }
    },
    30_000,
  );

  it("a picture is re-encoded without its EXIF; one that does not decode is never sent as it came", async () => {
    const jpeg = await sharp({ create: { width: 40, height: 30, channels: 3, background: "#808080" } })
      .jpeg()
      .withExif({ IFD0: { Artist: "Aigerim" }, IFD3: { GPSLatitudeRef: "N", GPSLatitude: "42/1 18/1 3/1" } })
      .toBuffer();
    const got = await toStaffMedia("image", { mimetype: "image/jpeg", data: b64(jpeg) });
    expect(got!.kind).toBe("photo");
    expect((await sharp(got!.bytes).metadata()).exif).toBeUndefined();
    expect(got!.bytes.includes(Buffer.from("Aigerim"))).toBe(false);
    expect(await toStaffMedia("image", { mimetype: "image/jpeg", data: b64(Buffer.from("not a picture")) })).toBeNull();
  });

  it("a recording left on the disk by a kill mid-conversion is removed at the next start, and nothing else", async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "qorgau-tmp-"));
    const left = path.join(tmp, "qorgau-audio-Ab12Cd");
    fs.mkdirSync(left, { mode: 0o700 });
    fs.writeFileSync(path.join(left, "in"), Buffer.from("OggS her voice"), { mode: 0o600 });
    fs.writeFileSync(path.join(tmp, "someone-else"), "kept");
    expect(await removeLeftoverRecordings(tmp)).toBe(1);
    expect(fs.readdirSync(tmp)).toEqual(["someone-else"]);
  });
});
