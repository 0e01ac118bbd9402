/**
 * Screens written late (session-store.ts): a save that changes only where a person is in the dialog
 * (the state, the last seen) waits in memory up to `SESSION_WRITE_MS`, and the chat's screens of
 * that window are sealed and written together, a slice at a time. Under load a
 * person taps several times a second, and the seal and the write of every screen were about a
 * tenth of an update's CPU (bench/README.md).
 */
import type { SessionRecord } from "../core/store.ts";
import type { Writer } from "./hot.ts";

/**
 * How long a screen's state may wait in memory before it is written (ms). The log reaches the disk
 * each `WAL_SYNC_MS` anyway, so a power cut already lost up to a second of screens; a killed process
 * now loses as much, and the person's buttons on the last screen then answer with the menu
 * (`fallback.stale`). Who the person is (language, country, auto-erase, the limits shown) and the
 * ids of the messages are written at once.
 */
export const SESSION_WRITE_MS = 1000;

/**
 * Screens a write of the window takes at most. One is sealed and written in about 50 µs at everyday
 * load, so a slice holds the thread about 3 ms.
 */
export const SLICE = 64;

/** Whether a session differs from the row as it is (or will be) only in the state and the last seen. */
export function onlyScreen(was: SessionRecord | undefined, s: SessionRecord): boolean {
  return (
    was !== undefined &&
    s.autoEraseMinutes === null &&
    was.autoEraseMinutes === null &&
    was.locale === s.locale &&
    was.country === s.country &&
    was.limitsShown === s.limitsShown &&
    was.createdAt.getTime() === s.createdAt.getTime()
  );
}

export interface LateScreens {
  /** The screen waiting for this chat, if any: what its row will hold. */
  get(address: string): SessionRecord | undefined;
  /** Holds a screen until the next write (false once closed: write it at once). */
  hold(s: SessionRecord): boolean;
  /**
   * Takes a chat's waiting screen out. Call it inside a write of the same connection (a wipe, or a
   * session written whole), so that it happens in commit order: nothing brings the row back.
   * `only`: only if this is still the screen waiting (one saved later stays).
   */
  drop(address: string, only?: SessionRecord): void;
  /** Writes what waits now, and every later save at once: before the database closes. */
  close(): Promise<void>;
}

export function lateScreens(
  write: Writer,
  /** Writes one session's row (synchronously, inside the write). */
  upsert: (s: SessionRecord) => void,
  opts: { waitMs?: number; onFailed?: (err: unknown) => void } = {},
): LateScreens {
  const waitMs = opts.waitMs ?? SESSION_WRITE_MS;
  const waiting = new Map<string, SessionRecord>();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const later = () =>
    (timer ??= setTimeout(() => {
      timer = undefined;
      void flush();
    }, waitMs).unref());
  const writeWindow = async () => {
    // The window's chats, written a slice at a time: each slice its own write, in the writer's
    // batches with everybody else's, so that a window of several hundred screens never holds the
    // thread in one piece (at everyday load that piece took 24 to 28 ms on average, up to 97, once a
    // second: bench/README.md).
    const chats = [...waiting.keys()];
    for (let from = 0; from < chats.length; from += SLICE) {
      const slice = chats.slice(from, from + SLICE);
      if (!slice.some((address) => waiting.has(address))) continue;
      let written: Array<[string, SessionRecord]> = [];
      try {
        // Read inside the write, in commit order: a wipe that ran before it took its chat out.
        await write(() => {
          written = [];
          for (const address of slice) {
            const s = waiting.get(address);
            if (s) {
              upsert(s);
              written.push([address, s]);
            }
          }
        });
      } catch (err) {
        // Kept, and tried again: memory still answers the person meanwhile.
        opts.onFailed?.(err);
        if (!closed) later();
        return;
      }
      // A screen saved again meanwhile stays, for the next window.
      for (const [address, s] of written) if (waiting.get(address) === s) waiting.delete(address);
    }
  };
  /** Windows go out one after another; `close` waits for the one under way. */
  let running = Promise.resolve();
  const flush = () => (running = running.then(writeWindow));
  return {
    get: (address) => waiting.get(address),
    hold(s) {
      if (closed) return false;
      waiting.set(s.address, s);
      later();
      return true;
    },
    drop(address, only) {
      if (!only || waiting.get(address) === only) waiting.delete(address);
    },
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      await flush();
    },
  };
}
