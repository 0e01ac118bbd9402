/** Delivers one outbox item aimed at a staff group: a card, its edit, the reporter's words or photos, a notice. */
import { GrammyError, InputFile } from "grammy";
import type { DeliverResult } from "../../../core/reports/outbox.ts";
import type { OutboxItem } from "../../../core/reports/types.ts";
import { isNotModified, toChannelError } from "../errors.ts";
import { PROTECTION_CACHE_MS, splitText, type StaffContext } from "./context.ts";

/** Delivers one outbox item aimed at a staff chat. */
export async function deliver(s: StaffContext, item: OutboxItem): Promise<DeliverResult> {
  const { deps, bot, desk, reports, staffChats, paused, keyboard, isProtected, chartOf, sendChart, dir } = s;
  const chatId = deps.resolveChat(Number(item.target.slice("staff:".length)));
  const p = item.payload;
  if (paused.has(chatId)) return { status: "later", at: new Date(deps.now().getTime() + 60_000) };
  try {
    if (p.type === "directory")
      return dir ? await dir.deliver(chatId, item) : { status: "dead", reason: "no directory desk" };
    if (p.type === "card") {
      const r = await reports.byId(p.reportId);
      if (!r) return { status: "dead", reason: "no report" };
      // Sent before a crash but not marked: the card is there already, so not twice.
      if (r.cardMessageId) return { status: "sent", messageId: r.cardMessageId };
      const view = desk.card(r, { withText: await isProtected(chatId) });
      const sent = await bot.api.sendMessage(chatId, view.text.slice(0, 4096), {
        reply_markup: keyboard(r.id, view.buttons),
        protect_content: true,
      });
      // In one commit: a reply to the card may come as soon as it is shown.
      await Promise.all([
        reports.setCard(r.id, sent.message_id),
        reports.addStaffThread(chatId, sent.message_id, r.id, deps.now()),
      ]);
      return { status: "sent", messageId: sent.message_id };
    }
    if (p.type === "card_edit") {
      const r = await reports.byId(p.reportId);
      if (!r) return { status: "dead", reason: "no report" };
      // No card yet: it is rendered from the current state when it goes out, so there is nothing to edit.
      if (!r.cardMessageId) return { status: "sent", messageId: null };
      const view = desk.card(r, { withText: await isProtected(chatId) });
      try {
        await bot.api.editMessageText(chatId, r.cardMessageId, view.text.slice(0, 4096), {
          reply_markup: keyboard(r.id, view.buttons),
        });
      } catch (err) {
        if (!isNotModified(err)) throw err;
      }
      return { status: "sent", messageId: r.cardMessageId };
    }
    if (p.type === "to_staff") {
      const r = await reports.byId(p.reportId);
      const m = r && (await reports.messages(r.id)).find((x) => x.id === p.messageId);
      if (!r || !m) return { status: "dead", reason: "no message" };
      // The reporter's words are the report too: withheld in a group that lets them be saved (P4).
      const parts = (await isProtected(chatId)) ? splitText(m.body, 3800) : [null];
      let first: number | null = null;
      for (const [i, part] of parts.entries()) {
        const head = desk.t("staff.fromReporter", {
          code: r.code,
          part: parts.length > 1 ? desk.t("staff.part", { k: i + 1, n: parts.length }) : "",
        });
        const sent = await bot.api.sendMessage(
          chatId,
          part === null ? desk.t("staff.fromReporterWithheld", { code: r.code }) : `${head}\n${part}`,
          {
            protect_content: true,
            ...(r.cardMessageId
              ? { reply_parameters: { message_id: r.cardMessageId, allow_sending_without_reply: true } }
              : {}),
          },
        );
        await reports.addStaffThread(chatId, sent.message_id, r.id, deps.now());
        first ??= sent.message_id;
      }
      return { status: "sent", messageId: first };
    }
    if (p.type === "to_staff_photo" || p.type === "to_staff_voice") return await deliverMedia(s, chatId, item, p);
    if (p.type === "notice") {
      const text = desk.notice(p.key, p.vars ?? {});
      const chart = p.chart ? await chartOf([chatId]) : null;
      if (chart) {
        const sent = await sendChart(chatId, chart, text);
        return { status: "sent", messageId: sent };
      }
      const sent = await bot.api.sendMessage(chatId, text, { protect_content: true });
      if (p.reportId) await reports.addStaffThread(chatId, sent.message_id, p.reportId, deps.now());
      return { status: "sent", messageId: sent.message_id };
    }
    return { status: "dead", reason: "not for staff" };
  } catch (err) {
    const to = err instanceof GrammyError ? err.parameters.migrate_to_chat_id : undefined;
    if (to !== undefined) {
      staffChats.delete(chatId);
      staffChats.add(to);
      await deps.onMigrate(chatId, to);
      // The queue now points at the new id; take it again from there.
      return { status: "later", at: deps.now() };
    }
    throw toChannelError(err);
  }
}

type MediaPayload = Extract<OutboxItem["payload"], { type: "to_staff_photo" | "to_staff_voice" }>;

/**
 * A photo or a voice note, under its card, labelled with the report's code only (issue 26). Telegram's
 * own files go by file id; another channel's are fetched now, stripped by that channel, and uploaded.
 */
async function deliverMedia(
  s: StaffContext,
  chatId: number,
  item: OutboxItem,
  p: MediaPayload,
): Promise<DeliverResult> {
  const { deps, bot, desk, reports, isProtected } = s;
  const r = await reports.byId(p.reportId);
  if (!r) return { status: "dead", reason: "no report" };
  if (!r.cardMessageId && item.attempts < 5) return { status: "later", at: new Date(deps.now().getTime() + 2000) };
  // A photo or a voice is the report too: it waits until the group restricts saving content (P4).
  if (!(await isProtected(chatId)))
    return { status: "later", at: new Date(deps.now().getTime() + PROTECTION_CACHE_MS) };
  let file: string | InputFile = p.ref;
  if (r.channel !== "telegram") {
    // That channel is not running here (WhatsApp turned off since): nothing can fetch it, and the card says so.
    if (!deps.fetchMedia) return { status: "dead", reason: "no channel to fetch from" };
    // Thrown: tried again like any send. Null: gone for good, and the card will count it.
    const got = await deps.fetchMedia(p.ref);
    if (!got || got.kind !== (p.type === "to_staff_photo" ? "photo" : "voice"))
      return { status: "dead", reason: "media unavailable" };
    file = new InputFile(got.bytes, got.kind === "photo" ? "photo.jpg" : `voice.${EXTENSION[got.mime] ?? "ogg"}`);
  }
  const common = {
    protect_content: true,
    ...(r.cardMessageId
      ? { reply_parameters: { message_id: r.cardMessageId, allow_sending_without_reply: true } }
      : {}),
  };
  // By file id or as new bytes: a new send from the bot, never a forward, so nothing links back to the reporter (P2).
  const sent =
    p.type === "to_staff_photo"
      ? await bot.api.sendPhoto(chatId, file, {
          caption: desk.t("staff.photoCaption", { code: r.code, k: p.index, n: p.count }),
          ...common,
        })
      : await bot.api.sendVoice(chatId, file, {
          caption: desk.t("staff.voiceCaption", { code: r.code, k: p.index, n: p.count }),
          ...(p.seconds ? { duration: p.seconds } : {}),
          ...common,
        });
  await reports.addStaffThread(chatId, sent.message_id, r.id, deps.now());
  return { status: "sent", messageId: sent.message_id };
}

const EXTENSION: Record<string, string> = { "audio/ogg": "ogg", "audio/mpeg": "mp3", "audio/mp4": "m4a" };
