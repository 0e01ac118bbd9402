/**
 * Delivery of outbox items to reporters, through whichever channel they
 * wrote from. What is sent is vague unless the person just asked for it (S8):
 * a staff reply arrives as a knock with a "read" button, inside the hours the
 * person chose (S9), and never while a quick-exit hold is on (S6).
 */
import type { Channel } from "../channel.ts";
import type { Translator } from "../i18n.ts";
import type { Store } from "../store.ts";
import type { Eraser } from "../safety/exit.ts";
import { splitAddress, type ChannelName, type Screen } from "../types.ts";
import { confirmView } from "./draft.ts";
import type { DeliverResult } from "./outbox.ts";
import { contactWindow } from "./staff.ts";
import type { OutboxItem, ReportStore } from "./types.ts";

export interface ReporterDeliveryDeps {
  reports: ReportStore;
  store: Store;
  channels: Partial<Record<ChannelName, Channel>>;
  translator: Translator;
  sign(value: string): string;
  now: () => Date;
  /** A message that went out while its chat was being wiped belongs to that wipe. */
  eraser: Pick<Eraser, "epoch" | "adopt">;
}

export function createReporterDelivery(deps: ReporterDeliveryDeps) {
  return async function deliverToReporter(item: OutboxItem): Promise<DeliverResult> {
    const reportId = item.target.slice("relay:".length);
    const r = await deps.reports.byId(reportId);
    const address = await deps.reports.relayAddress(reportId);
    const relay = await deps.reports.relayInfo(reportId);
    if (!r || !address || !relay) return { status: "dead", reason: "no relay" };
    if (relay.heldSince) return { status: "held" };
    const { channel: name, chatId } = splitAddress(address);
    const channel = deps.channels[name];
    if (!channel) return { status: "later", at: new Date(deps.now().getTime() + 60_000) };
    // The reporter's channel: a knock on WhatsApp is answered with a number, not a button press.
    const t = deps.translator.forChannel(r.locale, name);
    let screen: Screen;
    if (item.payload.type === "confirm") {
      const v = confirmView(t, r);
      screen = { messages: v.messages, protect: true };
    } else if (item.payload.type === "knock") {
      if (r.contact === "none" || r.status === "closed") return { status: "dead", reason: "contact withdrawn" };
      // Held until the reporter opened the report herself (after an exit, with the case word): nothing left to knock for.
      if (!(await deps.reports.messages(r.id)).some((m) => m.direction === "out" && !m.readAt))
        return { status: "dead", reason: "already read" };
      const w = contactWindow(r, deps.now());
      if (!w.open) return { status: "later", at: w.next };
      // Proactive: no sensitive word, and the content only after the press (S8).
      screen = {
        messages: [{ kind: "text", text: t("report.knock") }],
        options: [{ id: `k:${r.id}:${deps.sign(r.id)}`, label: t("report.read") }],
        protect: true,
        unprompted: true,
      };
    } else {
      return { status: "dead", reason: "not for reporters" };
    }
    const epoch = deps.eraser.epoch(address);
    const refs = await channel.send(chatId, screen, r.locale);
    if (deps.eraser.epoch(address) !== epoch) {
      // A quick exit ran while this was on its way: deleted with the rest of the chat.
      await deps.eraser.adopt(
        address,
        r.locale,
        refs.map((x) => ({ id: x.id, fromBot: true, at: x.at })),
      );
      return { status: "sent", messageId: Number(refs[0]?.id) || null };
    }
    // Tracked like any other message, so quick exit deletes these too: queued now, committed with the
    // outbox's "sent" mark (one commit for both, not two one after the other).
    const tracked = deps.store.trackMessages(
      address,
      refs.map((x) => ({ id: x.id, fromBot: true, at: x.at })),
    );
    return { status: "sent", messageId: Number(refs[0]?.id) || null, alongside: tracked };
  };
}
