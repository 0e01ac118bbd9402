/**
 * Screens → WhatsApp text. No buttons (deprecated in whatsapp-web.js, W1):
 * options become "1 — …" lines, 0 is always the exit, and every menu ends with
 * the way to reach help if WhatsApp itself goes away (W4), except a knock the
 * person did not ask for, which carries nothing but its neutral line.
 */
import type { Screen } from "../../core/types.ts";

export interface WaRenderTexts {
  exitLine: string;
  reply: string;
  locationHint: string;
  footer: string;
}

export type WaOut =
  { kind: "text"; text: string } | { kind: "place"; lat: number; lon: number; title: string; address: string };

export function renderWa(screen: Screen, texts: WaRenderTexts): WaOut[] {
  const out: WaOut[] = [];
  const options = screen.options ?? [];
  screen.messages.forEach((m, i) => {
    if (m.kind === "place") {
      out.push(m);
      return;
    }
    const last = i === screen.messages.length - 1 || screen.messages.slice(i + 1).every((x) => x.kind !== "text");
    const parts = [m.text];
    if (screen.askLocation && i === 0) parts.push(texts.locationHint);
    if (last && options.length) {
      parts.push(options.map((o, n) => `${n + 1} — ${o.label}`).join("\n"));
      // A knock stays a neutral line and its "1 — read": an expanded notification shows all of it.
      if (!screen.unprompted) {
        parts.push(`${texts.exitLine}\n${texts.reply}`);
        parts.push(texts.footer);
      }
    }
    out.push({ kind: "text", text: parts.join("\n\n") });
  });
  return out;
}
