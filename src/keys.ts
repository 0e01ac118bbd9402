/**
 * Where ENCRYPTION_KEY comes from. In production, only the environment. Elsewhere, when it is not
 * set, a development key made on the first start in ~/.qorgau/encryption.key (mode 0600): outside
 * the database folder and its backups, so a copy of the data never carries its key.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export class KeySourceError extends Error {
  override name = "KeySourceError";
}

export function devKeyFile(env: NodeJS.ProcessEnv = process.env): string {
  return env.QORGAU_DEV_KEY_FILE || path.join(os.homedir(), ".qorgau", "encryption.key");
}

/** 32 bytes from base64 or hex, or null. */
export function parseKey(raw: string): Buffer | null {
  const key = Buffer.from(raw.trim(), /^[0-9a-f]{64}$/i.test(raw.trim()) ? "hex" : "base64");
  return key.length === 32 ? key : null;
}

/**
 * The development key, made if missing. `oldBeside`: where an older version kept it (beside the
 * database); a key found there moves. `say` is told once, when the file is made or moved.
 */
export function devKey(
  env: NodeJS.ProcessEnv,
  oldBeside: string | null,
  say: (line: string, moved: boolean) => void,
): Buffer {
  const file = devKeyFile(env);
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const moved = !!oldBeside && fs.existsSync(oldBeside);
    fs.writeFileSync(file, moved ? fs.readFileSync(oldBeside!) : crypto.randomBytes(32).toString("base64"), {
      mode: 0o600,
      flag: "wx",
    });
    if (moved) fs.rmSync(oldBeside!);
    say(
      `ENCRYPTION_KEY is not set, so a development key was ${moved ? "moved" : "made"}: ${file}\n` +
        "  Back it up apart from the database: without it no report can be read. For a deployment set ENCRYPTION_KEY and NODE_ENV=production.\n",
      moved,
    );
  }
  const key = parseKey(fs.readFileSync(file, "utf8"));
  if (!key)
    throw new KeySourceError(
      `the development key ${file} is not 32 bytes of base64; restore it from its backup, or set ENCRYPTION_KEY`,
    );
  return key;
}

/** For the command-line tools: ENCRYPTION_KEY, or the development key if one exists (never made here). */
export function keyFromEnv(env: NodeJS.ProcessEnv = process.env, name = "ENCRYPTION_KEY"): Buffer {
  const raw = env[name]?.trim();
  if (raw) {
    const key = parseKey(raw);
    if (!key) throw new KeySourceError(`${name} must be 32 random bytes, as base64 or hex`);
    return key;
  }
  if (env.NODE_ENV === "production" || name !== "ENCRYPTION_KEY") throw new KeySourceError(`${name} is not set`);
  const file = devKeyFile(env);
  if (!fs.existsSync(file))
    throw new KeySourceError(`ENCRYPTION_KEY is not set and there is no development key at ${file}`);
  const key = parseKey(fs.readFileSync(file, "utf8"));
  if (!key) throw new KeySourceError(`the development key ${file} is not 32 bytes of base64`);
  return key;
}
