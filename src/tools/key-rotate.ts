/**
 * `npm run key:rotate`: re-seals the database under a new key. Stop the bot
 * first. ENCRYPTION_KEY is the key in use (or the development key), and
 * NEW_ENCRYPTION_KEY the new one (`openssl rand -base64 32`). Afterwards put
 * the new key in ENCRYPTION_KEY and start the bot. Backups made before stay
 * sealed with the old key: keep it as long as they are kept.
 */
import fs from "node:fs";
import path from "node:path";
import { acquireLock, InstanceLockError } from "../db/lock.ts";
import { RotationError, rotateKey } from "../db/rotate.ts";
import { databaseFileFromUrl, projectRoot } from "../db/url.ts";
import { keyFromEnv, KeySourceError } from "../keys.ts";

function main(): number {
  const envFile = path.join(projectRoot, ".env");
  if (fs.existsSync(envFile)) process.loadEnvFile(envFile);
  try {
    const file = databaseFileFromUrl(process.env.DATABASE_URL);
    if (!fs.existsSync(file)) throw new RotationError(`there is no database at ${file} (DATABASE_URL)`);
    const oldKey = keyFromEnv(process.env);
    const newKey = keyFromEnv(process.env, "NEW_ENCRYPTION_KEY");
    const release = acquireLock(file);
    try {
      const counts = rotateKey(file, oldKey, newKey);
      const total = Object.values(counts).reduce((a, b) => a + b, 0);
      process.stdout.write(`Re-sealed ${total} values in ${file}. Now set ENCRYPTION_KEY to the new key and start the bot; keep the old key while backups made with it are kept.\n`);
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

process.exitCode = main();
