/**
 * Prisma's client over a test's database, to look at rows from outside the bot (the bot itself
 * never loads it: src/db/README.md). One client per opened database, disconnected when it closes.
 */
import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaClient } from "../../src/generated/prisma/client.ts";

const clients = new WeakMap<object, PrismaClient>();

export function prismaOf(db: { file: string; close(): Promise<void> }): PrismaClient {
  let client = clients.get(db);
  if (!client) {
    const made = new PrismaClient({ adapter: new PrismaBetterSQLite3({ url: `file:${db.file}`, timeout: 5000 }) });
    clients.set(db, (client = made));
    const close = db.close.bind(db);
    db.close = async () => {
      await made.$disconnect();
      await close();
    };
  }
  return client;
}
