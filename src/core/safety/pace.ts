/**
 * How fast one chat may write (issue 14): a token bucket per chat, in memory
 * only. A burst of `burst` updates is answered at once, then `perMinute`
 * a minute. The first update over the limit gets one calm notice; the rest
 * get nothing until the chat slows down. Quick exit never comes here.
 */
export type PaceVerdict = "ok" | "notice" | "silent";

export interface ChatPace {
  take(key: string, nowMs: number): PaceVerdict;
}

/** Above this many chats, buckets that have filled up again are forgotten (they equal a new one). */
const SWEEP_AT = 5000;

export function createChatPace(perMinute: number, burst = Math.min(10, perMinute)): ChatPace {
  const perMs = perMinute / 60_000;
  const buckets = new Map<string, { tokens: number; at: number; told: boolean }>();
  const level = (b: { tokens: number; at: number }, now: number) => Math.min(burst, b.tokens + (now - b.at) * perMs);
  return {
    take(key, now) {
      if (buckets.size > SWEEP_AT) for (const [k, b] of buckets) if (level(b, now) >= burst) buckets.delete(k);
      const b = buckets.get(key) ?? { tokens: burst, at: now, told: false };
      b.tokens = level(b, now);
      b.at = now;
      buckets.set(key, b);
      // Told once per flood: only a chat that slowed down until its burst was back is told again.
      if (b.tokens >= burst) b.told = false;
      if (b.tokens >= 1) {
        b.tokens -= 1;
        return "ok";
      }
      if (b.told) return "silent";
      b.told = true;
      return "notice";
    },
  };
}
