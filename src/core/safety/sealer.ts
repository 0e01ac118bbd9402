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
  openStable(sealed: string): string;
  /**
   * The key of a chat's rows at rest (sessions, message ids, drafts, wipes): a keyed hash of its
   * address under the data keys, so no table names a person (P1) and none joins to `relays`.
   */
  chatKey(address: string): string;
  /** A value that tells whether a database was sealed with this key (see src/db/keyring.ts). */
  readonly check: string;
  /** Subkey for one purpose (backups), derived from the key. */
  subkey(purpose: string): Buffer;
}

/**
 * Keys the database keeps, sealed under ENCRYPTION_KEY (src/db/keyring.ts): what must stay the
 * same when ENCRYPTION_KEY is rotated because it is baked into keys of rows (stable WhatsApp
 * handles and message ids, chat keys). Rotation re-seals them with the rest.
 */
export interface DataKeys {
  stableEnc: Buffer;
  stableIv: Buffer;
  chat: Buffer;
  /** Signs staff buttons: cards already in the group keep working after a rotation. */
  sign: Buffer;
}

const hkdf = (key: Buffer, info: string) => Buffer.from(crypto.hkdfSync("sha256", key, Buffer.alloc(0), info, 32));

/**
 * The data keys a database gets on its first start with keyed chats. The stable ones are the keys
 * WhatsApp handles were sealed with before they were kept apart, so those handles stay valid.
 */
export function firstDataKeys(key: Buffer): DataKeys {
  return {
    stableEnc: hkdf(key, "qorgau seal"),
    stableIv: hkdf(key, "qorgau stable iv"),
    chat: crypto.randomBytes(32),
    sign: hkdf(key, "qorgau sign"),
  };
}

/** Key check value: a keyed hash of a fixed text; equal only for the same key, and it reveals nothing of it. */
export function keyCheck(key: Buffer): string {
  return crypto
    .createHmac("sha256", hkdf(key, "qorgau key check"))
    .update("qorgau key check v1")
    .digest("base64url")
    .slice(0, 22);
}

function gcmSeal(encKey: Buffer, plain: string, iv: Buffer): string {
  const c = crypto.createCipheriv("aes-256-gcm", encKey, iv);
  const body = Buffer.concat([c.update(plain, "utf8"), c.final()]);
  return `${VERSION}:${Buffer.concat([iv, c.getAuthTag(), body]).toString("base64url")}`;
}

function gcmOpen(encKey: Buffer, sealed: string): string {
  const [v, data] = sealed.split(":");
  if (v !== VERSION || !data) throw new Error("not a sealed value");
  const buf = Buffer.from(data, "base64url");
  const d = crypto.createDecipheriv("aes-256-gcm", encKey, buf.subarray(0, 12));
  d.setAuthTag(buf.subarray(12, 28));
  return Buffer.concat([d.update(buf.subarray(28)), d.final()]).toString("utf8");
}

/**
 * `dataKeys`: the database's own (src/db/keyring.ts). Without them (unit tests, tools that touch no
 * database) they are derived from the key, chat key included.
 */
export function createSealer(key: Buffer, dataKeys?: DataKeys): Sealer {
  if (key.length !== 32) throw new Error("the encryption key must be 32 bytes");
  const encKey = hkdf(key, "qorgau seal");
  const hashKey = hkdf(key, "qorgau hash");
  const data = dataKeys ?? { ...firstDataKeys(key), chat: hkdf(key, "qorgau chat") };
  return {
    sealStable: (plain) =>
      gcmSeal(data.stableEnc, plain, crypto.createHmac("sha256", data.stableIv).update(plain).digest().subarray(0, 12)),
    openStable: (sealed) => gcmOpen(data.stableEnc, sealed),
    seal: (plain) => gcmSeal(encKey, plain, randomBytes(12)),
    open: (sealed) => gcmOpen(encKey, sealed),
    hash: memo((value) => crypto.createHmac("sha256", hashKey).update(value).digest("base64url")),
    chatKey: memo((address) => crypto.createHmac("sha256", data.chat).update(address).digest("base64url").slice(0, 32)),
    sign: (value, length = 8) =>
      crypto.createHmac("sha256", data.sign).update(value).digest("base64url").slice(0, length),
    check: keyCheck(key),
    subkey: (purpose) => hkdf(key, `qorgau ${purpose}`),
  };
}

/**
 * The keyed hashes of the chats seen lately: one update asks for its chat's key several times (its
 * tracking, its session, its draft, its relays), and the HMAC was among the larger costs of an update
 * (bench/README.md). Bounded, enough for the chats in flight at once; the oldest forgotten first. It
 * holds what the session cache already holds (addresses), nothing more.
 */
const MEMO_SIZE = 1024;
function memo(f: (value: string) => string): (value: string) => string {
  const seen = new Map<string, string>();
  return (value) => {
    let out = seen.get(value);
    if (out === undefined) {
      out = f(value);
      if (seen.size >= MEMO_SIZE) seen.delete(seen.keys().next().value!);
      seen.set(value, out);
    }
    return out;
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
  new Promise<Buffer>((resolve, reject) =>
    crypto.scrypt(normalizeWord(word), salt, 32, (err, key) => (err ? reject(err) : resolve(key))),
  );

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
