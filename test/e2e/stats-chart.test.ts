/**
 * Charts for staff (issue 17): /stats and the daily digest come as one PNG
 * with the numbers in its caption, protected like every staff message. The
 * image is read back: its size, and that the bars and the letters are drawn.
 */
import { afterEach, describe, expect, it } from "vitest";
import { PNG } from "pngjs";
import { makeAddress } from "../../src/core/types.ts";
import { runDigest } from "../../src/core/reports/jobs.ts";
import { CHART_HEIGHT, CHART_WIDTH } from "../../src/core/reports/chart.ts";
import { approvedStaff, startHarness, type Harness } from "../support/harness.ts";
import { seedReport } from "../support/reports.ts";
import { prismaOf } from "../support/prisma.ts";

const STAFF = -1008900001;
const MEMBER = 7301;

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

/** Pixels of exactly this colour. */
function countColour(png: PNG, hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  let n = 0;
  for (let i = 0; i < png.data.length; i += 4)
    if (png.data[i] === r && png.data[i + 1] === g && png.data[i + 2] === b) n++;
  return n;
}
/** Dark pixels in a box: drawn letters. */
function inkIn(png: PNG, x0: number, y0: number, x1: number, y1: number): number {
  let n = 0;
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) if (png.data[(y * png.width + x) * 4]! < 100) n++;
  return n;
}

async function withReports() {
  h = await startHarness({
    env: { ADMIN_CHAT_ID: String(STAFF), GROUP_MESSAGES_PER_MINUTE: "6000" },
    setup: (emu) => emu.protectedChats.add(STAFF),
  });
  await approvedStaff(h, STAFF, MEMBER);
  await seedReport(h.app.reports, makeAddress("telegram", 9301), STAFF, { urgent: true });
  await seedReport(h.app.reports, makeAddress("telegram", 9302), STAFF, { regionId: "kz-turkestan" });
  await seedReport(h.app.reports, makeAddress("telegram", 9303), STAFF);
  await prismaOf(h.app.db).campaignCount.create({
    data: { day: new Date().toISOString().slice(0, 10), source: "poster-shymkent", n: 4 },
  });
  return h;
}

describe("charts for staff (issue 17)", () => {
  it("/stats answers with one PNG chart of the expected size, protected, the numbers in its caption", async () => {
    const { emu, ...rest } = await withReports();
    const app = rest.app;
    emu.groupMessage(STAFF, MEMBER, "/stats");
    const photo = await emu.waitFor(() => emu.sent(STAFF).find((m) => m.method === "sendPhoto"), 10_000, "chart");
    expect(photo.payload.protect_content).toBe(true);
    expect(photo.payload.caption).toMatch(/^За 30 дн\.: всего 3\nПо статусу:\n  получено: 3/);
    expect(photo.payload.caption).toContain("poster-shymkent: 4");
    const file = emu.uploads.get(photo.payload.photo)!;
    expect(file.name).toBe("stats.png");
    expect(file.bytes.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    const png = PNG.sync.read(file.bytes);
    expect([png.width, png.height]).toEqual([CHART_WIDTH, CHART_HEIGHT]);
    // Today's bar: one urgent report (orange) under two others (blue); the title's letters are drawn.
    expect(countColour(png, "#c2410c")).toBeGreaterThan(200);
    expect(countColour(png, "#2563eb")).toBeGreaterThan(countColour(png, "#c2410c"));
    expect(inkIn(png, 40, 20, 500, 52)).toBeGreaterThan(300);
    // Audited once sent.
    let audit: string[] = [];
    for (let i = 0; i < 50 && !audit.includes(`staff:${MEMBER} stats chart`); i++) {
      await new Promise((r) => setTimeout(r, 100));
      audit = (await prismaOf(app.db).auditLog.findMany()).map((a) => `${a.actor} ${a.action} ${a.result}`);
    }
    expect(audit).toContain(`staff:${MEMBER} stats chart`);
  });

  it("the daily digest goes as the chart of its group, with the digest as the caption", async () => {
    const h = await withReports();
    await runDigest({
      reports: h.app.reports,
      chats: [STAFF],
      now: () => new Date(),
      kick: () => h.app.outbox.kick(),
      sources: async () => ({ "poster-shymkent": 4 }),
    });
    const photo = await h.emu.waitFor(
      () => h.emu.sent(STAFF).find((m) => m.method === "sendPhoto"),
      10_000,
      "digest chart",
    );
    expect(photo.payload.caption).toMatch(/^Сводка за сутки: новых 3/);
    expect(photo.payload.caption).toContain("poster-shymkent 4");
    expect(photo.payload.protect_content).toBe(true);
    const png = PNG.sync.read(h.emu.uploads.get(photo.payload.photo)!.bytes);
    expect([png.width, png.height]).toEqual([CHART_WIDTH, CHART_HEIGHT]);
  });
});
