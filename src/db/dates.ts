/**
 * The one text form of a date in the database: ISO 8601 with "+00:00", as Prisma's SQLite adapter
 * writes DateTime. Both connections write it, so columns compare and sort as text the same way
 * whoever wrote them.
 */
export const sqlDate = (d: Date): string => {
  // The dates of one update (its arrival, its answer's messages, its session) are most often the same
  // millisecond: the text of the last one is kept, not made again (it was 1 % of an update's CPU).
  const ms = d.getTime();
  if (ms !== lastMs) {
    lastMs = ms;
    lastText = `${d.toISOString().slice(0, -1)}+00:00`;
  }
  return lastText;
};
let lastMs = Number.NaN;
let lastText = "";

/** A stored date back (either form: rows written before this file used "Z"). */
export const fromSql = (s: string | null): Date | null => (s === null ? null : new Date(s));
