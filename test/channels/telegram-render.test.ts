import { describe, expect, it } from "vitest";
import { inlineKeyboard, phoneEntities, renderScreen } from "../../src/channels/telegram/render.ts";

describe("telegram rendering", () => {
  it("marks whole numbers only, in UTF-16 offsets", () => {
    const text = "🆘 102 — милиция\n66-01-07 — министерство; 1102 нет; 150 км";
    const got = phoneEntities(text, ["102", "66-01-07", "150"]).map((e) => text.slice(e.offset, e.offset + e.length));
    expect(got).toEqual(["102", "66-01-07", "150"]);
    expect(phoneEntities("a 1966 b", ["66"])).toEqual([]);
  });

  it("puts options on the last text and the exit keyboard on every other message", () => {
    const r = renderScreen(
      {
        messages: [
          { kind: "place", lat: 1, lon: 2, title: "T", address: "A" },
          { kind: "text", text: "list" },
        ],
        options: [{ id: "a.0", label: "More" }],
      },
      { exit: "✕ Выйти", location: "📍" },
    );
    expect(r[0]!.markup).toEqual({ keyboard: [[{ text: "✕ Выйти" }]], resize_keyboard: true, is_persistent: true });
    expect(r[1]!.markup).toEqual({ inline_keyboard: [[{ text: "More", callback_data: "a.0" }]] });
  });

  it("lays out buttons in rows of the asked width", () => {
    const kb = inlineKeyboard(
      [1, 2, 3, 4, 5].map((i) => ({ id: `n.${i}`, label: String(i) })),
      2,
    );
    expect(kb.inline_keyboard.map((r) => r.length)).toEqual([2, 2, 1]);
  });
});
