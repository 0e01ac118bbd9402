/**
 * GET /health on 127.0.0.1: the database answers, the outbox backlog, each
 * channel's state. 200 when all is well, 503 otherwise. No content, no ids.
 */
import http from "node:http";
import type { TelegramChannel } from "./channels/telegram/index.ts";
import type { WhatsAppChannel } from "./channels/whatsapp/index.ts";
import type { ReportStore } from "./core/reports/types.ts";
import type { OpenedDatabase } from "./db/open.ts";

export async function startHealth(
  port: number,
  parts: { db: OpenedDatabase; reports: ReportStore; telegram?: TelegramChannel; whatsapp?: WhatsAppChannel },
): Promise<http.Server> {
  const server = http.createServer(async (req, res) => {
    if (req.url !== "/health") {
      res.writeHead(404).end();
      return;
    }
    let db = "ok";
    let pending = -1;
    try {
      parts.db.hot.prepare("SELECT 1").get();
      pending = await parts.reports.pendingCount();
    } catch {
      db = "failing";
    }
    const telegram = parts.telegram ? (parts.telegram.isRunning() ? "running" : "stopped") : "off";
    const whatsapp = parts.whatsapp ? parts.whatsapp.state() : "off";
    // WhatsApp reconnecting is shown, but only fails the check when it is the only channel.
    const ok = db === "ok" && telegram !== "stopped" && !(telegram === "off" && whatsapp === "reconnecting");
    res
      .writeHead(ok ? 200 : 503, { "content-type": "application/json" })
      .end(JSON.stringify({ status: ok ? "ok" : "degraded", db, outbox_pending: pending, telegram, whatsapp }));
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return server;
}
