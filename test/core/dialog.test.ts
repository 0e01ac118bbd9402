import { vi, afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOCALES, type Locale } from "../../src/config.ts";
import { EXIT_WORDS, DANGER_WORDS } from "../../src/core/keywords.ts";
import { makeAddress } from "../../src/core/types.ts";
import { createCoreHarness, startChat, type CoreHarness } from "../support/core.ts";

let h: CoreHarness;
let chatSeq = 10_000;
const nextChat = () => chatSeq++;
const tr = (l: Locale, k: string, v?: Record<string, unknown>) => h.translator.t(l, k, v);

beforeAll(async () => {
  h = await createCoreHarness();
});
afterAll(async () => {
  await h.close();
});

/** Ways to reach each screen from a started chat. */
const NAV: Record<string, (chat: number, l: Locale) => Promise<unknown>> = {
  menu: async () => undefined,
  danger: (c, l) => h.press(c, tr(l, "menu.danger")),
  near: (c, l) => h.press(c, tr(l, "menu.near")),
  "near:regions": async (c, l) => (await h.press(c, tr(l, "menu.near")), h.press(c, tr(l, "near.chooseRegionButton"))),
  "near:towns": async (c, l) => (await NAV["near:regions"]!(c, l), h.press(c, "region:kz-abai")),
  "near:results": (c) => h.text(c, "Алматы"),
  lines: (c, l) => h.press(c, tr(l, "menu.lines")),
  card: (c, l) => h.press(c, tr(l, "menu.card")),
  safety: (c, l) => h.press(c, tr(l, "menu.safety")),
  "safety:plan": async (c, l) => (await h.press(c, tr(l, "menu.safety")), h.press(c, tr(l, "safety.plan"))),
  settings: (c, l) => h.press(c, tr(l, "menu.settings")),
  "settings:erase": async (c, l) => (await h.press(c, tr(l, "menu.settings")), h.press(c, "settings:erase")),
  language: (c) => h.text(c, "/language"),
};

async function inState(state: string, l: Locale): Promise<number> {
  const chat = nextChat();
  await startChat(h, chat, l, "KZ");
  await NAV[state]!(chat, l);
  const s = await h.store.getSession(makeAddress("telegram", chat));
  expect(s?.state?.screen, `navigating to ${state}`).toBe(state);
  return chat;
}

describe("first contact (S10)", () => {
  it.each(LOCALES)("answers /start in %s with the exit hint and both countries' emergency numbers", async (l) => {
    const chat = nextChat();
    const [first] = await h.text(chat, "/start", l);
    const msg = first!.screen.messages[0]!;
    expect(msg.kind).toBe("text");
    const text = msg.kind === "text" ? msg.text : "";
    expect(text).toContain("/exit");
    expect(text).toContain(tr(l, "common.exitButton"));
    expect(text).toContain(`${tr(l, "country.KZ")}: 112, 102, 103, 111`);
    expect(text).toContain(`${tr(l, "country.KG")}: 102, 103, 112, 111`);
  });

  it("answers any first message, not only /start, with the same safety screen", async () => {
    const chat = nextChat();
    const [first] = await h.text(chat, "сәлем", "kk");
    expect(first!.screen.messages[0]!.kind === "text" && first!.screen.messages[0]!.text).toContain("112");
    expect(first!.locale).toBe("kk");
  });
});

describe("quick exit is reachable from every screen (S1)", () => {
  const triggers: Array<[string, (l: Locale) => string]> = [
    ["/exit", () => "/exit"],
    ["the exit button", (l) => tr(l, "common.exitButton")],
    ...Object.entries(EXIT_WORDS).flatMap(([lang, words]) =>
      words.map((w) => [`"${w}" (${lang})`, () => w] as [string, (l: Locale) => string]),
    ),
    ["'  СТОП  ' in capitals with spaces", () => "  СТОП  "],
    ["'cтоп' with a Latin c", () => "cтоп"],
    ["'вы\u200bход' with a zero-width space", () => "вы\u200bход"],
  ];

  it("every trigger × every screen × every language wipes the chat and leaves only the cover", async () => {
    const failures: string[] = [];
    for (const state of Object.keys(NAV)) {
      for (const l of LOCALES) {
        for (const [name, make] of triggers) {
          const chat = await inState(state, l);
          const address = makeAddress("telegram", chat);
          const covers = h.channel.covers.length;
          const sentBefore = h.channel.sent.length;
          await h.text(chat, make(l));
          const ok =
            h.channel.covers.length === covers + 1 &&
            h.channel.sent.length === sentBefore &&
            (await h.store.getSession(address)) === null &&
            (await h.store.trackedMessages(address)).length === 0;
          if (!ok) failures.push(`${state} / ${l} / ${name}`);
        }
      }
    }
    expect(failures).toEqual([]);
  }, 180_000);

  it("deletes both sides, including the exit message itself, and writes the cover in the user's language", async () => {
    const chat = await inState("near:results", "ky");
    const tracked = (await h.store.trackedMessages(makeAddress("telegram", chat))).map((r) => r.id);
    expect(tracked.length).toBeGreaterThan(4);
    await h.text(chat, "/exit");
    const deleted = h.channel.deleted.at(-1)!;
    expect(deleted.chatId).toBe(String(chat));
    // Everything tracked before, plus the /exit message.
    expect(deleted.ids).toEqual(expect.arrayContaining(tracked));
    expect(deleted.ids.length).toBe(tracked.length + 1);
    expect(h.channel.covers.at(-1)!.text).toBe(tr("ky", "exit.cover"));
  });

  it("when an answer cannot be sent, the buttons the person still sees keep working", async () => {
    const chat = await inState("menu", "ru");
    const original = h.channel.send.bind(h.channel);
    h.channel.send = async () => {
      throw new Error("network down");
    };
    await expect(h.press(chat, tr("ru", "menu.lines"))).rejects.toThrow("network down");
    h.channel.send = original;
    // The menu on screen is still the current one: its button answers, not "this button is old".
    const [lines] = await h.press(chat, tr("ru", "menu.lines"));
    expect(JSON.stringify(lines!.screen)).not.toContain(tr("ru", "fallback.stale_telegram"));
    expect((await h.store.getSession(makeAddress("telegram", chat)))?.state?.screen).toBe("lines");
  });

  it("after exit the next message starts afresh, as for a stranger", async () => {
    const chat = await inState("lines", "ru");
    await h.text(chat, "/exit");
    const [again] = await h.text(chat, "привет");
    expect(again!.screen.messages[0]!.kind === "text" && again!.screen.messages[0]!.text).toContain("/exit");
    expect(again!.screen.options?.map((o) => o.label)).toEqual(["Русский", "Қазақша", "Кыргызча"]);
  });

  it("a message that was still being answered when exit ran is taken back, and no session reappears", async () => {
    const chat = await inState("menu", "ru");
    const address = makeAddress("telegram", chat);
    const original = h.channel.send.bind(h.channel);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    h.channel.send = async (...args) => {
      await gate;
      return original(...args);
    };
    const slow = h.text(chat, "Алматы");
    await new Promise((r) => setTimeout(r, 20));
    h.channel.send = original;
    await h.text(chat, "/exit");
    release();
    await slow;
    const late = h.channel.sent.at(-1)!;
    // Taken back by the wipe's backlog, durably, right after it lands.
    await vi.waitFor(() => expect(h.channel.deleted.at(-1)!.ids).toEqual(late.ids));
    expect(await h.store.getSession(address)).toBeNull();
    await vi.waitFor(async () => expect(await h.store.pendingExits()).toEqual([]));
  });
});

describe("words of danger bring the emergency block at once (S11)", () => {
  const samples: Record<Locale | "en", string[]> = {
    ru: ["он меня убьет", "Помогите!", "муж избивает меня", "он душит", "не хочу жить"],
    kk: ["ол мені өлтіреді", "көмектесіңдер", "күйеуім ұрып жатыр"],
    ky: ["ал мени өлтүрөт", "жардам бергиле", "күйөөм уруп жатат"],
    en: ["he will kill me", "help me"],
  };

  it("in every state and language", async () => {
    const failures: string[] = [];
    for (const state of ["menu", "near", "near:regions", "settings", "safety:plan", "language"]) {
      for (const l of LOCALES) {
        for (const phrase of Object.values(samples).flat()) {
          const chat = await inState(state, l);
          const [reply] = await h.text(chat, phrase);
          const text = reply?.screen.messages.map((m) => (m.kind === "text" ? m.text : "")).join("\n") ?? "";
          if (!(text.includes("112") && text.includes("102") && text.includes("111")))
            failures.push(`${state}/${l}: ${phrase}`);
        }
      }
    }
    expect(failures).toEqual([]);
  }, 120_000);

  it("every listed word triggers it, and everyday words do not", async () => {
    const chat = await inState("menu", "ru");
    for (const w of Object.values(DANGER_WORDS).flat()) {
      const [reply] = await h.text(chat, `ну ${w.replace(/\*$/, "")}`);
      expect(reply!.screen.messages[0]!.kind === "text" && reply!.screen.messages[0]!.text, w).toContain("112");
    }
    for (const calm of ["қанша тұрады", "кровать", "ножницы", "доброе утро"]) {
      const [reply] = await h.text(chat, calm);
      expect(reply!.screen.messages[0]!.kind === "text" && reply!.screen.messages[0]!.text, calm).not.toContain(
        "112 —",
      );
    }
  });
});

describe("bad input gets a kind reply and the menu (issue 2)", () => {
  const cases: Array<[string, (c: number) => Promise<unknown>, string]> = [
    ["a sticker", (c) => h.input(c, { type: "media", media: "sticker" }), "fallback.media"],
    ["a photo", (c) => h.input(c, { type: "media", media: "photo" }), "fallback.media"],
    ["a 5,000-character message", (c) => h.text(c, "а".repeat(5000)), "fallback.tooLong"],
    ["markup characters", (c) => h.text(c, "<b>*_[```]</b>"), "fallback.text_telegram"],
    ["an unknown command", (c) => h.text(c, "/foo"), "fallback.unknownCommand"],
    ["a stale button", (c) => h.input(c, { type: "option", token: "oldnonce.1" }), "fallback.stale_telegram"],
    [
      "forged button data",
      (c) => h.input(c, { type: "option", token: "\u0000\u00ff💣".repeat(10) }),
      "fallback.stale_telegram",
    ],
    ["whitespace only", (c) => h.text(c, "   "), "fallback.text_telegram"],
  ];
  it.each(cases)("%s", async (_name, send, key) => {
    for (const l of LOCALES) {
      const chat = await inState("menu", l);
      await send(chat);
      expect(h.channel.lastText()).toContain(tr(l, key));
      expect(h.channel.lastLabels()).toContain(tr(l, "menu.near"));
    }
  });

  it.each(LOCALES)(
    "a voice note outside a report, in %s: the menu where reports are not taken, the emergency block on the danger screen (issue 26)",
    async (l) => {
      const chat = await inState("menu", l);
      await h.input(chat, { type: "media", media: "voice", ref: "v", seconds: 9 });
      expect(h.channel.lastText()).toContain(tr(l, "fallback.media"));
      expect(h.channel.lastLabels()).toContain(tr(l, "menu.near"));

      const inDanger = await inState("danger", l);
      await h.input(inDanger, { type: "media", media: "voice", ref: "v", seconds: 9 });
      const said = h.channel.lastText();
      expect(said).toContain(tr(l, "fallback.voiceDanger"));
      // The emergency numbers of the danger screen, again, after the line.
      for (const n of ["112", "102"]) expect(said).toContain(n);
    },
  );

  it("10,000 random strings never produce an error text, and always offer the menu", async () => {
    const chat = await inState("menu", "ru");
    const alphabet =
      "абвгдеёжзийклмнопрстуфхцчшщъыьэюяәғқңөұүһіabcdefghijklmnopqrstuvwxyz0123456789 .,!?*_[]()<>`~@#$%^&\\/|\"'\u200b\u202e😀🙂\n\t";
    let seed = 42;
    const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const bad: string[] = [];
    for (let i = 0; i < 10_000; i++) {
      const len = 1 + Math.floor(rand() * 40);
      let s = "";
      for (let j = 0; j < len; j++) s += alphabet[Math.floor(rand() * alphabet.length)];
      if (/^\s*$/.test(s)) s = "x" + s;
      await h.text(chat, s.startsWith("/") ? ` ${s}` : s);
      const text = h.channel.lastText();
      const labels = h.channel.lastLabels();
      if (
        /error|exception|stack|undefined|\[object/i.test(text) ||
        (!labels.includes(tr("ru", "common.menuButton")) && !labels.includes(tr("ru", "menu.near")))
      )
        bad.push(s);
    }
    expect(bad).toEqual([]);
  }, 120_000);
});

describe("remembered choices", () => {
  it("keeps the chosen language for the next messages", async () => {
    const chat = nextChat();
    await h.text(chat, "/start", "ru");
    await h.press(chat, "Кыргызча");
    await h.text(chat, "/menu");
    expect(h.channel.last().locale).toBe("ky");
    expect(h.channel.lastText()).toBe(tr("ky", "menu.title"));
  });

  it("asks Russian speakers for their country and shows that country's numbers", async () => {
    const chat = nextChat();
    await h.text(chat, "/start", "ru");
    await h.press(chat, "Русский");
    expect(h.channel.lastLabels()).toEqual([tr("ru", "country.KZ"), tr("ru", "country.KG")]);
    await h.press(chat, tr("ru", "country.KG"));
    await h.press(chat, tr("ru", "menu.danger"));
    const text = h.channel.lastText();
    expect(text).toContain("102 — милиция");
    expect(text).toContain("111 — детская линия доверия");
    expect(text).not.toContain("150");
    expect(h.channel.last().screen.protect).toBe(true);
  });
});

describe("help near me from a location", () => {
  it("when nothing is near, says so and puts the national line first", async () => {
    const chat = await inState("near", "ru");
    await h.input(chat, { type: "location", lat: 47.12, lon: 51.88 }); // Atyrau: no center in the data nearby
    const text = h.channel.lastText();
    expect(text).toContain("В пределах 150 км центров в нашем списке нет. Позвоните на 111");
    expect(text).toMatch(/1\. .*\n.*, \d{3} км/);
  });

  it("outside Kazakhstan and Kyrgyzstan, offers the region list instead", async () => {
    const chat = await inState("near", "kk");
    await h.input(chat, { type: "location", lat: 55.75, lon: 37.62 });
    expect(h.channel.lastText()).toContain(tr("kk", "near.outside"));
  });

  it("a service without a phone points to its own country's line, promising only what a source says: in Kyrgyzstan 102, never 111 as a way to a center", async () => {
    const chat = await inState("near", "ru");
    await h.input(chat, { type: "location", lat: 42.46, lon: 76.19 }); // Balykchy, Kyrgyzstan
    const text = h.channel.lastText();
    expect(text).toContain("Балыкчы");
    expect(text).toContain("Телефон не опубликован. Если опасно — звоните на 102.");
    expect(text).toMatch(/В любое время: 102, 103, 111$/m);
    const kz = await inState("near", "ru");
    await h.input(kz, { type: "location", lat: 42.32, lon: 69.59 }); // Shymkent
    expect(h.channel.lastText()).toContain("позвоните на 111, там подскажут, куда обратиться");
  });

  it.each(LOCALES)(
    "no Kyrgyz answer in %s says 111 connects or refers anyone to a center (src/data/SOURCES.md)",
    async (l) => {
      const chat = await inState("near", l);
      const texts: string[] = [];
      for (const r of h.directory.regions("KG")) {
        await h.input(chat, { type: "location", lat: r.lat, lon: r.lon });
        texts.push(h.channel.lastText());
      }
      const all = texts.join("\n");
      // The "no phone" and "nothing near" lines of Kyrgyzstan name 102, in every language.
      expect(all).toContain(tr(l, "near.noPhoneBy.KG", { line: "102" }));
      for (const key of ["near.noPhoneBy.KG", "near.nothingNearBy.KG"])
        expect(tr(l, key, { line: "102", km: 150 })).not.toContain("111");
      // Blocks of Kyrgyz services (a Kazakh one shown across the border carries its flag, and its own line).
      const kgBlocks = all.split("\n\n").filter((b) => !b.split("\n")[0]!.includes("🇰🇿"));
      for (const line of kgBlocks.join("\n").split("\n"))
        if (line.includes("111") && !/^(☎|В любое время|Кез келген уақытта|Каалаган убакта)/.test(line))
          expect(line).not.toMatch(/свяж|направ|подскаж|байланыс|байланыш|бағытта|багытта|айтады|айтып/);
    },
  );

  it("a location in Almaty lists no Kyrgyz service while Almaty has its own; across a border only when nothing of one's own is near, labelled with its country", async () => {
    const chat = await inState("near", "ru");
    await h.input(chat, { type: "location", lat: 43.24, lon: 76.89 });
    const s = await h.store.getSession(makeAddress("telegram", chat));
    const ids = s!.state!.results!;
    expect(ids.length).toBeGreaterThan(3);
    expect(ids.map((id) => h.directory.byId(id)!.country)).not.toContain("KG");
    const { ownCountryFirst, formatEntry } = await import("../../src/core/flows/near.ts");
    const balykchy = h.directory.entries.find((e) => e.country === "KG" && e.city_ru?.includes("Балыкчы"))!;
    const kz = h.directory.entries.find((e) => e.country === "KZ" && e.scope !== "national")!;
    const far = [
      { entry: balykchy, km: 90 },
      { entry: kz, km: 240 },
    ];
    expect(ownCountryFirst(far, "KZ", 150)).toEqual(far);
    expect(
      ownCountryFirst(
        [
          { entry: kz, km: 40 },
          { entry: balykchy, km: 20 },
        ],
        "KZ",
        150,
      ).map((x) => x.entry.country),
    ).toEqual(["KZ"]);
    const line = formatEntry(balykchy, 90, 1, h.translator.forChannel("ru", "telegram"), "ru", h.directory, "KZ").split(
      "\n",
    )[0]!;
    expect(line).toMatch(/ · 🇰🇬 Кыргызстан$/);
  });

  it("never shows a number the sources did not publish", async () => {
    const unverified = h.directory.entries.flatMap(
      (e) => JSON.stringify(e.unverified_contacts).match(/\d[\d -]{3,}\d/g) ?? [],
    );
    expect(unverified.length).toBeGreaterThan(0);
    const published = new Set(h.directory.entries.flatMap((e) => e.phones.map((p) => p.as_published)));
    const chat = await inState("near", "ru");
    const shown: string[] = [];
    for (const r of [...h.directory.regions("KZ"), ...h.directory.regions("KG")]) {
      await h.input(chat, { type: "location", lat: r.lat, lon: r.lon });
      shown.push(h.channel.lastText());
    }
    const all = shown.join("\n");
    for (const u of unverified) if (!published.has(u)) expect(all).not.toContain(u);
    for (const m of all.matchAll(/☎ ([^\n]+)/g))
      for (const n of m[1]!.split(", ")) expect(published.has(n), n).toBe(true);
  });
});

describe("staying safe", () => {
  it.each([
    ["KZ", "102", "111"],
    ["KG", "102", "111"],
  ] as const)(
    "the safety plan in %s names the police line and the first trust line from the data",
    async (country, police, line) => {
      const chat = nextChat();
      await startChat(h, chat, "ru", country);
      await h.press(chat, tr("ru", "menu.safety"));
      await h.press(chat, tr("ru", "safety.plan"));
      expect(h.channel.lastText()).toContain(`Запомните номера ${police} и ${line}`);
      expect(h.channel.last().screen.protect).toBe(true);
    },
  );
});
