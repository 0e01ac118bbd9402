import { describe, expect, it } from "vitest";
import { createWhatsAppChannel } from "../../src/channels/whatsapp/index.ts";
import { createTranslator } from "../../src/core/i18n.ts";
import { loadDirectory } from "../../src/core/services/directory.ts";
import { createSealer } from "../../src/core/services/sealer.ts";
import { createLogger } from "../../src/logger.ts";
import { FakeWaClient } from "../support/fake-whatsapp.ts";

const sealer = createSealer(Buffer.alloc(32, 8));

function channel(onFatal?: (r: string) => void, offlineLimitMs?: number) {
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
    onFatal,
    offlineLimitMs,
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
    const [a, b] = await ch.channel.send(chatId, { messages: [{ kind: "text", text: "a" }, { kind: "text", text: "b" }] }, "ru");
    wa.failDeletes = 1;
    const res = await ch.channel.deleteMessages(chatId, [{ id: a!.id, fromBot: true, at: new Date() }, { id: b!.id, fromBot: true, at: new Date() }]);
    expect(res).toEqual({ done: [b!.id], retry: [a!.id] });
    const again = await ch.channel.deleteMessages(chatId, [{ id: a!.id, fromBot: true, at: new Date() }]);
    expect(again).toEqual({ done: [a!.id], retry: [] });
    expect(wa.sent.map((s) => s.deletedFor)).toEqual(["everyone", "everyone"]);
  });

  it("writes menus as numbers with 0 for exit, and the hotline footer when there is no Telegram handle (W1, W4)", async () => {
    const { wa, ch } = channel();
    const chatId = sealer.sealStable("99655500011@c.us");
    await ch.channel.send(chatId, { messages: [{ kind: "text", text: "Тандаңыз:" }], options: [{ id: "a.0", label: "Биринчи" }, { id: "a.1", label: "Экинчи" }] }, "ky");
    expect(wa.sent[0]!.text).toBe("Тандаңыз:\n\n1 — Биринчи\n2 — Экинчи\n\n0 — чыгуу («токто»)\nСан же сөз менен жооп бериңиз.\n\nWhatsApp иштебесе, чалыңыз: 112, 102, 111");
  });

  it("an authentication failure, or being offline too long, ends the process for a restart (R6)", async () => {
    const fatal: string[] = [];
    const { wa } = channel((r) => fatal.push(r), 50);
    wa.emit("auth_failure", "bad session");
    expect(fatal).toEqual(["auth_failure"]);
    wa.emit("ready");
    wa.emit("disconnected", "NAVIGATION");
    await new Promise((r) => setTimeout(r, 120));
    expect(fatal).toEqual(["auth_failure", "disconnected"]);
  });

  it("coming back within the limit cancels the restart", async () => {
    const fatal: string[] = [];
    const { wa, ch } = channel((r) => fatal.push(r), 80);
    wa.emit("ready");
    wa.emit("disconnected", "NAVIGATION");
    expect(ch.state()).toBe("disconnected");
    wa.emit("ready");
    await new Promise((r) => setTimeout(r, 150));
    expect(fatal).toEqual([]);
    expect(ch.state()).toBe("connected");
  });
});
