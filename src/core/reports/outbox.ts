/**
 * The outbox worker (R2): sends what state changes queued, in order, paced
 * per chat, retrying what can be retried. A restart picks up whatever is still
 * pending, so a report committed just before a crash still gets its card.
 */
import type { Logger } from "../../logger.ts";
import { describeError } from "../../logger.ts";
import { ChannelError } from "../channel.ts";
import { crashPoint } from "../../crash-points.ts";
import type { OutboxItem, OutboxStore } from "./types.ts";

export type DeliverResult =
  /**
   * `alongside`: a write the delivery queued that must land with the row's "sent" mark (the ids of
   * the messages it sent, for quick exit): both are queued in the same turn and share one commit.
   */
  | { status: "sent"; messageId?: number | null; alongside?: Promise<void> }
  | { status: "held" }
  | { status: "later"; at: Date }
  | { status: "dead"; reason: string };

export interface OutboxDeps {
  reports: OutboxStore;
  deliver(item: OutboxItem): Promise<DeliverResult>;
  /** Called once when an item is given up, so staff can be told. */
  onDead?(item: OutboxItem, reason: string): Promise<void>;
  /** Least time between two sends to the same target. */
  minIntervalMs(target: string): number;
  now: () => Date;
  logger: Logger;
  /** How often to look for due rows when nothing kicks the worker. */
  pollMs?: number;
  maxAttempts?: number;
  /** How many chats are sent to at once. */
  parallel?: number;
  /** `STOP_WAIT_MS` unless given (tests give less). */
  stopWaitMs?: number;
}

export interface OutboxWorker {
  start(): void;
  /** Look now (after a commit). */
  kick(): void;
  /**
   * Sends these rows now, in the caller's time, without waiting behind the rest of the queue.
   * Resolves once the messages are out; their state is saved just after (`stop` waits for that).
   */
  send(dedupeKeys: string[]): Promise<void>;
  /** Runs one pass now and waits for it. */
  drain(): Promise<void>;
  stop(): Promise<void>;
}

/** How long `stop` waits for deliveries `send` started to save their outcome. */
export const STOP_WAIT_MS = 10_000;

export function backoffMs(attempts: number): number {
  const base = Math.min(600_000, 1000 * 2 ** Math.min(attempts, 10));
  return base / 2 + Math.random() * (base / 2);
}

export function createOutboxWorker(deps: OutboxDeps): OutboxWorker {
  const { reports, logger } = deps;
  const maxAttempts = deps.maxAttempts ?? 12;
  const lastSent = new Map<string, number>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = true;

  const chatKey = (target: string) => target; // relay:<report> is one chat; staff:<id> is one group

  /**
   * Rows being delivered right now, by the worker or by `send`: never two deliveries of one row. A
   * second caller waits for the first: a confirmation the worker's pass took a moment before the
   * reporter's own `send` is still sent before that reporter's next screen. `out`: the delivery
   * call is over (what `send` waits for: the next screen only has to come after the message);
   * `settled`: its outcome is saved too (what the worker's pass and `stop` wait for).
   */
  const inFlight = new Map<number, { out: Promise<void>; settled: Promise<void> }>();

  function deliverItem(item: OutboxItem): { out: Promise<void>; settled: Promise<void> } {
    const going = inFlight.get(item.id);
    if (going) return going;
    let isOut!: () => void;
    const out = new Promise<void>((resolve) => (isOut = resolve));
    const settled = (async () => {
      try {
        // A pass reads its rows, then takes a while to reach each: `send` may have sent one meanwhile.
        if (!(await reports.isPending(item.id))) return;
        const key = chatKey(item.target);
        if ((lastSent.get(key) ?? 0) + deps.minIntervalMs(item.target) > deps.now().getTime()) return; // paced: a later pass takes it
        lastSent.set(key, deps.now().getTime());
        await attempt(item, key, isOut);
      } catch (err) {
        // The outcome could not be saved (the database failed): the row stays as it was and is tried
        // again, so a message may go out twice. Logged here, once: `send` does not wait for this,
        // and a pass goes on with its other rows.
        logger.error("outbox.settle_failed", { task: item.kind, ...describeError(err) });
      } finally {
        isOut();
        inFlight.delete(item.id);
      }
    })();
    const delivery = { out, settled };
    inFlight.set(item.id, delivery);
    return delivery;
  }

  async function attempt(item: OutboxItem, key: string, isOut: () => void): Promise<void> {
    try {
      const res = await deps.deliver(item).finally(isOut);
      if (item.kind === "card") crashPoint("mid_outbox");
      if (res.status === "sent")
        await Promise.all([reports.markSent(item.id, res.messageId ?? null, deps.now()), res.alongside]);
      else if (res.status === "held") await reports.markHeld(item.id);
      else if (res.status === "later") await reports.markRetry(item.id, res.at, "later");
      else await giveUp(item, res.reason);
    } catch (err) {
      if (err instanceof ChannelError) {
        if (err.kind === "throttled") {
          await reports.markRetry(item.id, new Date(deps.now().getTime() + (err.retryAfterSeconds ?? 5) * 1000), "429");
          // Respect the flood wait for everything going to that chat.
          lastSent.set(key, deps.now().getTime() + (err.retryAfterSeconds ?? 5) * 1000);
          return;
        }
        if (!err.retryable) return giveUp(item, err.kind);
      }
      if (item.attempts + 1 >= maxAttempts) await giveUp(item, "too many attempts");
      else
        await reports.markRetry(
          item.id,
          new Date(deps.now().getTime() + backoffMs(item.attempts)),
          err instanceof ChannelError ? err.kind : "error",
        );
      logger.warn("outbox.retry", { task: item.kind, attempt: item.attempts + 1, ...describeError(err) });
    }
  }

  async function pass(): Promise<void> {
    const now = deps.now();
    // Targets still inside their pacing interval are left out of the query, so a backlog of staff
    // cards never holds up a reporter's confirmation or knock behind it.
    const waiting: string[] = [];
    for (const [target, at] of lastSent) {
      if (at + deps.minIntervalMs(target) > now.getTime()) waiting.push(target);
      else lastSent.delete(target); // past its interval: forgotten, so the map stays as small as the backlog
    }
    const due = await reports.due(now, 100, waiting);
    // One chat's rows go in order; different chats go side by side, so a hundred reporters'
    // confirmations do not queue behind one another's network round trips.
    const byTarget = new Map<string, OutboxItem[]>();
    for (const item of due.filter((i) => i.unreadable)) await giveUp(item, "unreadable");
    for (const item of due.filter((i) => !i.unreadable))
      byTarget.set(chatKey(item.target), [...(byTarget.get(chatKey(item.target)) ?? []), item]);
    const lanes = [...byTarget.values()];
    const worker = async () => {
      for (let lane = lanes.shift(); lane; lane = lanes.shift()) {
        for (const item of lane) {
          if (stopped && timer === undefined && !draining) return;
          await deliverItem(item).settled;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(lanes.length, deps.parallel ?? 16) }, worker));
  }

  async function giveUp(item: OutboxItem, reason: string) {
    await reports.markDead(item.id, reason);
    logger.warn("outbox.dead", { task: item.kind, reason });
    try {
      await deps.onDead?.(item, reason);
    } catch (err) {
      logger.warn("outbox.dead_notice_failed", describeError(err));
    }
  }

  let draining = false;
  function run(): Promise<void> {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        try {
          await pass();
        } catch (err) {
          logger.error("outbox.pass_failed", describeError(err));
        }
      } while (again);
    })().finally(() => {
      running = undefined;
    });
    return running;
  }

  function schedule() {
    if (stopped) return;
    timer = setTimeout(async () => {
      await run();
      schedule();
    }, deps.pollMs ?? 250);
  }

  return {
    start() {
      stopped = false;
      schedule();
    },
    kick() {
      if (!stopped) void run();
    },
    async send(dedupeKeys) {
      for (const item of await reports.pendingByKeys(dedupeKeys)) {
        if (item.unreadable) await giveUp(item, "unreadable");
        else await deliverItem(item).out;
      }
    },
    async drain() {
      draining = true;
      try {
        await run();
        if (again || running) await run();
      } finally {
        draining = false;
      }
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      timer = undefined;
      await running;
      // Deliveries `send` started may still be saving their outcome: the database stays open for them,
      // a while. One still waiting on the network after that is sent again after the restart.
      let wait: NodeJS.Timeout | undefined;
      const enough = new Promise((resolve) => (wait = setTimeout(resolve, deps.stopWaitMs ?? STOP_WAIT_MS)));
      await Promise.race([Promise.allSettled([...inFlight.values()].map((d) => d.settled)), enough]);
      clearTimeout(wait);
    },
  };
}
