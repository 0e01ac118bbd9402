/**
 * Nothing at rest links a person to a report (P1, issue 14). The attacker
 * here has the raw files: the database, its write-ahead log, its shared memory
 * and a backup (sealed, and decrypted with the key too). After a full report
 * from a named Telegram user, a staff reply she read, a shared location and a
 * quick exit, none of them holds her user id, name, username, phone number
 * (plain, base64 or hex), report text or location.
 */
import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { backupDatabase, decryptBackup } from "../../src/db/backup.ts";
import { makeAddress } from "../../src/core/types.ts";
import { pressLabel, startHarness, tempDir, type Harness, approvedStaff } from "../support/harness.ts";
import { fileReport } from "../support/reports.ts";
import { TEST_KEY } from "../support/keys.ts";
import { prismaOf } from "../support/prisma.ts";

const STAFF = -1009990001;
const ALICE = 5501;
const CHAT = 735914268;
const NAME = "Гульнара";
const USERNAME = "gulnara_k1987";
const PHONE = "77015550142";
const TEXT = "Муж запирает меня дома, канарейка-текст";
const REPLY = "Мы на связи, канарейка-ответ";
const [LAT, LON] = [42.3417, 69.5901];

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

/** Every way the secrets could sit in a file: as text, UTF-16, base64 or hex of their bytes. */
function needles(): Array<[string, Buffer]> {
  const secrets: Array<[string, string]> = [
    ["user id", String(CHAT)],
    ["name", NAME],
    ["username", USERNAME],
    ["phone", PHONE],
    ["report text", TEXT],
    ["staff reply", REPLY],
    ["latitude", String(LAT)],
    ["longitude", String(LON)],
  ];
  const out: Array<[string, Buffer]> = [];
  for (const [what, s] of secrets) {
    out.push([`${what} (text)`, Buffer.from(s)]);
    out.push([`${what} (utf-16)`, Buffer.from(s, "utf16le")]);
    out.push([`${what} (base64)`, Buffer.from(Buffer.from(s).toString("base64").replace(/=+$/, "").slice(0, -2))]);
    out.push([`${what} (hex)`, Buffer.from(Buffer.from(s).toString("hex"))]);
  }
  // The user id as the 4-byte integer SQLite would store, and in hex.
  const int = Buffer.alloc(4);
  int.writeUInt32BE(CHAT);
  out.push(["user id (integer)", int], ["user id (hex)", Buffer.from(CHAT.toString(16))]);
  return out;
}

function scan(files: string[]): string[] {
  const found: string[] = [];
  for (const f of files) {
    if (!fs.existsSync(f)) continue;
    const bytes = fs.readFileSync(f);
    for (const [what, n] of needles()) if (bytes.includes(n)) found.push(`${what} in ${path.basename(f)}`);
  }
  return found;
}

describe("nothing at rest links a person to a report (P1, issue 14)", () => {
  it("after a report, a staff reply she read, a shared location and a quick exit: no id, name, phone, text or place in the database, its log or a backup", async () => {
    h = await startHarness({
      env: { ADMIN_CHAT_ID: String(STAFF), GROUP_MESSAGES_PER_MINUTE: "6000" },
      setup: (emu) => emu.protectedChats.add(STAFF),
    });
    const { emu } = h;
    emu.people.set(CHAT, { firstName: NAME, username: USERNAME });
    await approvedStaff(h, STAFF, ALICE);

    const { code } = await fileReport(h, CHAT, { text: `${TEXT}. Мой номер +${PHONE}` });
    const card = await emu.waitFor(
      () => emu.sent(STAFF).find((m) => m.text?.includes(`Обращение ${code}`)),
      5000,
      "card",
    );
    const take = (card.payload.reply_markup.inline_keyboard as Array<Array<{ callback_data: string }>>)[0]![0]!
      .callback_data;
    emu.press(STAFF, card.id, take, { id: ALICE });
    await emu.waitFor(() => emu.textOf(STAFF, card.id)?.includes("взял"), 5000, "taken");
    let n = emu.sent(CHAT).length;
    emu.groupMessage(STAFF, ALICE, REPLY, card.id);
    await emu.waitForSent(CHAT, n, 1);
    n = emu.sent(CHAT).length;
    pressLabel(emu, CHAT, "Прочитать");
    const [shown] = await emu.waitForSent(CHAT, n, 1);
    expect(shown!.text).toContain(REPLY);

    // Help near me, from a shared location: the results screen is kept, but no point and no distance.
    n = emu.sent(CHAT).length;
    pressLabel(emu, CHAT, "✕ Не отвечать");
    await emu.waitForSent(CHAT, n, 1);
    n = emu.sent(CHAT).length;
    pressLabel(emu, CHAT, /Помощь рядом/);
    await emu.waitForSent(CHAT, n, 2);
    n = emu.sent(CHAT).length;
    emu.sendLocation(CHAT, LAT, LON);
    await emu.waitFor(
      () =>
        emu
          .sent(CHAT)
          .slice(n)
          .some((m) => /Шымкент/.test(m.text ?? "")),
      5000,
      "results",
    );
    const stateNow = async () => {
      const session = await prismaOf(h!.app.db).session.findUnique({
        where: { address: h!.app.db.sealer.chatKey(makeAddress("telegram", CHAT)) },
      });
      return h!.app.db.sealer.open(session!.state);
    };
    await vi.waitFor(async () => expect(await stateNow()).toContain("near:results"));
    const state = await stateNow();
    expect(state).not.toMatch(/km|"lat|"lon|42\.3|69\.5/);

    // Before the exit, the live files already hold nothing in clear.
    const live = [h.dbFile, `${h.dbFile}-wal`, `${h.dbFile}-shm`];
    expect(scan(live)).toEqual([]);

    n = emu.sent(CHAT).length;
    emu.sendText(CHAT, "/exit");
    await emu.waitFor(() => emu.visible(CHAT).length === 1, 8000, "only the cover left");
    // The log is checkpointed and truncated after a wipe.
    await emu.waitFor(
      () => !fs.existsSync(`${h!.dbFile}-wal`) || fs.statSync(`${h!.dbFile}-wal`).size === 0,
      5000,
      "the log truncated",
    );

    const backup = backupDatabase(h.dbFile, path.join(h.dir, "backups"), new Date(), 7, TEST_KEY).file;
    const opened = path.join(tempDir(), "opened.db");
    decryptBackup(backup, opened, TEST_KEY);
    const everything = [
      ...live,
      backup,
      opened,
      ...fs
        .readdirSync(h.dir)
        .map((f) => path.join(h!.dir, f))
        .filter((f) => fs.statSync(f).isFile()),
    ];
    expect(scan(everything)).toEqual([]);
    // The report is still there for staff, and still reachable: sealed, not gone.
    expect((await h.app.reports.byCode(code))!.text).toContain(TEXT);
  }, 90_000);
});
