/**
 * One chart image for staff (issue 17): reports per day for 30 days by
 * urgency, the reports by status, by region, and where people came from
 * (campaign sources). Drawn as SVG and rendered to PNG by resvg (a prebuilt
 * binary from the package registry; no browser), with the DejaVu font shipped
 * as a package, so Kazakh and Kyrgyz letters render on any machine. The
 * numbers go in the caption too, for those who prefer text.
 */
import { createRequire } from "node:module";
import path from "node:path";
import type { T } from "../i18n.ts";

export const CHART_WIDTH = 1000;
export const CHART_HEIGHT = 1160;

export interface ChartData {
  /** Oldest first; `day` is YYYY-MM-DD in the staff's time zone. */
  days: Array<{ day: string; urgent: number; other: number }>;
  byStatus: Array<[label: string, n: number]>;
  byRegion: Array<[label: string, n: number]>;
  sources: Array<[label: string, n: number]>;
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const COLORS = {
  urgent: "#c2410c",
  other: "#2563eb",
  bar: "#0f766e",
  text: "#111827",
  muted: "#6b7280",
  grid: "#e5e7eb",
};

function text(
  x: number,
  y: number,
  s: string,
  opts: { size?: number; weight?: string; anchor?: string; fill?: string } = {},
) {
  return `<text x="${x}" y="${y}" font-size="${opts.size ?? 16}" font-weight="${opts.weight ?? "normal"}" text-anchor="${opts.anchor ?? "start"}" fill="${opts.fill ?? COLORS.text}">${esc(s)}</text>`;
}

/** Horizontal bars with the label on the left and the count at the end. */
function barList(x: number, y: number, width: number, rows: Array<[string, number]>, none: string): string[] {
  if (!rows.length) return [text(x, y + 24, none, { fill: COLORS.muted })];
  const max = Math.max(1, ...rows.map((r) => r[1]));
  const labelW = 300;
  return rows.flatMap(([label, n], i) => {
    const top = y + i * 32;
    const w = Math.max(n ? 2 : 0, ((width - labelW - 60) * n) / max);
    return [
      text(x, top + 20, label.length > 34 ? `${label.slice(0, 33)}…` : label, { size: 15 }),
      `<rect x="${x + labelW}" y="${top + 6}" width="${w.toFixed(1)}" height="20" rx="3" fill="${COLORS.bar}"/>`,
      text(x + labelW + w + 8, top + 21, String(n), { size: 15, weight: "bold" }),
    ];
  });
}

export function statsSvg(d: ChartData, t: T, title: string): string {
  const out: string[] = [
    `<rect width="${CHART_WIDTH}" height="${CHART_HEIGHT}" fill="#ffffff"/>`,
    text(40, 46, title, { size: 26, weight: "bold" }),
  ];

  // Reports per day, stacked: urgent or high risk below, the others above.
  const px = 80;
  const py = 100;
  const pw = CHART_WIDTH - px - 40;
  const ph = 300;
  const max = Math.max(1, ...d.days.map((x) => x.urgent + x.other));
  const step = pw / Math.max(1, d.days.length);
  out.push(text(40, py - 16, t("staff.chart.perDay"), { size: 18, weight: "bold" }));
  for (const frac of [0, 0.5, 1]) {
    const gy = py + ph - ph * frac;
    out.push(
      `<line x1="${px}" y1="${gy}" x2="${px + pw}" y2="${gy}" stroke="${COLORS.grid}"/>`,
      text(px - 10, gy + 5, String(Math.round(max * frac)), { size: 13, anchor: "end", fill: COLORS.muted }),
    );
  }
  d.days.forEach((x, i) => {
    const bx = px + i * step + step * 0.15;
    const bw = step * 0.7;
    const hu = (ph * x.urgent) / max;
    const ho = (ph * x.other) / max;
    if (x.urgent)
      out.push(
        `<rect x="${bx.toFixed(1)}" y="${(py + ph - hu).toFixed(1)}" width="${bw.toFixed(1)}" height="${hu.toFixed(1)}" fill="${COLORS.urgent}"/>`,
      );
    if (x.other)
      out.push(
        `<rect x="${bx.toFixed(1)}" y="${(py + ph - hu - ho).toFixed(1)}" width="${bw.toFixed(1)}" height="${ho.toFixed(1)}" fill="${COLORS.other}"/>`,
      );
    if (i % 5 === 0 || i === d.days.length - 1)
      out.push(
        text(bx + bw / 2, py + ph + 20, `${x.day.slice(8, 10)}.${x.day.slice(5, 7)}`, {
          size: 12,
          anchor: "middle",
          fill: COLORS.muted,
        }),
      );
  });
  const ly = py + ph + 48;
  out.push(
    `<rect x="${px}" y="${ly - 13}" width="16" height="16" fill="${COLORS.urgent}"/>`,
    text(px + 24, ly, t("staff.chart.urgent"), { size: 15 }),
  );
  out.push(
    `<rect x="${px + 320}" y="${ly - 13}" width="16" height="16" fill="${COLORS.other}"/>`,
    text(px + 344, ly, t("staff.chart.other"), { size: 15 }),
  );

  let y = ly + 50;
  for (const [key, rows] of [
    ["staff.stats.byStatus", d.byStatus],
    ["staff.stats.byRegion", d.byRegion.slice(0, 6)],
    ["staff.stats.sources", d.sources.slice(0, 5)],
  ] as const) {
    out.push(text(40, y, t(key), { size: 18, weight: "bold" }));
    out.push(...barList(40, y + 8, CHART_WIDTH - 80, [...rows], t("staff.chart.none")));
    y += 8 + Math.max(1, rows.length) * 32 + 44;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${CHART_WIDTH}" height="${CHART_HEIGHT}" viewBox="0 0 ${CHART_WIDTH} ${CHART_HEIGHT}" font-family="DejaVu Sans">${out.join("")}</svg>`;
}

const require = createRequire(import.meta.url);
/** The font files shipped by the dejavu-fonts-ttf package: the same letters on every machine. */
const FONT_DIR = path.join(path.dirname(require.resolve("dejavu-fonts-ttf/package.json")), "ttf");

export async function svgToPng(svg: string): Promise<Buffer> {
  const { Resvg } = await import("@resvg/resvg-js");
  const r = new Resvg(svg, {
    font: {
      loadSystemFonts: false,
      fontFiles: [path.join(FONT_DIR, "DejaVuSans.ttf"), path.join(FONT_DIR, "DejaVuSans-Bold.ttf")],
      defaultFontFamily: "DejaVu Sans",
    },
    background: "#ffffff",
  });
  return Buffer.from(r.render().asPng());
}
