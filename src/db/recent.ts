/**
 * What was read or written lately, kept in memory: at most `max` entries, the least recently used
 * dropped first. The sessions' cache (session-store.ts) and the drafts' (reports/context.ts); each
 * changes inside the writes that change its table, so it holds nothing the database will not (a
 * screen written late is in memory first: see session-store.ts).
 */
export function recentMap<K, V>(max: number) {
  const m = new Map<K, V>();
  return {
    /** The entry, now the most recently used. */
    get(key: K): V | undefined {
      const hit = m.get(key);
      if (hit !== undefined) {
        m.delete(key);
        m.set(key, hit);
      }
      return hit;
    },
    set(key: K, value: V): void {
      m.delete(key);
      m.set(key, value);
      if (m.size > max) m.delete(m.keys().next().value!);
    },
    delete: (key: K): void => void m.delete(key),
    clear: (): void => m.clear(),
  };
}
