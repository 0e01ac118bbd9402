/**
 * The Bot API connections (src/channels/telegram/wire.ts) against raw loopback
 * servers that answer byte by byte, in chunks, with a closing connection, or
 * with nonsense, and over TLS with a certificate made for the test.
 */
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import tls from "node:tls";
import { afterEach, describe, expect, it } from "vitest";
import { Pool } from "../../src/channels/telegram/wire.ts";
import { projectRoot } from "../../src/db/url.ts";
import { tempDir } from "../support/harness.ts";

const servers: net.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

type Handler = (request: string, socket: net.Socket, n: number) => void;

/** A server that hands each whole request (head and body) to `handle`; counts connections. */
async function rawServer(handle: Handler, secure?: { key: string; cert: string }) {
  const stats = { connections: 0, requests: [] as string[] };
  const onSocket = (socket: net.Socket) => {
    stats.connections++;
    let buf = "";
    socket.on("error", () => undefined);
    socket.on("data", (d) => {
      buf += d.toString("latin1");
      for (;;) {
        const end = buf.indexOf("\r\n\r\n");
        if (end < 0) return;
        const length = Number(/content-length: (\d+)/i.exec(buf.slice(0, end))?.[1] ?? 0);
        if (buf.length < end + 4 + length) return;
        const request = buf.slice(0, end + 4 + length);
        buf = buf.slice(end + 4 + length);
        stats.requests.push(request);
        handle(request, socket, stats.requests.length);
      }
    });
  };
  const server = secure ? tls.createServer(secure, onSocket) : net.createServer(onSocket);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as net.AddressInfo).port;
  return { stats, origin: `${secure ? "https" : "http"}://${secure ? "localhost" : "127.0.0.1"}:${port}` };
}

/** Writes `text` a few bytes at a time, so every parser state meets a boundary. */
async function dribble(socket: net.Socket, text: string, step = 3) {
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i += step) {
    socket.write(bytes.subarray(i, i + step));
    await new Promise((r) => setImmediate(r));
  }
}

const json = (o: unknown) => JSON.stringify(o);
const ok = (n: number) => json({ ok: true, result: { message_id: n, text: "Сәлем, қалайсыз? Саламатсызбы?" } });

describe("the Bot API connections", () => {
  it("reads an answer that arrives a few bytes at a time, Cyrillic included, and reuses the connection", async () => {
    const { stats, origin } = await rawServer((_req, socket, n) => {
      const body = ok(n);
      void dribble(socket, `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    });
    const pool = new Pool(origin, { maxConnections: 4 });
    for (let i = 1; i <= 3; i++) expect(JSON.parse(await pool.post("/botT/sendMessage", { "content-type": "application/json" }, json({ text: "Привет" })))).toEqual(JSON.parse(ok(i)));
    expect(stats.connections).toBe(1);
    expect(stats.requests[0]).toMatch(/^POST \/botT\/sendMessage HTTP\/1\.1\r\nHost: 127\.0\.0\.1:\d+\r\n/);
    expect(stats.requests[0]).toContain(`Content-Length: ${Buffer.byteLength(json({ text: "Привет" }))}\r\n`);
    expect(stats.requests[0]!.endsWith(Buffer.from(json({ text: "Привет" })).toString("latin1"))).toBe(true);
    pool.close();
  });

  it("reads a chunked answer with extensions and trailers, split at awkward places", async () => {
    const { stats, origin } = await rawServer((_req, socket, n) => {
      const body = ok(n);
      const a = body.slice(0, 7);
      const b = body.slice(7);
      const trailer = n === 1 ? "X-Note: done\r\n" : "";
      void dribble(socket, `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${Buffer.byteLength(a).toString(16)};ext=1\r\n${a}\r\n${Buffer.byteLength(b).toString(16).toUpperCase()}\r\n${b}\r\n0\r\n${trailer}\r\n`, 2);
    });
    const pool = new Pool(origin, { maxConnections: 4 });
    expect(JSON.parse(await pool.post("/botT/a", undefined, "{}"))).toEqual(JSON.parse(ok(1)));
    expect(JSON.parse(await pool.post("/botT/b", undefined, "{}"))).toEqual(JSON.parse(ok(2)));
    expect(stats.connections).toBe(1);
    pool.close();
  });

  it("an answer that closes its connection is read to its end, and the next call opens a new one", async () => {
    const { stats, origin } = await rawServer((_req, socket, n) => {
      // The first answer has no length and ends with the connection; the second says close.
      if (n === 1) socket.end(`HTTP/1.1 200 OK\r\n\r\n${ok(1)}`);
      else socket.end(`HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(ok(n))}\r\n\r\n${ok(n)}`);
    });
    const pool = new Pool(origin, { maxConnections: 4 });
    for (let i = 1; i <= 3; i++) expect(await pool.post("/botT/a", undefined, "{}")).toBe(ok(i));
    expect(stats.connections).toBe(3);
    pool.close();
  });

  it("a connection the server closed while idle is not used again", async () => {
    const { stats, origin } = await rawServer((_req, socket) => {
      socket.end(`HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}`); // keep-alive by the rules, then closed anyway
    });
    const pool = new Pool(origin, { maxConnections: 1 });
    expect(await pool.post("/botT/a", undefined, "{}")).toBe("{}");
    await new Promise((r) => setTimeout(r, 50));
    expect(await pool.post("/botT/a", undefined, "{}")).toBe("{}");
    expect(stats.connections).toBe(2);
    pool.close();
  });

  it("nonsense fails that one call and its connection; the next call gets a fresh one", async () => {
    const { stats, origin } = await rawServer((_req, socket, n) => {
      if (n === 1) socket.write("SMTP ready\r\n\r\n");
      else if (n === 2) socket.write(`HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}{"extra":true}`);
      else socket.write(`HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}`);
    });
    const pool = new Pool(origin, { maxConnections: 1 });
    await expect(pool.post("/botT/a", undefined, "{}")).rejects.toThrow(/not an HTTP/);
    await expect(pool.post("/botT/a", undefined, "{}")).rejects.toThrow(/more than its Content-Length/);
    expect(await pool.post("/botT/a", undefined, "{}")).toBe("{}");
    expect(stats.connections).toBe(3);
    pool.close();
  });

  it("refuses a header or path that would break the request, before anything is sent", async () => {
    const { stats, origin } = await rawServer((_req, socket) => socket.write(`HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}`));
    const pool = new Pool(origin, { maxConnections: 1 });
    await expect(pool.post("/botT/a", { "x-a": "1\r\nX-Injected: yes" }, "{}")).rejects.toThrow(/header/);
    await expect(pool.post("/botT/a b", undefined, "{}")).rejects.toThrow(/path/);
    expect(await pool.post("/botT/a", { "content-type": "application/json" }, "{}")).toBe("{}");
    expect(stats.requests).toHaveLength(1);
    expect(stats.requests[0]).toContain("content-type: application/json\r\n");
    pool.close();
  });

  it("speaks TLS with the server's name checked against its certificate", async () => {
    const dir = tempDir();
    const key = path.join(dir, "key.pem");
    const cert = path.join(dir, "cert.pem");
    execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"], { stdio: "ignore" });
    const secure = { key: fs.readFileSync(key, "utf8"), cert: fs.readFileSync(cert, "utf8") };
    const { stats, origin } = await rawServer((_req, socket, n) => socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${Buffer.byteLength(ok(n))}\r\n\r\n${ok(n)}`), secure);
    const trusting = new Pool(origin, { maxConnections: 2, tls: { ca: secure.cert } });
    expect(await trusting.post("/botT/getMe", undefined, "{}")).toBe(ok(1));
    expect(await trusting.post("/botT/getMe", undefined, "{}")).toBe(ok(2));
    expect(stats.connections).toBe(1);
    trusting.close();
    // Without the test's CA the certificate is refused, as a stranger's would be.
    await expect(new Pool(origin, { maxConnections: 2 }).post("/botT/getMe", undefined, "{}")).rejects.toThrow(/self-signed|certificate/i);
    // A certificate for another name is refused too.
    const wrongName = new Pool(origin.replace("localhost", "127.0.0.1"), { maxConnections: 2, tls: { ca: secure.cert } });
    await expect(wrongName.post("/botT/getMe", undefined, "{}")).rejects.toThrow(/IP: 127\.0\.0\.1 is not in the cert|altnames/i);
  });

  it("a kept connection does not keep the process running after its last call", async () => {
    const { origin } = await rawServer((_req, socket) => socket.write(`HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}`));
    const script = `import { Pool } from ${JSON.stringify(path.join(projectRoot, "src/channels/telegram/wire.ts"))};
      const pool = new Pool(${JSON.stringify(origin)}, { maxConnections: 2 });
      console.log(await pool.post("/botT/getMe", undefined, "{}"));`;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { cwd: projectRoot, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        resolve(-1);
      }, 15_000);
      child.on("exit", (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    expect({ code, out: out.trim() }).toEqual({ code: 0, out: "{}" });
  });
});
