/**
 * Scheduled work on the queue. Each function finds what is due from stored
 * timestamps and queues notices with dedupe keys, so a late, repeated or
 * overlapping run still pings each report once per threshold (O1, R8).
 */
import type { StaffDesk } from "./staff.ts";
import { ago } from "./staff.ts";
import type { ReportStore } from "./types.ts";

export async function runEscalation(deps: {
  reports: ReportStore;
  desk: StaffDesk;
  now: () => Date;
  urgentMinutes: number;
  normalHours: number;
  /** A report nobody took after this long is raised to supervisors once (R8). */
  supervisorHours?: number;
  /** A taken report with no reply after this long reminds its holder once (R8). */
  reminderHours?: number;
  kick: () => void;
}): Promise<number> {
  const now = deps.now();
  const supervisorMs = (deps.supervisorHours ?? 2) * 3600_000;
  const reminderMs = (deps.reminderHours ?? 24) * 3600_000;
  let count = 0;
  for (const r of await deps.reports.open()) {
    const vars = {
      code: r.code,
      ago: ago(deps.desk.t, r.status === "new" ? r.createdAt : (r.takenAt ?? r.createdAt), now),
    };
    if (r.status === "taken" && r.takenAt && now.getTime() - r.takenAt.getTime() >= reminderMs) {
      const answered = (await deps.reports.messages(r.id)).some((m) => m.direction === "out");
      if (!answered) {
        await deps.reports.enqueue(
          [
            {
              dedupeKey: `remind:${r.id}:${r.takenAt.getTime()}`,
              target: `staff:${r.staffChatId}`,
              payload: {
                type: "notice",
                key: "staff.notice.remindHolder",
                vars: { ...vars, name: r.takenByName ?? "—" },
                reportId: r.id,
              },
            },
          ],
          now,
        );
      }
    }
    if (r.status !== "new") continue;
    if (now.getTime() - r.createdAt.getTime() >= supervisorMs) {
      // The dedupe key makes this once per report, however often the job runs.
      await deps.reports.enqueue(
        [
          {
            dedupeKey: `supervisors:${r.id}`,
            target: `staff:${r.staffChatId}`,
            payload: { type: "notice", key: "staff.notice.escalateSupervisors", vars, reportId: r.id },
          },
        ],
        now,
      );
    }
    const every = r.urgent ? deps.urgentMinutes * 60_000 : deps.normalHours * 3600_000;
    const since = (r.lastPingAt ?? r.createdAt).getTime();
    if (now.getTime() - since < every) continue;
    const n = r.pingCount + 1;
    const pinged = await deps.reports.notePing(r.id, now, [
      {
        dedupeKey: `ping:${r.id}:${n}`,
        target: `staff:${r.staffChatId}`,
        payload: {
          type: "notice",
          key: r.urgent ? "staff.notice.escalateUrgent" : "staff.notice.escalate",
          vars: { code: r.code, ago: ago(deps.desk.t, r.createdAt, now) },
          reportId: r.id,
        },
      },
    ]);
    if (pinged) count++;
  }
  if (count) deps.kick();
  return count;
}

/** A daily digest of counts to each staff chat; content-free. */
export async function runDigest(deps: {
  reports: ReportStore;
  chats: number[];
  now: () => Date;
  kick: () => void;
  sources?: (since: Date, until: Date) => Promise<Record<string, number>>;
}): Promise<number> {
  const now = deps.now();
  const day = new Date(now.getTime() - 86_400_000);
  const stamp = now.toISOString().slice(0, 10);
  // Yesterday's campaign links (aggregate counters by day, issue 17), the same for every group.
  const sources = Object.entries((await deps.sources?.(day, now)) ?? {})
    .map(([s, n]) => `${s} ${n}`)
    .join(", ");
  for (const chat of deps.chats) {
    const open = await deps.reports.open([chat]);
    const created = (await deps.reports.stats(day, [chat])).total;
    const closed = await deps.reports.closedSince(day, [chat]);
    const count = (s: string) => open.filter((r) => r.status === s).length;
    await deps.reports.enqueue(
      [
        {
          dedupeKey: `digest:${chat}:${stamp}`,
          target: `staff:${chat}`,
          payload: {
            type: "notice",
            key: sources ? "staff.notice.digestSources" : "staff.notice.digest",
            vars: {
              created,
              waiting: count("new"),
              taken: count("taken"),
              referred: count("referred"),
              closed,
              sources,
            },
            chart: true,
          },
        },
      ],
      now,
    );
  }
  deps.kick();
  return deps.chats.length;
}
