// Prisma CLI configuration. The CLI talks to SQLite through the same
// better-sqlite3 driver adapter as the bot, so no native engine is downloaded.
import fs from "node:fs";
import path from "node:path";
import { defineConfig } from "prisma/config";
import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";
import { databaseFileFromUrl } from "./src/db/url.ts";

// The same .env as the bot (src/main.ts), so `npm run db:status` looks at the bot's database.
const envFile = path.join(process.cwd(), ".env");
if (fs.existsSync(envFile)) process.loadEnvFile(envFile);

const url = `file:${databaseFileFromUrl(process.env.DATABASE_URL)}`;
// The CLI opens the file itself; make sure its folder exists on a fresh clone.
fs.mkdirSync(path.dirname(url.slice("file:".length)), { recursive: true });
// The schema's datasource names DATABASE_URL; the CLI needs it set to read the schema.
process.env.DATABASE_URL = url;

export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: path.join("prisma", "schema.prisma"),
  migrations: { path: path.join("prisma", "migrations") },
  adapter: async () => new PrismaBetterSQLite3({ url }),
});
