import { projectRoot } from "../paths.ts";
import path from "node:path";

/** The embedded default: a file under the project, kept out of git. */
export const DEFAULT_DATABASE_URL = "file:./data/qorgau.db";

/**
 * Turns DATABASE_URL ("file:./data/qorgau.db", "file:/var/lib/qorgau/db.sqlite")
 * into an absolute file path. Relative paths are taken from the project root, so
 * the bot, the Prisma CLI and the tests agree whatever the working directory.
 */
export function databaseFileFromUrl(url: string | undefined): string {
  const raw = (url && url.trim()) || DEFAULT_DATABASE_URL;
  if (!raw.startsWith("file:")) {
    throw new Error(`DATABASE_URL must start with "file:" (SQLite), got "${raw.split(":")[0]}:…"`);
  }
  const file = raw.slice("file:".length).replace(/^\/\/(?=\/)/, "");
  if (!file || file === ":memory:")
    throw new Error("DATABASE_URL must name a file; an in-memory database would lose every report");
  return path.isAbsolute(file) ? file : path.resolve(projectRoot, file);
}
