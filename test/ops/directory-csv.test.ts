/**
 * The directory as a spreadsheet (issue 16), run as a coordinator would,
 * while the bot runs: export, edit, a dry run that shows exactly the change
 * and refuses a malformed phone with its row number, then --apply; a new
 * number from the file still waits for a supervisor in the staff group.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { distTool } from "../support/dist.ts";
import { afterEach, describe, expect, it } from "vitest";
import { projectRoot } from "../../src/paths.ts";
import { parseCsv } from "../../src/core/directory/csv.ts";
import { startHarness, tempDir, type Harness } from "../support/harness.ts";
import { TEST_KEY } from "../support/keys.ts";

const run = promisify(execFile);
const STAFF = -1008890001;
const NEW_PHONE = "+7 700 000 0001"; // not a real number

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

const tool = (args: string[]) =>
  run(process.execPath, [distTool("directory-csv.ts"), ...args], {
    cwd: projectRoot,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: tempDir("qorgau-home-"),
      DATABASE_URL: `file:${h!.dbFile}`,
      ENCRYPTION_KEY: TEST_KEY.toString("base64"),
    },
  }).then(
    (r) => ({ code: 0, out: r.stdout + r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
  );

/** Writes rows back as a spreadsheet program would (semicolons, as Excel in a Russian locale). */
const toText = (rows: string[][]) =>
  rows.map((r) => r.map((v) => (/[;"\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v)).join(";")).join("\r\n");

describe("directory:export and directory:import (issue 16)", () => {
  it("export → edit → dry run shows exactly the change and refuses a malformed phone by row; --apply writes only a clean file; the new number waits for a supervisor", async () => {
    h = await startHarness({
      env: { ADMIN_CHAT_ID: String(STAFF), GROUP_MESSAGES_PER_MINUTE: "6000" },
      setup: (emu) => emu.protectedChats.add(STAFF),
    });
    const dir = tempDir();
    const file = path.join(dir, "centers.csv");
    const exported = await tool(["export", file]);
    expect(exported.code).toBe(0);
    expect(exported.out).toMatch(/^Wrote 80 services to /);
    const text = fs.readFileSync(file, "utf8");
    expect(text.startsWith("\uFEFFid,country,region_id")).toBe(true);

    // Unchanged, it changes nothing.
    const same = await tool(["import", file]);
    expect(same.out.trim()).toBe(
      "Dry run: 0 change(s), 0 new service(s), 0 row(s) refused. Nothing was written; to write, run again with --apply.",
    );

    const rows = parseCsv(text);
    const col = (name: string) => rows[0]!.indexOf(name);
    const komek = rows.findIndex((r) => r[0] === "kz-shy-komek");
    const center3 = rows.findIndex((r) => r[0] === "kz-shy-center3");
    rows[komek]![col("phones")] = NEW_PHONE;
    rows[komek]![col("hours")] = "пн–пт 9:00–18:00";
    rows[center3]![col("phones")] = "8 (7252) 12-ab";
    fs.writeFileSync(file, toText(rows));

    const dry = await tool(["import", file]);
    expect(dry.code).toBe(0);
    expect(dry.out.trim().split("\n")).toEqual([
      `row ${komek + 1} kz-shy-komek: phones: — → ${NEW_PHONE} (waits for a supervisor's confirmation in the staff group)`,
      `row ${komek + 1} kz-shy-komek: hours: — → пн–пт 9:00–18:00 (waits for a supervisor's confirmation in the staff group)`,
      `row ${center3 + 1} refused: phone "8 (7252) 12-ab" is not a phone number of Kazakhstan or Kyrgyzstan (+7 or 8…, +996 or 0…, or a short line of 3–4 digits; at most four, separated by ";")`,
      "Dry run: 2 change(s), 0 new service(s), 1 row(s) refused. Nothing was written; to write, run again with --apply.",
    ]);
    expect((await h.app.directory.store.history("kz-shy-komek")).length).toBe(0);

    // With a refused row, --apply writes nothing.
    const refused = await tool(["import", file, "--apply"]);
    expect(refused.code).toBe(1);
    expect(refused.out).toContain("Nothing was written: 1 row(s) refused.");
    expect((await h.app.directory.store.history("kz-shy-komek")).length).toBe(0);

    rows[center3]![col("phones")] = "";
    fs.writeFileSync(file, toText(rows));
    const applied = await tool(["import", file, "--apply"]);
    expect(applied.code).toBe(0);
    expect(applied.out).toContain(
      "Written: 2 change(s), 0 new service(s), 0 row(s) refused. 2 change(s) wait for a supervisor's confirmation",
    );
    const history = await h.app.directory.store.history("kz-shy-komek");
    expect(history.map((c) => [c.field, c.state, c.source, c.by])).toEqual([
      ["hours", "pending", "file: centers.csv", "file:centers.csv"],
      ["phones", "pending", "file: centers.csv", "file:centers.csv"],
    ]);

    // What the bot's minute job does: read the directory again, post the confirmation.
    await h.app.directory.desk.reload();
    await h.app.directory.desk.postPending();
    const cards = await h.emu.waitFor(
      () => {
        const l = h!.emu.sent(STAFF).filter((m) => m.text?.startsWith("☎ Правка ждёт подтверждения"));
        return l.length === 2 ? l : undefined;
      },
      5000,
      "two confirmation cards",
    );
    const card = cards.find((m) => m.text!.includes(NEW_PHONE))!;
    expect(card.text).toContain(`Станет: ${NEW_PHONE}`);
    expect(card.text).toContain("Источник: файл: centers.csv");
    const komekNow = (await h.app.directory.store.get("kz-shy-komek"))!;
    // Nothing reaches survivors until a supervisor confirms it.
    expect(komekNow.hours_text ?? null).toBeNull();
    expect(komekNow.phones).toEqual([]);
  });

  it("a new service from the file is added with its region; a row with an unknown region or status is refused with the reason", async () => {
    h = await startHarness({ env: { ADMIN_CHAT_ID: String(STAFF) } });
    const file = path.join(tempDir(), "new.csv");
    fs.writeFileSync(
      file,
      [
        "id,country,region_id,name_ru,status,phones,services",
        "kz-shym-test-center,KZ,kz-shymkent,Тестовый центр,open,,психолог; юрист",
        ",KZ,kz-nowhere,Другой центр,open,,",
        "kz-shy-komek,,,,shut,,",
      ].join("\n"),
    );
    const dry = await tool(["import", file]);
    expect(dry.out).toContain("row 2 kz-shym-test-center: new service «Тестовый центр» in kz-shymkent");
    expect(dry.out).toContain('row 3 refused: region_id "kz-nowhere" is not a region of KZ in the gazetteer');
    expect(dry.out).toContain('row 4 refused: status "shut" is not one of open, moved, closed, unknown');
  });

  it("a file from Russian Excel (Windows-1251), a short row, a 5-digit «phone» and an oversized file are each refused with one line saying why", async () => {
    h = await startHarness({ env: { ADMIN_CHAT_ID: String(STAFF) } });
    const dir = tempDir();
    // Windows-1251 bytes of a Cyrillic header and row, as Excel's plain «CSV» writes them.
    const cp1251 = (s: string) =>
      Buffer.from([...s].map((c) => (c >= "А" && c <= "я" ? c.charCodeAt(0) - 0x410 + 0xc0 : c.charCodeAt(0))));
    const legacy = path.join(dir, "excel.csv");
    fs.writeFileSync(legacy, cp1251("id;name_ru;hours\r\nkz-shy-komek;Комек;пн-пт 9-18\r\n"));
    const enc = await tool(["import", legacy]);
    expect(enc.code).toBe(2);
    expect(enc.out).toContain("it looks like Windows-1251");
    expect(enc.out).toContain("CSV UTF-8");
    expect(enc.out.trim().split("\n")).toHaveLength(1);

    const shortRow = path.join(dir, "short.csv");
    fs.writeFileSync(
      shortRow,
      ["id;status;phones;hours", "kz-shy-komek;open;+7 700 000 0001", "kz-shy-center3;open;12345;"].join("\n"),
    );
    const dry = await tool(["import", shortRow]);
    expect(dry.out).toContain("row 2 refused: the row has 3 cells and the first row names 4 columns");
    expect(dry.out).toContain('row 3 refused: phone "12345" is not a phone number of Kazakhstan or Kyrgyzstan');
    expect(dry.out).toContain("Dry run: 0 change(s), 0 new service(s), 2 row(s) refused.");

    const big = path.join(dir, "big.csv");
    fs.writeFileSync(big, `id,hours\n${"kz-shy-komek,9-18\n".repeat(150_000)}`);
    const tooBig = await tool(["import", big]);
    expect(tooBig.code).toBe(2);
    expect(tooBig.out).toMatch(/larger than 2 MB/);
    expect((await h.app.directory.store.history("kz-shy-komek")).filter((c) => c.field !== "seed")).toEqual([]);
  });
});
