/**
 * Checkpoints of the write-ahead log, off the bot's thread.
 *
 * A checkpoint copies the log's pages into the database file and syncs both files (synchronous=
 * NORMAL). SQLite ran one on the message connection after every commit that took the log past
 * 1,000 pages: in the bot's thread, which read and wrote every page and then waited for the disk
 * twice, about four times a second at everyday load (bench/README.md). Here a connection of its own,
 * in a worker thread, does it: every `CHECKPOINT_EVERY_MS` when something was committed, without
 * blocking the bot's writes (PASSIVE); once the log holds `RESTART_AT_PAGES`, so that it is written
 * from its start again (RESTART); and soon after a wipe, truncated to nothing, so the wiped chat's
 * pages do not linger in it (TRUNCATE). RESTART and TRUNCATE hold the bot's writes back while they
 * run: the message connection meets a busy database and `retrying` gives the event loop back. So
 * one of them runs at most once every `HOLD_GAP_MS`: at everyday load the log passed 1,000 pages
 * at every pass, four times a second, and each hold (8 to 18 ms on average, up to 50) kept the
 * updates of that moment from being recorded, and so from being answered (bench/README.md).
 * A passive checkpoint leaves the database file unsynced while the bot keeps writing, and the hold
 * that came next synced everything copied since the last one: its hold grew with the gap between
 * holds. So the worker syncs the file after each passive pass that copied pages, holding nothing.
 *
 * The message connection keeps SQLite's own checkpoint at `FALLBACK_PAGES`, in case this thread
 * falls behind, and at 1,000 pages again if the worker fails.
 */
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import type { HotDb } from "./hot.ts";

export const CHECKPOINT_EVERY_MS = 250;
/** A log this long is checkpointed and restarted. SQLite's own default, in pages. */
export const RESTART_AT_PAGES = 1000;
/** The message connection's own checkpoint, only if the worker falls this far behind. */
export const FALLBACK_PAGES = 10_000;
/** After a wipe, the log is truncated this long after the last one (one truncation for a burst). */
export const TRUNCATE_AFTER_WIPE_MS = 1000;
/**
 * The least time between two checkpoints that hold the bot's writes (RESTART, TRUNCATE). The log
 * meanwhile grows by what a second writes (some 4,500 pages at the bench's everyday load), well
 * short of `FALLBACK_PAGES`; a truncation after a wipe waits for its turn, at most this long.
 */
export const HOLD_GAP_MS = 1000;

type Mode = "PASSIVE" | "RESTART" | "TRUNCATE";
type Result = { busy: number; log: number; checkpointed: number } | { error: string };

// CommonJS, run with `eval`: the bot is one bundled file, and a worker needs code of its own.
const WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driver);
const fs = require("node:fs");
const db = new Database(workerData.file, { fileMustExist: true, timeout: 5000 });
db.pragma("synchronous = NORMAL");
db.pragma("wal_autocheckpoint = 0");
const fd = fs.openSync(workerData.file, "r");
let copied = 0;
parentPort.on("message", (mode) => {
  if (mode === "close") { db.close(); fs.closeSync(fd); parentPort.close(); return; }
  try {
    const r = db.pragma("wal_checkpoint(" + mode + ")")[0];
    // Pages a passive checkpoint copied go to the disk now, holding nothing: else they wait for the
    // next checkpoint that holds the bot's writes, and its sync of the file takes them all at once.
    // (Fewer frames copied than at the pass before: the log started over meanwhile.) Only to spread
    // the disk's work: if it fails, the checkpoint's answer still goes back, and that next one's
    // own sync, SQLite's, says what the disk refused.
    if (mode === "PASSIVE" && r.checkpointed > 0 && r.checkpointed !== copied) {
      try { fs.fdatasyncSync(fd); } catch {}
    }
    copied = mode === "PASSIVE" ? r.checkpointed : 0;
    parentPort.postMessage({ busy: r.busy, log: r.log, checkpointed: r.checkpointed });
  } catch (err) {
    parentPort.postMessage({ error: String(err && err.code || err) });
  }
});
`;

export interface Checkpoints {
  /** Truncates the log soon (after a wipe or a purge): one truncation for a burst of calls. */
  truncateSoon(): void;
  close(): Promise<void>;
}

export function startCheckpoints(
  db: HotDb,
  file: string,
  /** Told of each checkpoint that holds the bot's writes, as it is asked for (for tests). */
  onHold?: (mode: "RESTART" | "TRUNCATE") => void,
): Checkpoints {
  const total = db.prepare("SELECT total_changes()").pluck();
  db.pragma(`wal_autocheckpoint = ${FALLBACK_PAGES}`);
  const worker = new Worker(WORKER, {
    eval: true,
    // It holds a connection and a few numbers: a small heap keeps the bot under its memory target.
    resourceLimits: { maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 8 },
    workerData: { file, driver: createRequire(import.meta.url).resolve("better-sqlite3") },
  });
  worker.unref();
  let failed = false;
  const fail = () => {
    if (failed) return;
    failed = true;
    // The bot's own connection checkpoints again, as SQLite does by default.
    if (db.open) db.pragma("wal_autocheckpoint = 1000");
  };
  worker.on("error", fail);
  worker.on("exit", fail);

  /** One request at a time; each resolves with the worker's answer. */
  let chain: Promise<unknown> = Promise.resolve();
  const ask = (mode: Mode): Promise<Result> => {
    const next = chain.then(
      () =>
        new Promise<Result>((resolve) => {
          if (failed) return resolve({ error: "worker gone" });
          const onExit = () => resolve({ error: "worker gone" });
          worker.once("exit", onExit);
          worker.once("message", (r: Result) => {
            worker.off("exit", onExit);
            resolve(r);
          });
          worker.postMessage(mode);
        }),
    );
    chain = next;
    return next;
  };

  let seen = -1;
  let busy = false;
  /** When the last checkpoint that holds the bot's writes was asked for (performance.now()). */
  let lastHold = -Infinity;
  const hold = (mode: "RESTART" | "TRUNCATE") => {
    lastHold = performance.now();
    onHold?.(mode);
    return ask(mode);
  };
  const tick = async () => {
    const changes = Number(total.get());
    if (busy || failed || changes === seen) return;
    busy = true;
    seen = changes;
    try {
      const r = await ask("PASSIVE");
      // A truncation on its way restarts the log too.
      const due = !truncateTimer && performance.now() - lastHold >= HOLD_GAP_MS;
      if ("log" in r && r.log >= RESTART_AT_PAGES && due) await hold("RESTART");
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void tick(), CHECKPOINT_EVERY_MS);
  timer.unref();

  let truncateTimer: NodeJS.Timeout | undefined;
  let tries = 0;
  /** Without the worker, the message connection truncates the log itself, as it did before it. */
  const truncateHere = (): Result => {
    if (!db.open) return { busy: 0, log: 0, checkpointed: 0 };
    try {
      return (db.pragma("wal_checkpoint(TRUNCATE)") as Array<{ busy: number; log: number; checkpointed: number }>)[0]!;
    } catch (err) {
      return { error: String((err as { code?: string }).code ?? err) };
    }
  };
  const truncateSoon = () => {
    if (truncateTimer) return;
    truncateTimer = setTimeout(
      () => {
        truncateTimer = undefined;
        void (failed ? Promise.resolve(truncateHere()) : hold("TRUNCATE")).then((r) => {
          // A reader kept it from finishing: again shortly, a few times.
          if (("error" in r || r.busy) && ++tries < 10) return truncateSoon();
          tries = 0;
        });
      },
      Math.max(TRUNCATE_AFTER_WIPE_MS, lastHold + HOLD_GAP_MS - performance.now()),
    );
    truncateTimer.unref();
  };

  return {
    truncateSoon,
    async close() {
      clearInterval(timer);
      clearTimeout(truncateTimer);
      truncateTimer = undefined;
      await chain.catch(() => undefined);
      if (failed) return;
      const exited = new Promise((r) => worker.once("exit", r));
      worker.ref(); // until it has closed its connection: the process waits for that
      worker.postMessage("close");
      await exited;
    },
  };
}
