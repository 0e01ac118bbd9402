/**
 * HTTP/1.1 to the Bot API on kept-alive sockets, one request at a time on
 * each: what grammY's calls need and no more. A JSON call is one write of head
 * and body; the answer is read by Content-Length or chunks (or to the close of
 * the connection) into one string. Node's http client did the same for every
 * call with a request object, an answer stream, an agent's bookkeeping and
 * their events; the benchmark found that a quarter of the bot's time and a
 * third of what it allocated (bench/README.md). Anything this does not
 * understand fails the one call, and that connection is closed, never reused.
 */
import net from "node:net";
import tls from "node:tls";

/** Longest head of an answer accepted (Node's own limit is 16 KB). */
export const MAX_HEAD = 64 * 1024;
/** Largest answer accepted; the Bot API's are kilobytes (100 updates at most per getUpdates). */
export const MAX_BODY = 64 * 1024 * 1024;
/** A connection unused this long is closed by us, before the server closes it under a request. */
export const IDLE_MS = 30_000;
/**
 * A call without an answer this long fails (and its connection is closed): a connection can die
 * without a word (a NAT forgetting it, a server gone). Longer than a long poll (25 s) and its way back.
 */
export const CALL_TIMEOUT_MS = 60_000;

const CRLF = Buffer.from("\r\n");
const HEAD_END = Buffer.from("\r\n\r\n");

export class WireError extends Error {}

export interface WireOptions {
  maxConnections: number;
  /** `CALL_TIMEOUT_MS` unless given (tests give less). */
  timeoutMs?: number;
  /** Extra TLS options (tests pass the CA of their own certificate). */
  tls?: tls.ConnectionOptions;
}

type Answer = { status: number; body: string };

/** How the body of one answer is read. */
type Body =
  | { mode: "length"; left: number; parts: Buffer[] }
  | { mode: "chunked"; buf: Buffer; size: number; parts: Buffer[]; total: number }
  | { mode: "close"; parts: Buffer[]; total: number };

class Connection {
  private head: Buffer | null = null;
  private status = 0;
  private keepAlive = true;
  private body: Body | null = null;
  private call: { resolve(a: Answer): void; reject(e: Error): void } | null = null;
  /** When it went back to the pool (0: in use). */
  idleSince = 0;
  /** When its call fails for want of an answer (0: no call). */
  deadline = 0;
  closed = false;

  constructor(
    readonly socket: net.Socket,
    private readonly pool: Pool,
  ) {
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 1000);
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", (err) => this.fail(err));
    socket.on("end", () => this.onClose());
    socket.on("close", () => this.onClose());
  }

  /** Head and body in one packet, without joining them into one string first. */
  request(head: string, body: Buffer, deadline: number): Promise<Answer> {
    this.idleSince = 0;
    this.deadline = deadline;
    this.socket.ref();
    return new Promise<Answer>((resolve, reject) => {
      this.call = { resolve, reject };
      this.head = null;
      this.body = null;
      this.socket.cork();
      this.socket.write(head, "latin1");
      this.socket.write(body);
      this.socket.uncork();
    });
  }

  /** Back in the pool: it does not keep the process alive, and is closed if nobody uses it for `IDLE_MS`. */
  idle() {
    this.idleSince = Date.now();
    this.socket.unref();
  }

  abort(err: Error) {
    this.fail(err);
  }

  private onData(chunk: Buffer): void {
    if (!this.call) return this.fail(new WireError("the server sent bytes nobody asked for"));
    try {
      if (!this.body) {
        this.head = this.head ? Buffer.concat([this.head, chunk]) : chunk;
        const end = this.head.indexOf(HEAD_END);
        if (end < 0) {
          if (this.head.length > MAX_HEAD) throw new WireError("the answer's head is too long");
          return;
        }
        const rest = this.head.subarray(end + 4);
        const informational = this.readHead(this.head.toString("latin1", 0, end));
        this.head = null;
        if (informational) return rest.length ? this.onData(rest) : undefined; // 100 Continue: the answer follows
        const body = this.body as Body | null;
        if (body?.mode === "length" && body.left === 0) return this.done(Buffer.alloc(0), rest.length > 0);
        if (rest.length) this.onBody(rest);
        return;
      }
      this.onBody(chunk);
    } catch (err) {
      this.fail(err as Error);
    }
  }

  /** Reads the status line and the headers; true for a 1xx, after which the real answer comes. */
  private readHead(text: string): boolean {
    const lines = text.split("\r\n");
    const m = /^HTTP\/1\.([01]) (\d{3})/.exec(lines[0]!);
    if (!m) throw new WireError(`not an HTTP/1.x answer: ${JSON.stringify(lines[0]!.slice(0, 40))}`);
    const status = Number(m[2]);
    if (status >= 100 && status < 200) return true;
    let length: number | undefined;
    let chunked = false;
    let connection = "";
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(":");
      if (colon <= 0) throw new WireError("a header line without a name");
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === "content-length") {
        if (!/^\d{1,12}$/.test(value) || (length !== undefined && length !== Number(value))) throw new WireError("a bad Content-Length");
        length = Number(value);
      } else if (name === "transfer-encoding") chunked = value.toLowerCase().split(",").map((s) => s.trim()).includes("chunked");
      else if (name === "connection") connection = value.toLowerCase();
    }
    this.status = status;
    this.keepAlive = m[1] === "1" ? !connection.includes("close") : connection.includes("keep-alive");
    if (chunked) this.body = { mode: "chunked", buf: Buffer.alloc(0), size: -1, parts: [], total: 0 };
    else if (length !== undefined) {
      if (length > MAX_BODY) throw new WireError("the answer is too large");
      this.body = { mode: "length", left: length, parts: [] };
    } else {
      this.keepAlive = false;
      this.body = { mode: "close", parts: [], total: 0 };
    }
    return false;
  }

  private onBody(chunk: Buffer) {
    const b = this.body!;
    if (b.mode === "length") {
      if (chunk.length > b.left) throw new WireError("the server sent more than its Content-Length");
      b.parts.push(chunk);
      b.left -= chunk.length;
      if (b.left === 0) this.done(b.parts.length === 1 ? b.parts[0]! : Buffer.concat(b.parts), false);
    } else if (b.mode === "close") {
      b.total += chunk.length;
      if (b.total > MAX_BODY) throw new WireError("the answer is too large");
      b.parts.push(chunk);
    } else {
      b.buf = b.buf.length ? Buffer.concat([b.buf, chunk]) : chunk;
      for (;;) {
        if (b.size < 0) {
          const nl = b.buf.indexOf(CRLF);
          if (nl < 0) {
            if (b.buf.length > 1024) throw new WireError("a bad chunk size line");
            return;
          }
          const hex = b.buf.toString("latin1", 0, nl).split(";")[0]!.trim();
          if (!/^[0-9a-fA-F]{1,8}$/.test(hex)) throw new WireError("a bad chunk size");
          b.size = parseInt(hex, 16);
          b.buf = b.buf.subarray(nl + 2);
          if (b.size === 0) b.size = 0;
        }
        if (b.size === 0) {
          // The last chunk: no trailers ("\r\n"), or trailers ending in an empty line.
          if (b.buf.length >= 2 && b.buf[0] === 13 && b.buf[1] === 10) return this.done(Buffer.concat(b.parts), b.buf.length > 2);
          const end = b.buf.indexOf(HEAD_END);
          if (end >= 0) return this.done(Buffer.concat(b.parts), b.buf.length > end + 4);
          if (b.buf.length > MAX_HEAD) throw new WireError("the answer's trailers are too long");
          return;
        }
        if (b.buf.length < b.size + 2) return;
        if (b.buf[b.size] !== 13 || b.buf[b.size + 1] !== 10) throw new WireError("a chunk without its line end");
        b.parts.push(b.buf.subarray(0, b.size));
        b.total += b.size;
        if (b.total > MAX_BODY) throw new WireError("the answer is too large");
        b.buf = b.buf.subarray(b.size + 2);
        b.size = -1;
      }
    }
  }

  /** The answer is complete. Extra bytes after it mean the connection cannot be trusted again. */
  private done(body: Buffer, extra: boolean) {
    const call = this.call!;
    this.call = null;
    this.body = null;
    this.deadline = 0;
    const answer = { status: this.status, body: body.toString("utf8") };
    if (this.keepAlive && !extra) this.pool.release(this);
    else this.close();
    call.resolve(answer);
  }

  private onClose() {
    const b = this.body;
    if (this.call && b?.mode === "close") {
      const call = this.call;
      this.call = null;
      call.resolve({ status: this.status, body: Buffer.concat(b.parts).toString("utf8") });
    }
    this.fail(new WireError("the connection closed before the answer"));
  }

  private fail(err: Error) {
    const call = this.call;
    this.call = null;
    this.deadline = 0;
    this.close();
    call?.reject(err);
  }

  /** Closes it and gives its place back to the pool. */
  close() {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    this.pool.forget(this);
  }
}

/** The header lines of a call, checked once per distinct set (grammY sends the same two every time). */
const headerCache = new Map<string, string>();
function headerLines(headers: Record<string, string> | undefined): string {
  if (!headers) return "";
  let key = "";
  for (const name in headers) key += `${name}\u0000${headers[name]}\u0000`;
  let lines = headerCache.get(key);
  if (lines === undefined) {
    lines = "";
    for (const name in headers) {
      const value = String(headers[name]);
      if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) || /[^\t\x20-\x7e]/.test(value)) throw new WireError(`a header HTTP does not allow: ${JSON.stringify(name)}`);
      const lower = name.toLowerCase();
      if (lower !== "content-length" && lower !== "host" && lower !== "connection") lines += `${name}: ${value}\r\n`;
    }
    if (headerCache.size < 64) headerCache.set(key, lines);
  }
  return lines;
}

/** At most `maxConnections` connections to one origin; more calls wait for one, first come first served. */
export class Pool {
  private readonly free: Connection[] = [];
  /** Every open connection, in use or not: the watch below goes over them. */
  private readonly all = new Set<Connection>();
  private readonly waiting: Array<{ resolve(c: Connection): void; reject(e: Error): void }> = [];
  private open = 0;
  private readonly host: string;
  private readonly port: number;
  private readonly secure: boolean;
  private readonly hostHeader: string;
  private readonly timeoutMs: number;
  private watch: NodeJS.Timeout | undefined;

  constructor(
    readonly origin: string,
    private readonly options: WireOptions,
  ) {
    const u = new URL(origin);
    this.secure = u.protocol === "https:";
    this.host = u.hostname.replace(/^\[|\]$/g, "");
    this.port = Number(u.port) || (this.secure ? 443 : 80);
    this.hostHeader = u.host;
    this.timeoutMs = options.timeoutMs ?? CALL_TIMEOUT_MS;
  }

  get maxConnections(): number {
    return this.options.maxConnections;
  }

  /** POSTs a body to a path of this origin; resolves with the answer's text whatever its status. */
  async post(path: string, headers: Record<string, string> | undefined, body: string, signal?: AbortSignal | null): Promise<string> {
    if (signal?.aborted) throw new WireError("the request was aborted before it was sent");
    const bytes = Buffer.from(body, "utf8");
    const head = `POST ${path} HTTP/1.1\r\nHost: ${this.hostHeader}\r\nConnection: keep-alive\r\nContent-Length: ${bytes.length}\r\n${headerLines(headers)}\r\n`;
    if (/[^\x21-\x7e]/.test(path)) throw new WireError("a path with characters HTTP does not allow");
    const conn = await this.acquire();
    // The clock starts when the call goes out: time spent waiting for a connection is not the server's.
    const deadline = Date.now() + this.timeoutMs;
    if (!signal) return (await conn.request(head, bytes, deadline)).body;
    if (signal.aborted) {
      this.release(conn);
      throw new WireError("the request was aborted before it was sent");
    }
    const abort = () => conn.abort(new WireError("the request was aborted"));
    signal.addEventListener("abort", abort, { once: true });
    try {
      return (await conn.request(head, bytes, deadline)).body;
    } finally {
      signal.removeEventListener("abort", abort);
    }
  }

  private acquire(): Promise<Connection> {
    const conn = this.free.pop();
    if (conn) return Promise.resolve(conn);
    if (this.open < this.options.maxConnections) return this.connect();
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  private connect(): Promise<Connection> {
    this.open++;
    return new Promise((resolve, reject) => {
      const socket = this.secure
        ? tls.connect({ host: this.host, port: this.port, servername: net.isIP(this.host) ? undefined : this.host, ALPNProtocols: ["http/1.1"], ...this.options.tls })
        : net.connect({ host: this.host, port: this.port });
      const ready = this.secure ? "secureConnect" : "connect";
      const failed = (err: Error) => {
        this.open--;
        this.next();
        reject(err);
      };
      socket.once("error", failed);
      socket.once(ready, () => {
        socket.off("error", failed);
        const conn = new Connection(socket, this);
        this.all.add(conn);
        // Once a second while connections are open: calls past their deadline fail, idle ones close.
        this.watch ??= setInterval(() => this.check(), Math.min(1000, this.timeoutMs)).unref();
        resolve(conn);
      });
    });
  }

  /** A connection done with its call: to the next waiting call, or kept. */
  release(conn: Connection) {
    if (conn.closed) return;
    const w = this.waiting.shift();
    if (w) w.resolve(conn);
    else {
      conn.idle();
      this.free.push(conn);
    }
  }

  /** Fails the calls that have waited past their deadline, and closes the connections idle for `IDLE_MS`. */
  private check() {
    const now = Date.now();
    for (const c of this.all) {
      if (c.deadline && c.deadline <= now) c.abort(new WireError(`no answer within ${this.timeoutMs / 1000} s`));
      else if (c.idleSince && c.idleSince <= now - IDLE_MS) c.close();
    }
    if (!this.all.size) {
      clearInterval(this.watch);
      this.watch = undefined;
    }
  }

  /** A connection closed: its place goes to a waiting call. */
  forget(conn: Connection) {
    const i = this.free.indexOf(conn);
    if (i >= 0) this.free.splice(i, 1);
    this.all.delete(conn);
    this.open--;
    this.next();
  }

  private next() {
    if (this.waiting.length && this.open < this.options.maxConnections) {
      const w = this.waiting.shift()!;
      this.connect().then(w.resolve, w.reject);
    }
  }

  /** Closes every kept connection (shutdown). */
  close() {
    for (const c of [...this.free]) c.close();
  }
}
