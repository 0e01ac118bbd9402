/**
 * Screens → Telegram messages. Options become an inline keyboard on the last
 * text message; every other message carries the persistent reply keyboard, so
 * the quick-exit button is always one tap away (and, on "help near me", the
 * share-location button beside it).
 */
import type { InlineKeyboardMarkup, MessageEntity, ReplyKeyboardMarkup } from "grammy/types";
import type { Option, Screen } from "../../core/types.ts";

export function inlineKeyboard(options: Option[], columns = 1): InlineKeyboardMarkup {
  const rows: InlineKeyboardMarkup["inline_keyboard"] = [];
  const perRow = Math.max(1, Math.min(columns, 4));
  for (let i = 0; i < options.length; i += perRow) {
    rows.push(options.slice(i, i + perRow).map((o) => ({ text: o.label.slice(0, 64), callback_data: o.id })));
  }
  return { inline_keyboard: rows };
}

export function replyKeyboard(exitLabel: string, locationLabel?: string): ReplyKeyboardMarkup {
  const rows: ReplyKeyboardMarkup["keyboard"] = [];
  if (locationLabel) rows.push([{ text: locationLabel, request_location: true }]);
  rows.push([{ text: exitLabel }]);
  return { keyboard: rows, resize_keyboard: true, is_persistent: true };
}

export type RenderedMessage =
  | { kind: "text"; text: string; entities?: MessageEntity[]; markup: InlineKeyboardMarkup | ReplyKeyboardMarkup }
  | { kind: "place"; lat: number; lon: number; title: string; address: string; markup: ReplyKeyboardMarkup };

export function renderScreen(screen: Screen, labels: { exit: string; location: string }): RenderedMessage[] {
  const reply = replyKeyboard(labels.exit, screen.askLocation ? labels.location : undefined);
  const options = screen.options ?? [];
  let lastText = -1;
  screen.messages.forEach((m, i) => {
    if (m.kind === "text") lastText = i;
  });
  return screen.messages.map((m, i) => {
    if (m.kind === "place")
      return { ...m, title: m.title.slice(0, 100), address: m.address.slice(0, 200), markup: reply };
    const markup = i === lastText && options.length ? inlineKeyboard(options, screen.columns) : reply;
    const text = m.text.slice(0, 4096);
    const entities = phoneEntities(text, m.phones ?? []);
    return { kind: "text", text, markup, ...(entities.length ? { entities } : {}) };
  });
}

/**
 * Marks each listed number where it stands alone in the text as a
 * phone_number entity, so clients offer to call it ("112" is too short for
 * their own detection). Offsets are UTF-16, as Telegram counts them.
 */
export function phoneEntities(text: string, phones: string[]): MessageEntity[] {
  const out: MessageEntity[] = [];
  for (const p of phones) {
    for (let i = text.indexOf(p); i >= 0; i = text.indexOf(p, i + p.length)) {
      const before = text[i - 1];
      const after = text[i + p.length];
      if ((before && /[\d-]/.test(before)) || (after && /[\d-]/.test(after))) continue;
      out.push({ type: "phone_number", offset: i, length: p.length });
    }
  }
  return out
    .sort((a, b) => a.offset - b.offset)
    .filter((e, i, all) => i === 0 || e.offset >= all[i - 1]!.offset + all[i - 1]!.length);
}
