/** A multipart/form-data body as grammY writes an upload, parsed by hand: undici's FormData (Node 20) refuses the stream. */
export function parseMultipart(
  body: Buffer,
  type: string,
): { fields: Record<string, any>; files: Map<string, { name: string; bytes: Buffer }> } {
  const boundary = Buffer.from(`--${/boundary=([^;]+)/.exec(type)![1]!.trim()}`);
  const fields: Record<string, any> = {};
  const files = new Map<string, { name: string; bytes: Buffer }>();
  let at = body.indexOf(boundary);
  while (at >= 0) {
    const start = at + boundary.length;
    const next = body.indexOf(boundary, start);
    if (next < 0) break;
    const part = body.subarray(start, next);
    const headEnd = part.indexOf("\r\n\r\n");
    if (headEnd >= 0) {
      const head = part.subarray(0, headEnd).toString("utf8");
      let value = part.subarray(headEnd + 4);
      if (value.subarray(-2).toString() === "\r\n") value = value.subarray(0, -2);
      const name = /name="([^"]*)"/.exec(head)?.[1] ?? "";
      const filename = /filename="?([^"\r\n;]*)"?/.exec(head)?.[1];
      if (filename !== undefined) files.set(name, { name: filename, bytes: Buffer.from(value) });
      else {
        const v = value.toString("utf8");
        fields[name] = /^[[{]|^(true|false)$/.test(v) ? JSON.parse(v) : v;
      }
    }
    at = next;
  }
  return { fields, files };
}
