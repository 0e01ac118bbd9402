/**
 * Campaign links (issue 17): a poster's link sets language, country and region
 * at once and is counted, per day and in aggregate only.
 */
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { loadDirectory } from "../../src/core/directory/search.ts";
import { parseStartLink, startLink } from "../../src/core/flows/links.ts";
import { approvedStaff, buttonsOf, startHarness, type Harness } from "../support/harness.ts";

const STAFF = -1003330001;
let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

describe("campaign links (issue 17)", () => {
  it("a Shymkent poster's link opens in Kazakh with Shymkent's services, and only an aggregate counter learns the source", async () => {
    h = await startHarness({
      env: { ADMIN_CHAT_ID: String(STAFF), GROUP_MESSAGES_PER_MINUTE: "6000" },
      setup: (emu) => emu.protectedChats.add(STAFF),
    });
    const { emu } = h;
    const link = startLink("qorgau_bot", {
      locale: "kk",
      country: "KZ",
      regionId: "kz-shymkent",
      source: "poster-shymkent",
    });
    expect(link).toBe("https://t.me/qorgau_bot?start=kk_KZ_kz-shymkent_poster-shymkent");
    const payload = new URL(link).searchParams.get("start")!;
    for (const chat of [3301, 3302]) {
      emu.sendText(chat, `/start ${payload}`, { languageCode: "ru" });
      const msgs = await emu.waitFor(
        () => (emu.sent(chat).some((m) => m.text?.includes("Шымкент")) ? emu.sent(chat) : null),
        5000,
        "results",
      );
      // The welcome first, in Kazakh, with the exit hint; then Shymkent's services; no language question.
      expect(msgs[0]!.text).toMatch(/^Сәлеметсіз бе/);
      expect(msgs.some((m) => buttonsOf(m.payload).includes("Қазақша"))).toBe(false);
      expect(msgs.at(-1)!.text).toMatch(/^Шымкент/);
    }
    // Anyone can type a link: a source the campaigns file does not list is counted as "other".
    emu.sendText(3303, "/start kk_KZ_kz-shymkent_made-up-source", { languageCode: "ru" });
    await emu.waitFor(() => emu.sent(3303).some((m) => m.text?.includes("Шымкент")) || undefined, 5000, "results");
    // Aggregate only: the source is in one table, which holds a day, a source and a count.
    const db = new Database(h.dbFile, { readonly: true });
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[]).filter(
      (t) => JSON.stringify(db.prepare(`SELECT * FROM "${t}"`).all()).includes("poster-shymkent"),
    );
    expect(tables).toEqual(["campaign_counts"]);
    const today = new Date().toISOString().slice(0, 10);
    expect(db.prepare("SELECT * FROM campaign_counts ORDER BY source").all()).toEqual([
      { day: today, source: "other", n: 1 },
      { day: today, source: "poster-shymkent", n: 2 },
    ]);
    db.close();

    await approvedStaff(h, STAFF, 3399);
    const n = emu.sent(STAFF).length;
    emu.groupMessage(STAFF, 3399, "/stats");
    const [stats] = await emu.waitForSent(STAFF, n, 1);
    expect(stats!.text).toContain("Откуда пришли (ссылки кампаний):\n  poster-shymkent: 2\n  other: 1");
  });

  it("a broken or foreign payload is ignored, and a part that does not fit is left out", () => {
    const d = loadDirectory();
    expect(parseStartLink("<script>", d)).toBeNull();
    expect(parseStartLink("xx_RU_moscow_", d)).toBeNull();
    expect(parseStartLink("ky_KZ_kg-osh-city_tv", d)).toEqual({ locale: "ky", country: "KZ", source: "tv" }); // a region of the other country is dropped
    expect(parseStartLink("ru__kg-osh-city_Bad Source", d)).toBeNull();
    expect(parseStartLink("ru__kg-osh-city_BadSource", d)).toEqual({
      locale: "ru",
      country: "KG",
      regionId: "kg-osh-city",
    });
  });
});
