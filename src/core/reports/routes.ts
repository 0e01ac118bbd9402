/**
 * Where each outbox row goes, and what staff hear when one cannot go. An outbox target names its
 * kind before the colon: `relay:<report>` (a staff reply to the person who reported), `answer:<chat
 * key>` (an answer that waited out a long flood wait) and `staff:<group>` (cards, replies, notices).
 * Also the notices the app raises itself: a channel down, a staff group that Telegram moved.
 */
import type { Dialog } from "../dialog.ts";
import type { Address } from "../types.ts";
import type { DeliverResult } from "./outbox.ts";
import type { OutboxItem, ReportStore } from "./types.ts";

export const TARGET = { relay: "relay:", answer: "answer:", staff: "staff:" } as const;

export type Deliver = (item: OutboxItem) => Promise<DeliverResult>;

export interface OutboxRouteDeps {
  reports: Pick<ReportStore, "byId" | "enqueue" | "mediaMissing">;
  now: () => Date;
  /** To the person who reported (a staff reply, a status). */
  toReporter: Deliver;
  /** Shows an answer that met a long flood wait, now that it is over (R3). */
  deliverDeferred: Dialog["deliverDeferred"];
  /** To a staff group; absent without Telegram, when staff rows wait. */
  toStaff?: Deliver;
  /** The staff groups, the first being the one notices go to when no report names one. */
  staffChats: readonly number[];
  /** Telegram's pace for one group: messages a minute. */
  groupMessagesPerMinute: number;
  kick(): void;
}

/** A content-free notice to one staff group, sent once per dedupe key. */
export function staffNotice(
  chat: number,
  dedupeKey: string,
  key: string,
  vars?: Record<string, string>,
  reportId?: string,
) {
  return {
    dedupeKey,
    target: `${TARGET.staff}${chat}`,
    payload: { type: "notice" as const, key, ...(vars ? { vars } : {}), ...(reportId ? { reportId } : {}) },
  };
}

export function createOutboxRoutes(deps: OutboxRouteDeps) {
  const { reports, now } = deps;

  const toPerson: Deliver = async (item) => {
    const p = item.payload;
    if (p.type !== "answer") return { status: "dead", reason: "not an answer" };
    await deps.deliverDeferred(p.address as Address, p.screen, p.locale, new Date(p.since), p.expireMinutes);
    return { status: "sent", messageId: null };
  };

  const deliver: Deliver = (item) => {
    if (item.target.startsWith(TARGET.relay)) return deps.toReporter(item);
    if (item.target.startsWith(TARGET.answer)) return toPerson(item);
    if (deps.toStaff) return deps.toStaff(item);
    return Promise.resolve({ status: "later", at: new Date(now().getTime() + 60_000) });
  };

  /** Telegram allows about 20 messages a minute to one group (A2.1). */
  const minIntervalMs = (target: string) =>
    target.startsWith(TARGET.staff) ? 60_000 / deps.groupMessagesPerMinute : 0;

  async function onDead(item: OutboxItem, reason: string): Promise<void> {
    const reportId = item.target.startsWith(TARGET.relay)
      ? item.target.slice(TARGET.relay.length)
      : item.unreadable
        ? undefined
        : (item.payload as { reportId?: string }).reportId;
    const r = reportId ? await reports.byId(reportId) : null;
    // A photo or a voice note that will not arrive: its card says how many (issue 26).
    if (r && !item.unreadable && (item.payload.type === "to_staff_photo" || item.payload.type === "to_staff_voice")) {
      await reports.mediaMissing(r.id, now());
      deps.kick();
      return;
    }
    // A reporter who blocked the bot or deleted the chat: staff hear it once, and retries stop (R2).
    if (reason === "blocked") {
      if (r && item.target.startsWith(TARGET.relay)) {
        const notice = staffNotice(
          r.staffChatId,
          `notice:undeliverable:${r.id}`,
          "staff.notice.undeliverable",
          { code: r.code },
          r.id,
        );
        await reports.enqueue([notice], now());
      }
      return;
    }
    // Anything else given up on (unreadable, refused, too many attempts) is a fault staff must
    // hear of: once per reason and hour, content-free (the outbox row is already logged). Never
    // for this notice itself, which would loop on a group the bot cannot write to.
    if (!item.unreadable && item.payload.type === "notice" && item.payload.key === "staff.notice.outboxDead") return;
    const chat = r?.staffChatId ?? deps.staffChats[0];
    if (chat === undefined) return;
    const hour = Math.floor(now().getTime() / 3600_000);
    const vars = { code: r?.code ?? "—", what: item.kind, reason };
    await reports.enqueue(
      [staffNotice(chat, `notice:outbox_dead:${reason}:${hour}`, "staff.notice.outboxDead", vars, r?.id)],
      now(),
    );
    deps.kick();
  }

  return { deliver, minIntervalMs, onDead };
}

/**
 * Staff hear of a channel's outage once per outage (decision 8): every "down" of one outage carries
 * the same dedupe key, taken from when it began; "up" ends the outage.
 */
export function channelDownNotices(channel: string, now: () => Date) {
  let since: Date | undefined;
  return {
    down(chat: number, reason: string) {
      since ??= now();
      return staffNotice(chat, `notice:${channel}_down:${since.getTime()}`, `staff.notice.${channel}Down`, { reason });
    },
    up() {
      since = undefined;
    },
  };
}
