/**
 * The playground's web server (issue 17) is for this machine only: it listens
 * on loopback, answers only requests addressed to that host (a DNS-rebinding
 * page elsewhere brings its own Host), takes only JSON posts (a form on another
 * site cannot post JSON without asking first), and a reset leaves a new,
 * empty database.
 */
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPlayground, type Playground } from "../../src/playground/server.ts";
import { prismaOf } from "../support/prisma.ts";

let pg: Playground;
beforeAll(async () => {
  pg = await startPlayground({ lang: "kk" });
}, 90_000);
afterAll(async () => {
  await pg?.stop();
});

function request(
  path: string,
  opts: { method?: string; host?: string; type?: string; body?: string } = {},
): Promise<{ status: number; body: string }> {
  const url = new URL(path, pg.url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port: url.port,
        path: url.pathname,
        method: opts.method ?? "GET",
        headers: { host: opts.host ?? url.host, ...(opts.type ? { "content-type": opts.type } : {}) },
      },
      (res) => {
        let body = "";
        res.on("data", (c) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("error", reject);
    req.end(opts.body);
  });
}

describe("the playground server", () => {
  it("listens on 127.0.0.1 only", () => {
    expect(new URL(pg.url).hostname).toBe("127.0.0.1");
  });

  it("refuses a request addressed to another host name, and a post that is not JSON", async () => {
    expect((await request("/api/state", { host: "attacker.example:80" })).status).toBe(421);
    expect(
      (
        await request("/api/telegram", {
          method: "POST",
          type: "text/plain",
          body: '{"action":"text","text":"/start"}',
        })
      ).status,
    ).toBe(415);
    expect(
      (
        await request("/api/telegram", {
          method: "POST",
          type: "application/x-www-form-urlencoded",
          body: "action=text&text=%2Fstart",
        })
      ).status,
    ).toBe(415);
    // Only the page's own people: a made-up role or an inherited name is refused, not taken for the survivor.
    for (const who of ["admin", "toString", "__proto__", undefined]) {
      expect(
        (
          await request("/api/telegram", {
            method: "POST",
            type: "application/json",
            body: JSON.stringify({ who, action: "text", text: "/start" }),
          })
        ).status,
      ).toBe(400);
    }
    // Nothing reached the bot.
    expect(JSON.parse((await request("/api/state")).body).telegram.survivor).toEqual([]);
  });

  it("a person's message reaches the real bot, and a reset starts on a new, empty database", async () => {
    const before = pg.world().dir;
    expect(
      (
        await request("/api/telegram", {
          method: "POST",
          type: "application/json",
          body: JSON.stringify({ who: "survivor", action: "text", text: "/start" }),
        })
      ).status,
    ).toBe(200);
    await pg.world().emu.waitFor(() => pg.world().emu.sent(1001).length >= 2, 5000, "welcome");
    const state = JSON.parse((await request("/api/state")).body);
    expect(state.lang).toBe("kk");
    expect(
      state.telegram.survivor.some(
        (m: { fromBot: boolean; text: string }) => m.fromBot && m.text.startsWith("Сәлеметсіз бе"),
      ),
    ).toBe(true);
    const reset = JSON.parse(
      (await request("/api/reset", { method: "POST", type: "application/json", body: JSON.stringify({ lang: "ky" }) }))
        .body,
    );
    expect(reset.lang).toBe("ky");
    expect(reset.telegram.survivor).toEqual([]);
    expect(pg.world().dir).not.toBe(before);
    expect(await prismaOf(pg.world().app.db).session.count()).toBe(0);
  });
});
