/** What a WhatsApp file becomes before staff receive it (issue 26): nothing that names her goes with it. */
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import { toStaffMedia } from "../../src/channels/whatsapp/media.ts";

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

  it("an MP3 recording loses its tags: no title, name or note reaches staff", async () => {
    const { file, audio } = taggedMp3();
    const got = await toStaffMedia("audio", { mimetype: "audio/mpeg", data: b64(file) });
    expect(got!.mime).toBe("audio/mpeg");
    expect(got!.bytes.equals(audio)).toBe(true);
    for (const trace of ["Aigerim", "Nurlanovna", "Voice memo", "ID3", "TAG"])
      expect(got!.bytes.includes(Buffer.from(trace)), trace).toBe(false);
  });

  it("an audio format Telegram cannot play as a voice is not sent (the card counts it)", async () => {
    expect(await toStaffMedia("audio", { mimetype: "audio/amr", data: b64(Buffer.from("#!AMR\n1234")) })).toBeNull();
  });

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
});
