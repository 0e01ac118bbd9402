/**
 * The reviewers' page (issue 17): every text of the bot, Kazakh, Kyrgyz and
 * Russian side by side, each with its locale key, drawn as it appears: a
 * Telegram bubble, a WhatsApp bubble or a staff-group message, grouped by the
 * screen it belongs to. A native reader can write a correction under any text
 * and download all corrections as one file (by key), to send back. Built from
 * locales/ at each request, so it always shows the texts of this checkout.
 */
import { LOCALES, type Locale } from "../config.ts";
import { loadResources } from "../core/i18n.ts";
import type { CrawledScreen, ShownScreen } from "./screens.ts";

const LANG_NAMES: Record<Locale, string> = { kk: "Қазақша", ky: "Кыргызча", ru: "Русский" };
/** What each group of keys is, for a reader who does not know the code. */
const GROUPS: Record<string, string> = {
  common: "Buttons and lines on many screens",
  welcome: "First message after /start",
  language: "Language choice",
  country: "Country choice",
  menu: "Main menu",
  danger: "«Danger now» screen",
  lines: "Numbers: trust lines and emergency",
  hours: "Opening hours",
  near: "«Help near me»: results, pickers, «ask them to write to me»",
  services: "Names of services in results",
  safety: "Safety plan",
  card: "Card with numbers",
  settings: "Settings: auto-erase, language",
  exit: "Quick exit and the cover message",
  fallback: "Answers to what the bot does not understand",
  profile: "Bot profile (name, description in Telegram)",
  commands: "Command menu in Telegram",
  report: "Reporting what happened (survivor or neighbour), and the replies from staff",
  staff: "Staff group: cards, buttons, notices, directory",
  whatsapp: "WhatsApp only",
  month: "Month names (dates in results)",
};

function flatten(o: unknown, prefix = "", out = new Map<string, string>()): Map<string, string> {
  if (typeof o === "string") out.set(prefix, o);
  else if (o && typeof o === "object")
    for (const [k, v] of Object.entries(o)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  return out;
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** Where a text is seen: its channel decides how it is drawn. */
export function channelOf(key: string): "telegram" | "whatsapp" | "staff" | "both" {
  if (key.startsWith("staff.")) return "staff";
  if (key.endsWith("_whatsapp") || key.startsWith("whatsapp.")) return "whatsapp";
  if (key.endsWith("_telegram") || key.startsWith("profile.") || key.startsWith("commands.")) return "telegram";
  return "both";
}

/** A text as a chat draws it: line breaks kept, {{placeholders}} marked so readers see what is filled in. */
function bubble(text: string): string {
  return esc(text)
    .replace(/\{\{(\w+)\}\}/g, '<span class="ph" title="filled in by the bot">$1</span>')
    .replace(/\$t\(([\w.]+)\)/g, '<span class="ph" title="another text">→ $1</span>');
}

export function reviewKeys(): { keys: string[]; texts: Record<Locale, Map<string, string>> } {
  const res = loadResources();
  const texts = Object.fromEntries(LOCALES.map((l) => [l, flatten(res[l])])) as Record<Locale, Map<string, string>>;
  const keys = [...new Set(LOCALES.flatMap((l) => [...texts[l].keys()]))];
  return { keys, texts };
}

/** One screen in one language: the Telegram chat, then the same screen as WhatsApp sends it. */
function shownCell(s: ShownScreen, l: Locale): string {
  const tg = s.telegram
    ? `<div class="scr tgs">${s.telegram.texts.map((x) => `<div class="bubble both">${bubble(x)}</div>`).join("")}${s.telegram.buttons.length ? `<div class="btns">${s.telegram.buttons.map((b) => `<span>${esc(b)}</span>`).join("")}</div>` : ""}</div>`
    : `<div class="scr na">not on this path in ${LANG_NAMES[l]}</div>`;
  const wa = s.whatsapp
    ? `<div class="scr was">${s.whatsapp.map((x) => `<div class="bubble whatsapp">${bubble(x)}</div>`).join("")}</div>`
    : "";
  return `<td class="screen" data-lang="${l}"><div class="chl">Telegram</div>${tg}${wa ? `<div class="chl">WhatsApp</div>${wa}` : ""}</td>`;
}

function screensSection(screens: CrawledScreen[], order: Locale[], known: Set<string>): string {
  // A text that differs per channel is asked for by its shared name: link both of its keys.
  const anchors = (k: string) =>
    known.has(k) ? [k] : [`${k}_telegram`, `${k}_whatsapp`, `${k}_one`].filter((x) => known.has(x));
  const rows = screens
    .map((sc, i) => {
      const title =
        sc.path[0] === "exit"
          ? "✕ Quick exit: what stays in the chat"
          : sc.trail.length
            ? sc.trail.join(" → ")
            : "☰ Menu";
      const keys = [...new Set(sc.keys.flatMap(anchors))]
        .map((k) => `<a href="#${esc(k)}"><code>${esc(k)}</code></a>`)
        .join(" ");
      return `<tr class="screen-row" id="screen-${i}"><th><b>${esc(title)}</b><div class="keys">${keys}</div></th>${order.map((l) => shownCell(sc.byLang[l], l)).join("")}</tr>`;
    })
    .join("\n");
  return `<section><h2 id="screens">Screens, composed as people see them <small>${screens.length} screens from the menu, both channels; the texts one by one follow below</small></h2><table><thead><tr><th>screen · keys</th>${order.map((l) => `<th>${LANG_NAMES[l]}</th>`).join("")}</tr></thead><tbody>${rows}</tbody></table></section>`;
}

export function reviewPage(screens: CrawledScreen[] = []): string {
  const { keys, texts } = reviewKeys();
  const groups = new Map<string, string[]>();
  for (const k of keys) {
    const g = k.split(".")[0]!;
    groups.set(g, [...(groups.get(g) ?? []), k]);
  }
  const order: Locale[] = ["kk", "ky", "ru"];
  const sections = [...groups]
    .map(([g, list]) => {
      const rows = list
        .map((k) => {
          const ch = channelOf(k);
          const cells = order
            .map((l) => {
              const t = texts[l].get(k);
              // Russian counts have four forms (1 знак, 2 знака, 5 знаков); Kazakh and Kyrgyz two.
              const form = /_(zero|one|two|few|many|other)$/.exec(k)?.[1];
              // Kept so every language has the same keys; i18next never picks it in this language.
              const unused =
                t !== undefined &&
                form !== undefined &&
                !new Intl.PluralRules(l).resolvedOptions().pluralCategories.includes(form as Intl.LDMLPluralRule);
              if (unused)
                return `<td class="cell" data-key="${esc(k)}" data-lang="${l}"><em class="na">a plural form ${LANG_NAMES[l]} does not use; not shown</em></td>`;
              return `<td class="cell" data-key="${esc(k)}" data-lang="${l}"><div class="bubble ${ch}">${t === undefined ? '<em class="missing">missing</em>' : bubble(t)}</div><textarea class="fix" placeholder="✎ correction" data-key="${esc(k)}" data-lang="${l}" aria-label="correction ${esc(k)} ${l}"></textarea></td>`;
            })
            .join("");
          return `<tr id="${esc(k)}"><th><code>${esc(k)}</code><span class="ch ${ch}">${ch === "both" ? "Telegram + WhatsApp" : ch === "staff" ? "staff group" : ch === "telegram" ? "Telegram" : "WhatsApp"}</span></th>${cells}</tr>`;
        })
        .join("\n");
      return `<section><h2 id="g-${esc(g)}">${esc(GROUPS[g] ?? g)} <small>${esc(g)}.* · ${list.length}</small></h2><table><thead><tr><th>key</th>${order.map((l) => `<th>${LANG_NAMES[l]}</th>`).join("")}</tr></thead><tbody>${rows}</tbody></table></section>`;
    })
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Qorgau — texts for review</title>
<style>
body{font:15px/1.4 system-ui,sans-serif;margin:0;background:#f4f5f7;color:#111}
header{position:sticky;top:0;background:#1f2937;color:#fff;padding:10px 16px;z-index:2;display:flex;gap:12px;align-items:center;flex-wrap:wrap}
header input{padding:6px 8px;border-radius:6px;border:0;min-width:260px}
header button{padding:6px 10px;border-radius:6px;border:0;background:#10b981;color:#fff;font-weight:600;cursor:pointer}
.banner{background:#fef3c7;color:#78350f;padding:8px 16px;font-size:14px}
section{padding:0 16px 16px}
h2{font-size:17px;margin:22px 0 8px}h2 small{color:#6b7280;font-weight:normal}
table{width:100%;border-collapse:collapse;table-layout:fixed;background:#fff}
th,td{border:1px solid #e5e7eb;vertical-align:top;padding:6px}
thead th{background:#f9fafb;text-align:left}
tbody th{width:210px;text-align:left;font-weight:normal}
code{font-size:12px;word-break:break-all}
.ch{display:block;font-size:11px;color:#6b7280;margin-top:4px}
.bubble{white-space:pre-wrap;border-radius:10px;padding:7px 10px;max-width:100%;box-shadow:0 1px 1px rgba(0,0,0,.08)}
.bubble.both,.bubble.telegram{background:#fff;border:1px solid #dbeafe}
.bubble.whatsapp{background:#dcf8c6}
.bubble.staff{background:#eef2ff;border-left:3px solid #6366f1}
.ph{background:#fde68a;border-radius:4px;padding:0 3px;font-size:12px;font-family:monospace}
.fix{width:100%;box-sizing:border-box;margin-top:6px;min-height:28px;font:inherit;font-size:13px;border:1px dashed #cbd5e1;border-radius:6px;padding:4px}
.fix:focus{border-style:solid;border-color:#10b981;outline:0}
.missing{color:#b91c1c}
.scr{display:flex;flex-direction:column;gap:4px;padding:6px;border-radius:8px}
.tgs{background:#dfe7ee}.was{background:#ece5dd;margin-top:4px}
.btns{display:flex;flex-wrap:wrap;gap:4px}.btns span{background:rgba(255,255,255,.85);color:#1f4e79;border-radius:6px;padding:3px 6px;font-size:13px}
.chl{font-size:11px;color:#6b7280;margin:4px 0 2px}.keys{margin-top:6px;display:flex;flex-wrap:wrap;gap:3px}.keys code{font-size:10px;background:#f3f4f6;padding:1px 3px;border-radius:3px}
td.screen{font-size:13px}.na{color:#9ca3af;font-size:12px}
tr.hidden{display:none}
</style></head>
<body>
<header><strong>Qorgau · texts for review</strong><span id="count">${keys.length} keys × ${LOCALES.length} languages</span>
<input id="filter" type="search" placeholder="filter by key or text"><button id="download" type="button">Download corrections</button><span id="fixed">0 corrections</span></header>
${screens.length ? "" : '<div class="banner">The composed screens are not ready: reload in a moment.</div>'}
<div class="banner">A local page: nothing is sent anywhere. Write a correction under any text; «Download corrections» saves them as one file, by key, to send back. <span class="ph">name</span> marks what the bot fills in. Each text is drawn as its channel shows it: white for Telegram and WhatsApp alike, green for WhatsApp only, blue-edged for the staff group. The screens in their place: the playground (<a href="/">/</a>).</div>
${screens.length ? screensSection(screens, order, new Set(keys)) : ""}
${sections}
<script>
const fixes=()=>[...document.querySelectorAll('textarea.fix')].filter(t=>t.value.trim()).map(t=>({key:t.dataset.key,lang:t.dataset.lang,now:t.closest('td').querySelector('.bubble').innerText,correction:t.value.trim()}));
document.addEventListener('input',e=>{if(e.target.classList.contains('fix'))document.getElementById('fixed').textContent=fixes().length+' corrections';});
document.getElementById('filter').addEventListener('input',e=>{const q=e.target.value.toLowerCase();for(const tr of document.querySelectorAll('tbody tr'))tr.classList.toggle('hidden',!!q&&!tr.innerText.toLowerCase().includes(q));});
document.getElementById('download').addEventListener('click',()=>{const blob=new Blob([JSON.stringify({made:new Date().toISOString(),corrections:fixes()},null,2)],{type:'application/json'});const a=document.createElement('a');a.href=URL.createObjectURL(blob);a.download='qorgau-corrections.json';a.click();});
</script>
</body></html>`;
}
