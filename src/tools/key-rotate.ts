/**
 * `npm run key:rotate`: re-seals the database under a new key that it makes
 * itself. Stop the bot first. ENCRYPTION_KEY is the key in use (or the
 * development key). The new key is written to a new file (mode 0600, in the
 * folder of the development key unless `--out FILE`), or with `--print` shown
 * once in the terminal, before anything is re-sealed: at no point is the
 * database sealed under a key nobody has. Afterwards put the new key in
 * ENCRYPTION_KEY and start the bot. Backups made before stay sealed with the
 * old key: keep it as long as they are kept.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { keyCheck } from "../core/safety/sealer.ts";
import { acquireLock, InstanceLockError } from "../db/lock.ts";
import { RotationError, rotateKey } from "../db/rotate.ts";
import { projectRoot } from "../paths.ts";
import { databaseFileFromUrl } from "../db/url.ts";
import { devKeyFile, keyFromEnv, KeySourceError } from "../keys.ts";

const USAGE = "usage: npm run key:rotate [-- --out FILE | -- --print]   (stop the bot first)";

/** Writes the key to a file that did not exist, readable by its owner only, and on the disk before it returns. */
function writeKeyFile(file: string, key: Buffer): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const fd = fs.openSync(file, "wx", 0o600);
  try {
    fs.writeSync(fd, `${key.toString("base64")}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function main(argv: string[]): number {
  const envFile = path.join(projectRoot, ".env");
  if (fs.existsSync(envFile)) process.loadEnvFile(envFile);
  const print = argv.includes("--print");
  const outAt = argv.indexOf("--out");
  const out = outAt >= 0 ? argv[outAt + 1] : undefined;
  if (
    (outAt >= 0 && !out) ||
    (print && out) ||
    argv.some((a, i) => a !== "--print" && a !== "--out" && (outAt < 0 || i !== outAt + 1))
  ) {
    process.stderr.write(`${USAGE}\n`);
    return 1;
  }
  try {
    const file = databaseFileFromUrl(process.env.DATABASE_URL);
    if (!fs.existsSync(file)) throw new RotationError(`there is no database at ${file} (DATABASE_URL)`);
    const oldKey = keyFromEnv(process.env);
    const newKey = crypto.randomBytes(32);
    const stamp = new Date().toISOString().replace(/[:.]/g, "-");
    const keyFile = path.resolve(out ?? path.join(path.dirname(devKeyFile(process.env)), `encryption-${stamp}.key`));
    if (!print && fs.existsSync(keyFile))
      throw new RotationError(`${keyFile} exists already; name a new file with --out`);
    const release = acquireLock(file);
    try {
      const counts = rotateKey(file, oldKey, newKey, () => {
        if (print) {
          process.stdout.write(
            `The new key (shown only now; store it before you go on, then put it in ENCRYPTION_KEY):\n${newKey.toString("base64")}\n`,
          );
          return null;
        }
        writeKeyFile(keyFile, newKey);
        return keyFile;
      });
      const total = Object.values(counts).reduce((a, b) => a + b, 0);
      process.stdout.write(
        `Re-sealed ${total} values in ${file} under the new key (check value ${keyCheck(newKey)}).\n` +
          (print
            ? ""
            : `The new key is in ${keyFile} (readable by you only): keep a copy apart from the database and its backups.\n`) +
          "Now set ENCRYPTION_KEY to the new key and start the bot; keep the old key while backups made with it are kept.\n",
      );
      return 0;
    } finally {
      release();
    }
  } catch (err) {
    if (err instanceof RotationError || err instanceof KeySourceError || err instanceof InstanceLockError) {
      process.stderr.write(`key:rotate: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

process.exitCode = main(process.argv.slice(2));
