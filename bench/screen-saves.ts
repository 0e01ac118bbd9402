/**
 * What saving a screen costs the bot's thread (CPU µs per screen): 500 chats, each shown 20
 * screens, 40 chats a turn as under load, each screen with its message id. `eager` writes every
 * screen's session at once (as before src/db/late-screens.ts); `lazy` lets a screen that changes
 * only where a person is wait `WAIT` ms (default 200: about four screens of a chat share one write
 * here); a `WAIT` longer than the run shows the most waiting can save. Usage:
 * `npx tsx bench/screen-saves.ts [eager|lazy|both] [WAIT] [ROUNDS]` (default: both, 200, three rounds).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { makeAddress } from "../src/core/types.ts";
import { openDatabase } from "../src/db/open.ts";
import { createSqliteStore } from "../src/db/session-store.ts";

const CHATS = 500;
const SCREENS = 20;
const AT_ONCE = 40;
const OPTIONS = ["🆘 Опасно сейчас", "📍 Помощь рядом", "☎ Телефоны доверия", "🛡 Как обезопасить себя"].map(
  (label, i) => ({ id: `o${i}`, label }),
);

async function once(mode: "eager" | "lazy", waitMs: number): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "qorgau-screens-"));
  const db = await openDatabase(path.join(dir, "s.db"), Buffer.alloc(32, 7));
  const store = createSqliteStore(db, { sessionWriteMs: waitMs });
  const at = new Date();
  const session = (chat: number, screen: number) => ({
    address: makeAddress("telegram", 100_000 + chat),
    locale: "ru" as const,
    country: "KZ" as const,
    state: { v: 2 as const, screen: "menu", nonce: `n${screen}`, options: OPTIONS },
    autoEraseMinutes: null,
    limitsShown: false,
    lastSeenAt: new Date(at.getTime() + screen * 1000),
    createdAt: at,
  });
  for (let c = 0; c < CHATS; c++) await store.saveSession(session(c, -1)); // every chat has its row
  let id = 1;
  const t0 = process.cpuUsage();
  for (let s = 0; s < SCREENS; s++) {
    for (let c = 0; c < CHATS; c += AT_ONCE) {
      const turn = [];
      for (let k = c; k < c + AT_ONCE; k++)
        turn.push(
          store.saveSession(session(k, s), [{ id: String(id++), fromBot: true, at }], { lazy: mode === "lazy" }),
        );
      await Promise.all(turn);
    }
    await new Promise((r) => setTimeout(r, 12)); // a pause between rounds: time for the waiting screens' timer
  }
  await store.close();
  const used = process.cpuUsage(t0);
  await db.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return (used.user + used.system) / (CHATS * SCREENS);
}

const [only = "both", wait = "200", rounds = "3"] = process.argv.slice(2);
const modes = (["eager", "lazy"] as const).filter((m) => only === "both" || only === m);
const figures: Record<string, number[]> = {};
for (let r = 0; r < Number(rounds); r++)
  for (const m of modes) (figures[m] ??= []).push(Math.round((await once(m, Number(wait))) * 10) / 10);
console.log(JSON.stringify({ config: "screen-saves", wait_ms: Number(wait), cpu_us_per_screen: figures }));
