/**
 * The one text form of a date in the database: ISO 8601 with "+00:00", as Prisma's SQLite adapter
 * writes DateTime. Both connections write it, so columns compare and sort as text the same way
 * whoever wrote them.
 */
export const sqlDate = (d: Date): string => `${d.toISOString().slice(0, -1)}+00:00`;

/** A stored date back (either form: rows written before this file used "Z"). */
export const fromSql = (s: string | null): Date | null => (s === null ? null : new Date(s));
