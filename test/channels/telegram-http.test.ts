import http from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { botApiFetch } from "../../src/channels/telegram/http.ts";

let server: http.Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r) ?? r(undefined));
  server = undefined;
});

/** A loopback server that records what it got and answers with `answer`, or never when it is undefined. */
async function serve(answer?: (body: string, req: http.IncomingMessage) => string) {
  const got: Array<{ url: string; body: string; type?: string }> = [];
  server = http.createServer(async (req, res) => {
    let body = "";
    for await (const c of req) body += c;
    got.push({ url: req.url ?? "", body, type: req.headers["content-type"] });
    if (answer) res.writeHead(200, { "content-type": "application/json" }).end(answer(body, req));
  });
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
  const root = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { got, root };
}

describe("the Bot API client's fetch", () => {
  it("posts the JSON body and returns the answer, on one kept-alive connection", async () => {
    const sockets = new Set<unknown>();
    const { got, root } = await serve((body) => JSON.stringify({ ok: true, result: JSON.parse(body) }));
    server!.on("connection", (s) => sockets.add(s));
    const fetch = botApiFetch(root);
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${root}/botT/sendMessage`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ text: `hi ${i}` }) });
      expect(await res.json()).toEqual({ ok: true, result: { text: `hi ${i}` } });
    }
    expect(got.map((g) => [g.url, g.type])).toEqual(Array(3).fill(["/botT/sendMessage", "application/json"]));
    expect(sockets.size).toBe(1);
  });

  it("a burst of calls shares a bounded set of connections, and they stay open for the next burst", async () => {
    let opened = 0;
    const { root } = await serve((body) => body);
    server!.on("connection", () => opened++);
    const cap = 40;
    const fetch = botApiFetch(root, cap);
    const burst = () => Promise.all(Array.from({ length: cap + 100 }, (_, i) => fetch(`${root}/botT/sendMessage`, { method: "POST", body: JSON.stringify({ i }) }).then((r: { json(): Promise<unknown> }) => r.json())));
    expect((await burst()).length).toBe(cap + 100);
    expect(opened).toBe(cap);
    await burst();
    expect(opened).toBe(cap);
  });

  it("sends a streamed body (a file upload) whole", async () => {
    const { got, root } = await serve(() => JSON.stringify({ ok: true, result: true }));
    const fetch = botApiFetch(root);
    const body = Readable.from(["--b\r\n", "part one ", "part two", "\r\n--b--"]);
    const res = await fetch(`${root}/botT/sendDocument`, { method: "POST", headers: { "content-type": "multipart/form-data; boundary=b" }, body: body as never });
    expect(await res.json()).toEqual({ ok: true, result: true });
    expect(got[0]!.body).toBe("--b\r\npart one part two\r\n--b--");
  });

  it("gives up when grammY aborts (its timeout), instead of waiting for an answer that never comes", async () => {
    const { got, root } = await serve(undefined);
    const fetch = botApiFetch(root);
    const controller = new AbortController();
    const pending = fetch(`${root}/botT/getMe`, { method: "POST", body: "{}", signal: controller.signal });
    while (!got.length) await new Promise((r) => setTimeout(r, 5));
    controller.abort();
    await expect(pending).rejects.toThrow(/aborted/);
    await expect(fetch(`${root}/botT/getMe`, { method: "POST", body: "{}", signal: controller.signal })).rejects.toThrow(/aborted/);
  });

  it("rejects when the connection drops before an answer", async () => {
    const { root } = await serve(undefined);
    server!.on("request", (req) => req.socket.destroy());
    await expect(botApiFetch(root)(`${root}/botT/sendMessage`, { method: "POST", body: "{}" })).rejects.toThrow();
  });
});
