/**
 * Application-level encryption for what must not be readable in a copied
 * database: report texts, the way back to a reporter, drafts (P1).
 * AES-256-GCM with a random 96-bit nonce; separate subkeys (HKDF) for
 * sealing, for the address hash and for signing staff buttons.
 */
import crypto from "node:crypto";

const VERSION = "v1";

export interface Sealer {
  seal(plain: string): string;
  /** Throws if the text was changed or sealed with another key. */
  open(sealed: string): string;
  /** A keyed hash: equal inputs give equal outputs, but it cannot be reversed or guessed without the key. */
  hash(value: string): string;
  /** Short signature for button data (ST2). */
  sign(value: string, length?: number): string;
  /**
   * Seals so that equal inputs give equal outputs (the nonce is derived from
   * the value), for ids that must work as keys: a WhatsApp number becomes an
   * opaque, stable chat key that only the key holder can turn back.
   */
  sealStable(plain: string): string;
}

export function createSealer(key: Buffer): Sealer {
  if (key.length !== 32) throw new Error("the encryption key must be 32 bytes");
  const sub = (info: string) => Buffer.from(crypto.hkdfSync("sha256", key, Buffer.alloc(0), info, 32));
  const encKey = sub("qorgau seal");
  const hashKey = sub("qorgau hash");
  const signKey = sub("qorgau sign");
  const sealWith = (plain: string, iv: Buffer) => {
    const c = crypto.createCipheriv("aes-256-gcm", encKey, iv);
    const body = Buffer.concat([c.update(plain, "utf8"), c.final()]);
    return `${VERSION}:${Buffer.concat([iv, c.getAuthTag(), body]).toString("base64url")}`;
  };
  const ivKey = sub("qorgau stable iv");
  return {
    sealStable: (plain) => sealWith(plain, crypto.createHmac("sha256", ivKey).update(plain).digest().subarray(0, 12)),
    seal: (plain) => sealWith(plain, randomBytes(12)),
    open(sealed) {
      const [v, data] = sealed.split(":");
      if (v !== VERSION || !data) throw new Error("not a sealed value");
      const buf = Buffer.from(data, "base64url");
      const d = crypto.createDecipheriv("aes-256-gcm", encKey, buf.subarray(0, 12));
      d.setAuthTag(buf.subarray(12, 28));
      return Buffer.concat([d.update(buf.subarray(28)), d.final()]).toString("utf8");
    },
    hash: (value) => crypto.createHmac("sha256", hashKey).update(value).digest("base64url"),
    sign: (value, length = 8) => crypto.createHmac("sha256", signKey).update(value).digest("base64url").slice(0, length),
  };
}

const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let used = 0;
/**
 * Cryptographically random bytes, `n` at a time from a pool filled 4 KB at once: every screen takes
 * a nonce and every sealed value an IV, and one call into the generator for each cost more than the
 * encryption itself (bench/README.md). Each byte is handed out once, as a copy.
 */
export function randomBytes(n: number): Buffer {
  if (n > POOL_BYTES) return crypto.randomBytes(n);
  if (used + n > pool.length) {
    pool = crypto.randomFillSync(Buffer.allocUnsafe(POOL_BYTES));
    used = 0;
  }
  const out = Buffer.from(pool.subarray(used, used + n));
  pool.fill(0, used, used + n);
  used += n;
  return out;
}

const scrypt = (word: string, salt: Buffer) =>
  new Promise<Buffer>((resolve, reject) => crypto.scrypt(normalizeWord(word), salt, 32, (err, key) => (err ? reject(err) : resolve(key))));

/**
 * Case words are hashed with scrypt and a salt: staff and a stolen database cannot read them (S12).
 * Asynchronous: scrypt takes tens of milliseconds and runs in libuv's pool, not on the bot's only thread.
 */
export async function hashCaseWord(word: string): Promise<string> {
  const salt = crypto.randomBytes(16);
  const h = await scrypt(word, salt);
  return `s1:${salt.toString("base64url")}:${h.toString("base64url")}`;
}

export async function caseWordEquals(word: string, stored: string): Promise<boolean> {
  const [v, salt, h] = stored.split(":");
  if (v !== "s1" || !salt || !h) return false;
  const got = await scrypt(word, Buffer.from(salt, "base64url"));
  const want = Buffer.from(h, "base64url");
  return got.length === want.length && crypto.timingSafeEqual(got, want);
}

const normalizeWord = (w: string) => w.normalize("NFKC").trim().toLowerCase();

const CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";
/** "K7M4-QX2P": 8 characters from 31 (no 0/O, 1/I/L), about 8.5e11 codes; unguessable in practice. */
export function newReportCode(): string {
  const bytes = crypto.randomBytes(8);
  let s = "";
  for (const b of bytes) s += CODE_ALPHABET[b % CODE_ALPHABET.length];
  return `${s.slice(0, 4)}-${s.slice(4)}`;
}

export function normalizeCode(text: string): string | null {
  const s = text.toUpperCase().replace(/[^0-9A-Z]/g, "");
  if (s.length !== 8 || [...s].some((c) => !CODE_ALPHABET.includes(c))) return null;
  return `${s.slice(0, 4)}-${s.slice(4)}`;
}
