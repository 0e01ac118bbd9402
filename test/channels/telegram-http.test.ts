import { spawn } from "node:child_process";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { Api, GrammyError, HttpError, InputFile } from "grammy";
import { afterEach, describe, expect, it } from "vitest";
import { RETRIES, retryCalls } from "../../src/channels/telegram/errors.ts";
import { botApiClient, botApiFetch } from "../../src/channels/telegram/http.ts";
import { projectRoot } from "../../src/paths.ts";

let server: http.Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r) ?? r(undefined));
  server = undefined;
});

/** A loopback server that records what it got and answers with `answer`, or never when it (or what it returns) is undefined. */
async function serve(answer?: (body: string, req: http.IncomingMessage) => string | undefined) {
  const got: Array<{ url: string; body: string; type?: string }> = [];
  server = http.createServer(async (req, res) => {
    let body = "";
    for await (const c of req) body += c;
    got.push({ url: req.url ?? "", body, type: req.headers["content-type"] });
    const text = answer?.(body, req);
    if (text !== undefined) res.writeHead(200, { "content-type": "application/json" }).end(text);
  });
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
  const root = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { got, root };
}

describe("the Bot API client's fetch", () => {
  it("posts the JSON body and returns the answer, on kept-alive connections: twenty calls in a row, not twenty connections", async () => {
    const sockets = new Set<unknown>();
    const { got, root } = await serve((body) => JSON.stringify({ ok: true, result: JSON.parse(body) }));
    server!.on("connection", (s) => sockets.add(s));
    const fetch = botApiFetch(root);
    for (let i = 0; i < 20; i++) {
      const res = await fetch(`${root}/botT/sendMessage`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ text: `hi ${i}` }),
      });
      expect(await res.json()).toEqual({ ok: true, result: { text: `hi ${i}` } });
    }
    expect(got.map((g) => [g.url, g.type])).toEqual(Array(20).fill(["/botT/sendMessage", "application/json"]));
    // undici hands a call to a second connection while the first is still settling its last answer.
    expect(sockets.size).toBeLessThanOrEqual(2);
  });

  it("a kept connection does not keep the process running after its last call", async () => {
    const { root } = await serve(() => "{}");
    const script = `import { Pool } from ${JSON.stringify(path.join(projectRoot, "src/channels/telegram/pool.ts"))};
      const pool = new Pool(${JSON.stringify(root)}, { maxConnections: 2 });
      console.log(await pool.post("/botT/getMe", undefined, "{}"));`;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      cwd: projectRoot,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        resolve(-1);
      }, 90_000);
      child.on("exit", (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    expect({ code, out: out.trim() }).toEqual({ code: 0, out: "{}" });
  });

  it("a burst of calls shares a bounded set of connections, and they stay open for the next burst", async () => {
    let opened = 0;
    const { root } = await serve((body) => body);
    server!.on("connection", () => opened++);
    const cap = 40;
    const fetch = botApiFetch(root, cap);
    const burst = () =>
      Promise.all(
        Array.from({ length: cap + 100 }, (_, i) =>
          fetch(`${root}/botT/sendMessage`, { method: "POST", body: JSON.stringify({ i }) }).then(
            (r: { json(): Promise<unknown> }) => r.json(),
          ),
        ),
      );
    expect((await burst()).length).toBe(cap + 100);
    expect(opened).toBe(cap);
    await burst();
    expect(opened).toBe(cap);
  });

  it("sends a streamed body (a file upload) whole", async () => {
    const { got, root } = await serve(() => JSON.stringify({ ok: true, result: true }));
    const fetch = botApiFetch(root);
    const body = Readable.from(["--b\r\n", "part one ", "part two", "\r\n--b--"]);
    const res = await fetch(`${root}/botT/sendDocument`, {
      method: "POST",
      headers: { "content-type": "multipart/form-data; boundary=b" },
      body: body as never,
    });
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
    await expect(
      fetch(`${root}/botT/getMe`, { method: "POST", body: "{}", signal: controller.signal }),
    ).rejects.toThrow(/aborted/);
  });

  it("rejects when the connection drops before an answer", async () => {
    const { root } = await serve(undefined);
    server!.on("request", (req) => req.socket.destroy());
    await expect(botApiFetch(root)(`${root}/botT/sendMessage`, { method: "POST", body: "{}" })).rejects.toThrow();
  });
});

describe("the Bot API client's call (grammY's JSON calls, straight onto the kept connections)", () => {
  const client = (root: string) => {
    const c = botApiClient(root, "T0KEN");
    const api = new Api("T0KEN", { apiRoot: root, fetch: c.fetch });
    api.config.use(c.call);
    return api;
  };

  it("sends grammY's body (null options left out) under the API root's path, and returns the result", async () => {
    const { got, root } = await serve(() =>
      JSON.stringify({ ok: true, result: { message_id: 7, chat: { id: 42, type: "private" }, date: 1, text: "x" } }),
    );
    const api = client(`${root}/tg`);
    const sent = await api.sendMessage(42, "null and void: Сәлем", {
      reply_markup: null as never,
      protect_content: false,
    });
    expect(sent.message_id).toBe(7);
    const body = await api.sendMessage(42, "Саламатсызбы", { protect_content: true }).then(() => got[1]!);
    expect(got[0]!.url).toBe("/tg/botT0KEN/sendMessage");
    expect(got[0]!.type).toBe("application/json");
    expect(JSON.parse(got[0]!.body)).toEqual({ chat_id: 42, text: "null and void: Сәлем", protect_content: false });
    expect(JSON.parse(body.body)).toEqual({ chat_id: 42, text: "Саламатсызбы", protect_content: true });
  });

  it("a refusal from Telegram is grammY's error with its code and retry_after, not a network failure", async () => {
    const { root } = await serve(() =>
      JSON.stringify({
        ok: false,
        error_code: 429,
        description: "Too Many Requests: retry after 7",
        parameters: { retry_after: 7 },
      }),
    );
    const err = await client(root)
      .sendMessage(42, "hi")
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GrammyError);
    expect((err as GrammyError).error_code).toBe(429);
    expect((err as GrammyError).parameters.retry_after).toBe(7);
  });

  it("an answer that is not JSON or a dropped connection is grammY's HttpError, so the retry of dropped requests sends it again", async () => {
    let n = 0;
    const { got, root } = await serve((_body, req) => {
      n++;
      if (n === 1) return "<html>502 Bad Gateway</html>";
      if (n === 2) return void req.socket.destroy();
      return JSON.stringify({ ok: true, result: true });
    });
    const api = client(root);
    await expect(api.deleteMessages(42, [1])).rejects.toBeInstanceOf(HttpError);
    api.config.use(retryCalls({ ...RETRIES, droppedDelaysMs: [10] }));
    expect(await api.deleteMessages(42, [2])).toBe(true);
    expect(got.map((g) => JSON.parse(g.body).message_ids)).toEqual([[1], [2], [2]]);
  });

  it("a flood wait of up to 10 s is waited out and the call sent again, a limited number of times; a longer one is the caller's at once (R3)", async () => {
    const flood = (s: number) =>
      JSON.stringify({
        ok: false,
        error_code: 429,
        description: `Too Many Requests: retry after ${s}`,
        parameters: { retry_after: s },
      });
    const ok = JSON.stringify({ ok: true, result: true });
    const script = [flood(1), ok, flood(11), flood(1), flood(1)];
    const { got, root } = await serve(() => script.shift() ?? ok);
    const api = client(root);
    api.config.use(retryCalls({ ...RETRIES, maxFloodRetries: 1 }));
    // Waited out: the same call twice, a second apart, and the caller sees only the success.
    let t0 = Date.now();
    expect(await api.sendChatAction(42, "typing")).toBe(true);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
    expect(got).toHaveLength(2);
    // Over 10 s: the caller's at once, sent once.
    t0 = Date.now();
    const long = await api.sendChatAction(42, "typing").catch((e: unknown) => e);
    expect((long as GrammyError).parameters.retry_after).toBe(11);
    expect(Date.now() - t0).toBeLessThan(900);
    expect(got).toHaveLength(3);
    // Waited out once at most (here): the second flood wait is the caller's.
    const again = await api.sendChatAction(42, "typing").catch((e: unknown) => e);
    expect((again as GrammyError).error_code).toBe(429);
    expect(got).toHaveLength(5);
  });

  it("a file goes the multipart way, through grammY's own call", async () => {
    const { got, root } = await serve(() =>
      JSON.stringify({ ok: true, result: { message_id: 1, chat: { id: 42, type: "private" }, date: 1 } }),
    );
    await client(root).sendDocument(42, new InputFile(Buffer.from("backup bytes"), "b.txt"));
    expect(got[0]!.url).toBe("/botT0KEN/sendDocument");
    expect(got[0]!.type).toMatch(/^multipart\/form-data; boundary=/);
    expect(got[0]!.body).toContain("backup bytes");
  });

  it("a call with no answer fails after the timeout and frees its connection for the next call", async () => {
    let n = 0;
    const { root } = await serve(() => (n++ === 0 ? undefined : JSON.stringify({ ok: true, result: true })));
    const c = botApiClient(root, "T0KEN", { timeoutMs: 300, maxConnections: 1 });
    const api = new Api("T0KEN", { apiRoot: root, fetch: c.fetch });
    api.config.use(c.call);
    const started = Date.now();
    const err = await api.sendChatAction(42, "typing").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpError);
    expect(String((err as HttpError).error)).toMatch(/no answer within 0.3 s/);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await api.sendChatAction(42, "typing")).toBe(true);
  });
});

describe("the Bot API client behind a proxy (TELEGRAM_PROXY)", () => {
  it("every call goes through the proxy's tunnel to the API root", async () => {
    const { got, root } = await serve(() =>
      JSON.stringify({ ok: true, result: { id: 1, is_bot: true, first_name: "B", username: "b" } }),
    );
    const tunnels: string[] = [];
    const proxy = http.createServer((_req, res) => res.writeHead(405).end());
    proxy.on("connect", (req, socket, head) => {
      tunnels.push(req.url ?? "");
      const [host, port] = (req.url ?? "").split(":");
      const upstream = net.connect(Number(port), host, () => {
        socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
        upstream.write(head);
        upstream.pipe(socket).pipe(upstream);
      });
      upstream.on("error", () => socket.destroy());
      socket.on("error", () => upstream.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
    try {
      const c = botApiClient(root, "T0KEN", { proxy: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}` });
      const api = new Api("T0KEN", { apiRoot: root, fetch: c.fetch });
      api.config.use(c.call);
      expect((await api.getMe()).username).toBe("b");
      expect(tunnels).toEqual([new URL(root).host]);
      expect(got[0]!.url).toBe("/botT0KEN/getMe");
    } finally {
      proxy.closeAllConnections();
      await new Promise((r) => proxy.close(r));
    }
  });
});
