import { describe, expect, it, vi } from "vitest";
import { createWhatsAppChannel, waFailureDetail } from "../../src/channels/whatsapp/index.ts";
import { createTranslator } from "../../src/core/i18n.ts";
import { loadDirectory } from "../../src/core/directory/search.ts";
import { createSealer } from "../../src/core/safety/sealer.ts";
import { createLogger } from "../../src/logger.ts";
import { FakeWaClient } from "../../src/playground/fakes/fake-whatsapp.ts";

const sealer = createSealer(Buffer.alloc(32, 8));

function channel(events?: string[], offlineLimitMs?: number) {
  const wa = new FakeWaClient();
  const ch = createWhatsAppChannel({
    client: wa,
    makeLocation: () => ({}),
    translator: createTranslator(),
    directory: loadDirectory(),
    sealer,
    logger: createLogger({ write: () => undefined }),
    sendDelayMs: 0,
    revokeHours: 48,
    telegramHandle: null,
    onDown: (reason) => events?.push(`down:${reason}`),
    onUp: () => events?.push("up"),
    offlineLimitMs,
    reconnectDelaysMs: [20, 40],
  });
  return { wa, ch };
}

describe("whatsapp channel", () => {
  it("revokes only the bot's own messages younger than the window, never the person's (S7)", async () => {
    const { wa, ch } = channel();
    const chatId = sealer.sealStable("77010001122@c.us");
    const [fresh] = await ch.channel.send(chatId, { messages: [{ kind: "text", text: "a" }] }, "ru");
    const [old] = await ch.channel.send(chatId, { messages: [{ kind: "text", text: "b" }] }, "ru");
    const res = await ch.channel.deleteMessages(chatId, [
      { id: fresh!.id, fromBot: true, at: new Date() },
      { id: old!.id, fromBot: true, at: new Date(Date.now() - 49 * 3600_000) },
      { id: sealer.sealStable("false_77010001122@c.us_X"), fromBot: false, at: new Date() },
    ]);
    // All three are finished: one revoked, one too old to try, the person's never the bot's to delete.
    expect(res.retry).toEqual([]);
    expect(res.done).toHaveLength(3);
    expect(wa.sent.map((s) => s.deletedFor)).toEqual(["everyone", null]);
  });

  it("a revoke WhatsApp fails is reported for another try, not as finished (decision 9)", async () => {
    const { wa, ch } = channel();
    const chatId = sealer.sealStable("77010001133@c.us");
    const [a, b] = await ch.channel.send(
      chatId,
      {
        messages: [
          { kind: "text", text: "a" },
          { kind: "text", text: "b" },
        ],
      },
      "ru",
    );
    wa.failDeletes = 1;
    const res = await ch.channel.deleteMessages(chatId, [
      { id: a!.id, fromBot: true, at: new Date() },
      { id: b!.id, fromBot: true, at: new Date() },
    ]);
    expect(res).toEqual({ done: [b!.id], retry: [a!.id] });
    const again = await ch.channel.deleteMessages(chatId, [{ id: a!.id, fromBot: true, at: new Date() }]);
    expect(again).toEqual({ done: [a!.id], retry: [] });
    expect(wa.sent.map((s) => s.deletedFor)).toEqual(["everyone", "everyone"]);
  });

  it("writes menus as numbers with 0 for exit, and the hotline footer when there is no Telegram handle (W1, W4)", async () => {
    const { wa, ch } = channel();
    const chatId = sealer.sealStable("99655500011@c.us");
    await ch.channel.send(
      chatId,
      {
        messages: [{ kind: "text", text: "Тандаңыз:" }],
        options: [
          { id: "a.0", label: "Биринчи" },
          { id: "a.1", label: "Экинчи" },
        ],
      },
      "ky",
    );
    expect(wa.sent[0]!.text).toBe(
      "Тандаңыз:\n\n1 — Биринчи\n2 — Экинчи\n\n0 — чыгуу («токто»)\nСан же сөз менен жооп бериңиз.\n\nWhatsApp иштебесе, чалыңыз: 112, 102, 111",
    );
  });

  it("a browser that will not start, a login refused or a disconnect: reconnects by itself, down and up said once per outage (decision 8)", async () => {
    // The reconnect waits run on vitest's clock, moved on by the test: nothing depends on the machine's speed.
    vi.useFakeTimers();
    try {
      const events: string[] = [];
      const { wa, ch } = channel(events);
      wa.failInits = [
        new Error("Browser was not found at the configured executablePath (/usr/bin/chromium)"),
        new Error("net::ERR_NAME_NOT_RESOLVED"),
      ];
      await ch.start();
      await vi.advanceTimersByTimeAsync(0);
      expect(ch.state()).toBe("reconnecting");
      expect(wa.inits).toBe(1);
      // Two failed starts, one outage: said once; the third start, after the waits of 20 and 40 ms, works.
      await vi.advanceTimersByTimeAsync(20);
      expect(wa.inits).toBe(2);
      await vi.advanceTimersByTimeAsync(40);
      expect(wa.inits).toBe(3);
      expect(ch.state()).toBe("connected");
      expect(events).toEqual(["down:start_failed", "up"]);
      wa.emit("auth_failure", "restore session failed");
      expect(ch.state()).toBe("reconnecting");
      await vi.advanceTimersByTimeAsync(1000);
      wa.emit("disconnected", "NAVIGATION");
      await vi.advanceTimersByTimeAsync(1000);
      expect(events).toEqual(["down:start_failed", "up", "down:auth_failure", "up", "down:disconnected", "up"]);
      expect(ch.state()).toBe("connected");
      await ch.stop();
    } finally {
      vi.useRealTimers();
    }
  });

  it("a state other than CONNECTED counts as down only after the limit; coming back before it is nothing", async () => {
    vi.useFakeTimers();
    try {
      const events: string[] = [];
      const { wa, ch } = channel(events, 60);
      wa.emit("ready");
      wa.emit("change_state", "TIMEOUT");
      expect(ch.state()).toBe("disconnected");
      await vi.advanceTimersByTimeAsync(59);
      wa.emit("change_state", "CONNECTED");
      await vi.advanceTimersByTimeAsync(1000);
      expect(events).toEqual([]);
      wa.emit("change_state", "OPENING");
      await vi.advanceTimersByTimeAsync(59);
      expect(events).toEqual([]);
      await vi.advanceTimersByTimeAsync(1);
      expect(events[0]).toBe("down:offline");
      await ch.stop();
    } finally {
      vi.useRealTimers();
    }
  });

  it("the log carries the library's own reason, nothing more", () => {
    expect(
      waFailureDetail(
        new Error(
          "Browser was not found at the configured executablePath (/usr/bin/chromium)\n    at launch (x.js:1:1)",
        ),
      ),
    ).toBe("Error: Browser was not found at the configured executablePath (/usr/bin/chromium)");
    const lines: string[] = [];
    const log = createLogger({ write: (l) => lines.push(l) });
    log.error("whatsapp.start_failed", {
      detail: waFailureDetail(new Error("net::ERR_NAME_NOT_RESOLVED at https://web.whatsapp.com for 77011234567")),
    });
    expect(lines[0]).toContain("net::ERR_NAME_NOT_RESOLVED");
    expect(lines[0]).not.toContain("77011234567");
  });
});
