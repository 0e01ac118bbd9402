import { describe, expect, it } from "vitest";
import { createSealer, randomBytes } from "../../src/core/safety/sealer.ts";

describe("sealed values and random bytes", () => {
  it("sealing the same text twice gives two different values that both open, and a changed value does not", () => {
    const sealer = createSealer(Buffer.alloc(32, 3));
    const a = sealer.seal("кто-то кричит за стеной");
    const b = sealer.seal("кто-то кричит за стеной");
    expect(a).not.toBe(b);
    expect([sealer.open(a), sealer.open(b)]).toEqual(["кто-то кричит за стеной", "кто-то кричит за стеной"]);
    // One bit of the sealed bytes flipped. (Changing the last letters of the text instead left the
    // bytes as they were once in 256 runs: base64url's last letter carries bits that are not read.)
    const [version, data] = a.split(":") as [string, string];
    const bytes = Buffer.from(data, "base64url");
    bytes[bytes.length - 1]! ^= 1;
    expect(() => sealer.open(`${version}:${bytes.toString("base64url")}`)).toThrow();
  });

  it("random bytes from the pool are never handed out twice, and a caller's copy is its own", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 5000; i++) seen.add(randomBytes(8).toString("hex"));
    expect(seen.size).toBe(5000);
    const mine = randomBytes(16);
    const copy = Buffer.from(mine);
    randomBytes(16);
    expect(mine.equals(copy)).toBe(true);
    expect(mine.equals(Buffer.alloc(16))).toBe(false);
    expect(randomBytes(5000)).toHaveLength(5000);
  });
});
