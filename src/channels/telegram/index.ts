/**
 * The Telegram channel on grammY: parses updates into the core's Input,
 * renders Screens, deletes messages for quick exit. Updates of different chats
 * run in parallel (runner); one chat's updates run in order, except quick
 * exit, which never waits behind them (S1).
 */
import http from "node:http";
import { webhookCallback, type Bot, type Context, type NextFunction } from "grammy";
import { run, type RunnerHandle } from "@grammyjs/runner";
import type { UserFromGetMe } from "grammy/types";
import type { Config } from "../../config.ts";
import { ChannelError, type Channel } from "../../core/channel.ts";
import type { Arrival, Dialog } from "../../core/dialog.ts";
import type { Translator } from "../../core/i18n.ts";
import { makeAddress, type Incoming, type Input, type SentRef, type TrackedRef } from "../../core/types.ts";
import { describeError, type Logger } from "../../logger.ts";
import { parseMessage } from "./parse.ts";
import { renderScreen } from "./render.ts";
import { syncProfile } from "./profile.ts";
import { deleteFailure, guardCalls, toChannelError } from "./errors.ts";
import { QorgauBot } from "./bot.ts";
import { botApiClient } from "./http.ts";
import { crashPoint } from "../../crash-points.ts";

/** chat_member lets a staff member's departure take effect at once (ST3); it must be asked for by name. */
export const ALLOWED_UPDATES = ["message", "callback_query", "chat_member", "my_chat_member"] as const;
const INIT_TIMEOUT_S = 20;
/** How long a shutdown waits for updates in flight (R5). */
const DRAIN_MS = 20_000;
/** No Telegram update comes near this; a webhook body over it is refused with 413 (issue 14). */
export const WEBHOOK_MAX_BODY = 1024 * 1024;
/** Telegram's deleteMessages takes at most 100 ids. */
export const DELETE_BATCH = 100;

export interface TelegramChannelDeps {
  config: Pick<Config, "botToken" | "telegramApiRoot" | "syncBotProfile" | "defaultLocale"> &
    Partial<Pick<Config, "webhookUrl" | "webhookSecret" | "webhookPort" | "webhookHost" | "telegramProxy">>;
  translator: Translator;
  logger: Logger;
  /** Tests pass it to skip getMe. */
  botInfo?: UserFromGetMe;
  /** Records an update id; false when it was seen before (R1). `urgent` for a quick exit (S1). */
  firstSeen?: (key: string, urgent: boolean) => Promise<boolean>;
  now?: () => Date;
  /**
   * Telegram refused to go on (409: the token polled elsewhere; 401: the token revoked) or polling
   * ended by itself: one line saying what to do. The process should stop in order (T2, R6).
   */
  onFatal?: (line: string) => void;
}

/** What to tell an operator when Telegram stops the bot's polling. Never the error's payload. */
export function pollingFailure(err: unknown): string {
  const code = (err as { error_code?: unknown }).error_code;
  if (code === 409)
    return "Telegram answered 409 Conflict: another process is using this BOT_TOKEN (a second copy of the bot, or a webhook set meanwhile). Stop the other one; this one has stopped.";
  if (code === 401)
    return "Telegram answered 401 Unauthorized: BOT_TOKEN was revoked or is wrong. Copy the token again from @BotFather and restart.";
  const e = err as { name?: string; error_code?: number };
  return `Telegram polling stopped (${e?.name ?? "error"}${typeof e?.error_code === "number" ? ` ${e.error_code}` : ""}); the service manager should restart the bot.`;
}

export interface TelegramChannel {
  bot: Bot;
  channel: Channel;
  /** Resolves when no update is being handled (tests wait for this, not for time). */
  idle(): Promise<void>;
  /** Installs the update handlers; call once, before start. `extra` installs more (staff chats) before the catch-alls. */
  attach(dialog: Dialog, extra?: () => void): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  isRunning(): boolean;
  /** Where the webhook server listens, in webhook mode. */
  webhookAddress(): { host: string; port: number } | null;
}

const PARSED = Symbol("parsed");
const ARRIVED = Symbol("arrived");
/** A context with what the channel learnt of its update on the way in. */
type Admitted = Context & {
  [PARSED]?: { input: Input | undefined; exit: boolean };
  [ARRIVED]?: { incoming: Incoming; arrival: Arrival };
};

export function createTelegramChannel(deps: TelegramChannelDeps): TelegramChannel {
  const { config, translator, logger } = deps;
  const now = deps.now ?? (() => new Date());
  const client = botApiClient(config.telegramApiRoot, config.botToken, { proxy: config.telegramProxy ?? undefined });
  const bot = new QorgauBot(config.botToken, {
    client: { apiRoot: config.telegramApiRoot, fetch: client.fetch },
    botInfo: deps.botInfo,
  });
  // Transformers run last-installed first: the client's call goes in first, so the guard wraps it.
  bot.api.config.use(client.call);
  // Group sends protected; a dropped request sent again and flood waits up to 10 s waited out, so no
  // handler holds a chat's line for long (R3: longer ones, 5xx and the rest are the outbox's);
  // failed polls logged with safe fields only.
  bot.api.config.use(guardCalls((err) => logger.warn("telegram.poll_failed", describeError(err))));

  async function deleteOneByOne(
    chatId: string,
    ids: string[],
  ): Promise<{ done: string[]; retry: string[]; retryAfterMs?: number }> {
    const done: string[] = [];
    const retry: string[] = [];
    let retryAfterMs: number | undefined;
    for (const id of ids) {
      try {
        await bot.api.deleteMessage(chatId, Number(id));
        done.push(id);
      } catch (err) {
        const d = deleteFailure(err);
        (d.final ? done : retry).push(id);
        if (d.retryAfterMs) retryAfterMs = Math.max(retryAfterMs ?? 0, d.retryAfterMs);
        // A flood wait applies to the rest as well: they wait for the next pass.
        if (d.retryAfterMs) {
          retry.push(...ids.slice(ids.indexOf(id) + 1));
          break;
        }
      }
    }
    return { done, retry, ...(retryAfterMs ? { retryAfterMs } : {}) };
  }

  const channel: Channel = {
    name: "telegram",
    canDeleteUserMessages: true,
    async send(chatId, screen, locale) {
      const t = translator.fixed(locale);
      const sent: SentRef[] = [];
      try {
        for (const m of renderScreen(screen, { exit: t("common.exitButton"), location: t("near.locationButton") })) {
          const common = { reply_markup: m.markup, protect_content: screen.protect ?? false };
          if (m.kind === "place") {
            // The pin only helps: if it fails, the list of services after it must still go out.
            const pin = await bot.api
              .sendVenue(chatId, m.lat, m.lon, m.title, m.address, common)
              .catch((err: unknown) => {
                logger.warn("telegram.pin_failed", describeError(err));
                return null;
              });
            if (pin) sent.push({ id: String(pin.message_id), at: now() });
            continue;
          }
          const msg = await bot.api.sendMessage(chatId, m.text, {
            ...common,
            entities: m.entities,
            link_preview_options: { is_disabled: true },
          });
          sent.push({ id: String(msg.message_id), at: now() });
        }
      } catch (err) {
        const e = toChannelError(err);
        if (e instanceof ChannelError) e.sent = sent;
        throw e;
      }
      return sent;
    },
    async deleteMessages(chatId, refs: TrackedRef[]) {
      const ids = [...new Set(refs.map((r) => r.id))];
      const done: string[] = ids.filter((id) => !Number.isSafeInteger(Number(id)));
      const retry: string[] = [];
      let retryAfterMs: number | undefined;
      const numeric = ids.filter((id) => Number.isSafeInteger(Number(id)));
      for (let i = 0; i < numeric.length; i += DELETE_BATCH) {
        const batch = numeric.slice(i, i + DELETE_BATCH);
        try {
          // Telegram skips ids it cannot delete (gone, too old) and answers true: the batch is finished.
          await bot.api.deleteMessages(chatId, batch.map(Number));
          done.push(...batch);
        } catch (err) {
          const d = deleteFailure(err);
          logger.warn("telegram.delete_failed", {
            ...describeError(err),
            count: batch.length,
            reason: d.final ? "final" : "retry",
          });
          if (d.batchRefused) {
            // The batch method itself is refused for good: the messages may still go one by one.
            const one = await deleteOneByOne(chatId, batch);
            done.push(...one.done);
            retry.push(...one.retry);
            if (one.retryAfterMs) retryAfterMs = Math.max(retryAfterMs ?? 0, one.retryAfterMs);
          } else {
            (d.final ? done : retry).push(...batch);
            if (d.retryAfterMs) retryAfterMs = Math.max(retryAfterMs ?? 0, d.retryAfterMs);
          }
        }
        // The kill harness may stop the process after the first batch; the exit marker finishes the rest.
        crashPoint("mid_exit");
      }
      return { done, retry, ...(retryAfterMs ? { retryAfterMs } : {}) };
    },
    async sendCover(chatId, text) {
      await bot.api.sendMessage(chatId, text, { reply_markup: { remove_keyboard: true } });
    },
  };

  let runner: RunnerHandle | undefined;
  let stopping = false;
  let server: http.Server | undefined;
  /** Updates being handled now: SIGTERM lets them finish (R5). The runner's stop() does not wait for them. */
  const inflight = new Set<Promise<unknown>>();
  let dialog: Dialog | undefined;

  const inputOf = (ctx: Context): Input | undefined => {
    if (ctx.callbackQuery?.data !== undefined) return { type: "option", token: ctx.callbackQuery.data };
    if (ctx.message) return parseMessage(ctx.message, ctx.me?.username);
    return undefined;
  };

  function attach(d: Dialog, extra?: () => void) {
    dialog = d;
    // An update parsed once: the dedupe and the per-chat queue ask whether it is a quick exit, and
    // the message handler takes the parsed input. Kept on the update's own context (a WeakMap
    // entry is an ephemeron the collector must trace apart, for every update).
    const parsed = (ctx: Admitted) => {
      let p = ctx[PARSED];
      if (!p) {
        const input = inputOf(ctx);
        ctx[PARSED] = p = { input, exit: !!input && d.isExit(input) };
      }
      return p;
    };
    const isExitUpdate = (ctx: Context): boolean => parsed(ctx).exit;
    // A private message or button press goes to the dialog. A press is answered first: clients show
    // a spinner until then (A2.1), and every query gets exactly one answer. The screen does not wait
    // for it: the press is one round trip to Telegram, not two. Any other update goes on to the
    // composer (staff chats, the catch-all answer below).
    const dispatch = (ctx: Admitted, next: NextFunction): Promise<unknown> => {
      const a = ctx[ARRIVED];
      if (!a) return next();
      if (!ctx.callbackQuery) return d.handle(a.incoming, a.arrival);
      const answered = ctx
        .answerCallbackQuery()
        .catch((err) => logger.warn("telegram.answer_failed", describeError(err)));
      return Promise.all([answered, d.handle(a.incoming, a.arrival)]);
    };
    // Every update, in one function outside grammY's composer (`QorgauBot.front`: each layer there
    // is a suspended frame, a closure and a promise that the update keeps alive through its round
    // trips). It is counted in flight (R5, shutdown waits for it); a redelivered one (after a
    // restart or a webhook retry) is dropped before anything runs (R1); one from a private chat is
    // noted by the core the moment it arrives, before the per-chat line, so its message is tracked
    // at once and an update that then waits behind a quick exit is dropped. The dedupe is awaited
    // first: noting a redelivered message would track again, in a chat a quick exit has emptied, an
    // id already deleted. Then one chat's updates run one after another, in the order they came,
    // except a quick exit, which never waits behind them (S1). An update that failed does not stop
    // the next one in its chat.
    const firstSeen = deps.firstSeen;
    const lines = new Map<string, { tail: Promise<unknown>; waiting: number }>();
    const admit = async (ctx: Admitted, next: NextFunction): Promise<void> => {
      if (firstSeen && !(await firstSeen(`telegram:${ctx.update.update_id}`, isExitUpdate(ctx)))) {
        return void logger.info("telegram.duplicate_update", { update_id: ctx.update.update_id });
      }
      if (ctx.chat?.type === "private" && (ctx.message || ctx.callbackQuery?.data !== undefined)) {
        const incoming: Incoming = {
          address: makeAddress("telegram", ctx.chat.id),
          input: parsed(ctx).input!,
          ...(ctx.message ? { messageId: String(ctx.message.message_id) } : {}),
          languageHint: ctx.from?.language_code,
        };
        ctx[ARRIVED] = { incoming, arrival: d.arrive(incoming) };
      }
      if (isExitUpdate(ctx) || !ctx.chat) return void (await dispatch(ctx, next));
      const key = String(ctx.chat.id);
      const line = lines.get(key);
      const go = () => dispatch(ctx, next);
      const task = line ? line.tail.then(go, go) : go();
      const mine = line ?? { tail: task, waiting: 0 };
      if (!line) lines.set(key, mine);
      mine.tail = task;
      mine.waiting++;
      try {
        await task;
      } finally {
        if (--mine.waiting === 0) lines.delete(key);
      }
    };
    bot.front((ctx, next) => {
      const p = admit(ctx, next);
      inflight.add(p);
      return p.finally(() => inflight.delete(p));
    });
    extra?.();
    // Any other button press still gets its one answer.
    bot.on("callback_query", (ctx) => ctx.answerCallbackQuery().catch(() => undefined));
    bot.catch((err) => {
      logger.error("telegram.update_failed", { update_id: err.ctx.update.update_id, ...describeError(err.error) });
    });
  }

  return {
    bot,
    channel,
    async idle() {
      while (inflight.size) await Promise.allSettled([...inflight]);
    },
    attach,
    async start() {
      if (!dialog) throw new Error("attach a dialog before starting the Telegram channel");
      // Fail clearly (and let the service manager retry) when Telegram cannot be reached.
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new Error(
                `no answer from the Bot API at ${config.telegramApiRoot} within ${INIT_TIMEOUT_S} s (check the network or TELEGRAM_API_ROOT)`,
              ),
            ),
          INIT_TIMEOUT_S * 1000,
        );
      });
      try {
        // getMe once, not bot.init(): grammY's init retries a network failure quietly, so a refused
        // or unknown API root showed only as this timeout. A connection refused is named at once.
        if (!bot.isInited()) bot.botInfo = await Promise.race([bot.api.getMe(), timeout]);
      } catch (err) {
        const e = err as { error_code?: number; name?: string; error?: { code?: string; cause?: { code?: string } } };
        if (e.error_code === 401 || e.error_code === 404)
          throw new Error("Telegram rejected BOT_TOKEN (401/404): copy the token again from @BotFather");
        if (e.name === "HttpError") {
          const code = e.error?.code ?? e.error?.cause?.code ?? "network error";
          throw new Error(
            `cannot reach the Bot API at ${config.telegramApiRoot} (${code}): check TELEGRAM_API_ROOT and the network`,
          );
        }
        throw err;
      } finally {
        clearTimeout(timer);
      }
      if (config.syncBotProfile) {
        syncProfile(bot.api, translator, config.defaultLocale, (method, err) =>
          logger.warn("telegram.profile_sync_failed", { ...describeError(err), method }),
        )
          .then((count) => logger.info("telegram.profile_synced", { count }))
          .catch((err) => logger.warn("telegram.profile_sync_failed", describeError(err)));
      }
      if (config.webhookUrl && config.webhookSecret) {
        // Webhook mode (T1): Telegram's secret header is checked on every request; a missing or
        // wrong one gets 401 and is never processed. Pending updates are kept (T4).
        const handle = webhookCallback(bot, "http", {
          secretToken: config.webhookSecret,
          onTimeout: "throw",
          timeoutMilliseconds: 9000,
        });
        server = http.createServer((req, res) => {
          if (req.method !== "POST") {
            res.writeHead(405).end();
            return;
          }
          // Telegram sends a Content-Length; a body without one, or larger than any update, is refused
          // before it is read, so a stranger cannot make the bot hold a large body in memory.
          const length = Number(req.headers["content-length"]);
          if (!req.headers["content-length"] || !Number.isFinite(length)) {
            res.writeHead(411, { connection: "close" }).end();
            req.destroy();
            return;
          }
          if (length > WEBHOOK_MAX_BODY) {
            logger.warn("telegram.webhook_too_large", { count: length });
            res.writeHead(413, { connection: "close" }).end();
            req.destroy();
            return;
          }
          handle(req, res).catch((err: unknown) => {
            logger.warn("telegram.webhook_failed", describeError(err));
            if (!res.headersSent) res.writeHead(500).end();
          });
        });
        await new Promise<void>((resolve) =>
          server!.listen(config.webhookPort ?? 8443, config.webhookHost ?? "127.0.0.1", resolve),
        );
        await bot.api.setWebhook(config.webhookUrl, {
          secret_token: config.webhookSecret,
          allowed_updates: [...ALLOWED_UPDATES],
          drop_pending_updates: false,
        });
        logger.info("telegram.started", { mode: "webhook", port: config.webhookPort });
        return;
      }
      // A webhook left from webhook mode would make every poll a 409: removed first, keeping the
      // updates Telegram holds for the bot (T4).
      await bot.api.deleteWebhook({ drop_pending_updates: false });
      // The runner retries a failed poll by itself; it gives up only on 401, 409 or after hours of
      // failures, and then its task rejects: watched here, never left as an unhandled rejection.
      runner = run(bot, { runner: { fetch: { allowed_updates: [...ALLOWED_UPDATES], timeout: 25 }, silent: true } });
      const handle = runner;
      handle.task()?.then(
        () => {
          if (!stopping) deps.onFatal?.(pollingFailure(new Error("polling ended")));
        },
        (err: unknown) => {
          if (stopping) return;
          logger.error("telegram.polling_failed", describeError(err));
          deps.onFatal?.(pollingFailure(err));
        },
      );
      logger.info("telegram.started", { mode: "polling" });
    },
    async stop() {
      stopping = true;
      // Stop taking updates, then let the ones in flight finish (R5).
      if (runner?.isRunning()) await runner.stop().catch(() => undefined);
      if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
      await Promise.race([Promise.allSettled([...inflight]), new Promise((r) => setTimeout(r, DRAIN_MS).unref())]);
    },
    isRunning: () => !!server?.listening || !!runner?.isRunning(),
    webhookAddress: () => {
      const a = server?.address();
      return a && typeof a === "object" ? { host: a.address, port: a.port } : null;
    },
  };
}
