/**
 * Routes one incoming message of any channel. Quick exit runs before anything
 * else, then first contact, commands, danger words, the options last shown,
 * town names, and last a friendly catch-all that always offers the menu (S11).
 */
import type { Config, Locale } from "../config.ts";
import type { Logger } from "../logger.ts";
import { describeError } from "../logger.ts";
import { ChannelError, type Channel } from "./channel.ts";
import { isExitWord } from "./keywords.ts";
import type { SessionRecord, Store } from "./store.ts";
import { STATE_VERSION } from "./store.ts";
import { randomBytes } from "./safety/sealer.ts";
import {
  splitAddress,
  type Address,
  type ChannelName,
  type Incoming,
  type Input,
  type Screen,
  type SentRef,
  type TrackedRef,
} from "./types.ts";
import type { FlowCtx, FlowDeps, View } from "./flows/context.ts";
import { createEraser, type Eraser } from "./safety/exit.ts";
import { createChatPace } from "./safety/pace.ts";
import { countedSource, loadCampaignSources, parseStartLink, type StartLink } from "./flows/links.ts";
import { placeResultsView } from "./flows/near.ts";
import { countryView, menuView, welcomeView } from "./flows/start.ts";
import type { ReportCtx, ReportDeps } from "./reports/context.ts";
import { route, type Router } from "./router.ts";

/** A campaign payload in a first WhatsApp message: "#kk_KZ_kz-shymkent_poster1". */
const WA_LINK = /(?:^|\s)#([A-Za-z0-9_-]{2,64})(?=\s|$)/;

/** Longest text the bot tries to understand; longer ones get a kind "too long" reply. */
export { MAX_TEXT } from "./router.ts";

export interface DialogDeps extends FlowDeps {
  store: Store;
  /** Reports; without them the report entry explains it is not available. */
  reports?: Omit<ReportDeps, "now"> & {
    /** Signs a report id for the buttons of proactive messages (ST2). */
    sign(value: string): string;
    /** Wakes the outbox: held deliveries were released. */
    kick(): void;
    /** Queues an answer that met a long flood wait, to go out when the wait is over (R3). */
    defer(
      address: Address,
      screen: Screen,
      locale: Locale,
      since: Date,
      notBefore: Date,
      expireMinutes?: number,
    ): Promise<void>;
  };
  channels: Partial<Record<ChannelName, Channel>>;
  logger: Logger;
  now: () => Date;
  config: FlowDeps["config"] & Pick<Config, "messageTrackHours" | "deleteRetryMaxSeconds" | "chatUpdatesPerMinute">;
  /** Campaign sources that are counted by name (default: src/data/campaigns.json); others count as "other". */
  campaignSources?: ReadonlySet<string>;
}

/** What the core noted when an update arrived, before any per-chat queue (see `arrive`). */
export interface Arrival {
  epoch: number;
  /** It arrived while the chat was being erased: it is erased with it and never answered. */
  drop: boolean;
}

export interface Dialog {
  /**
   * Called the moment an update arrives, before any per-chat queue: its message id is tracked at
   * once (a quick exit arriving later must delete it too) and the chat's epoch is noted, so an
   * update that waited behind an exit is dropped unanswered. Both channels, one rule.
   */
  arrive(incoming: Incoming): Arrival;
  handle(incoming: Incoming, arrival?: Arrival): Promise<void>;
  /**
   * Sends an answer the outbox kept through a long flood wait (R3), if the conversation it answers is
   * still the chat's (no exit, no new start since); its messages are tracked like any other.
   * Returns false when it was dropped.
   */
  deliverDeferred(
    address: Address,
    screen: Screen,
    locale: Locale,
    since: Date,
    expireMinutes?: number,
  ): Promise<boolean>;
  /** True for any quick-exit trigger; adapters let these skip per-chat queues (S1). */
  isExit(input: Input): boolean;
  wipe(address: Address, locale: Locale, reason: string): Promise<void>;
  eraser: Eraser;
}

export function createDialog(deps: DialogDeps): Dialog {
  const { store, translator, logger } = deps;
  const campaignSources = deps.campaignSources ?? loadCampaignSources();
  const exitLabels = translator.all("common.exitButton");
  const eraser = createEraser({
    store,
    channels: deps.channels,
    translator,
    coverText: deps.config.coverText,
    messageTrackHours: deps.config.messageTrackHours,
    retryMaxMs: deps.config.deleteRetryMaxSeconds * 1000,
    now: deps.now,
    logger,
  });
  const epochOf = eraser.epoch;
  const pace = createChatPace(deps.config.chatUpdatesPerMinute);

  const isExit = (input: Input): boolean =>
    (input.type === "command" && input.command === "exit") ||
    (input.type === "text" && isExitWord(input.text, exitLabels));

  async function wipe(address: Address, locale: Locale, reason: string) {
    const r = deps.reports;
    // Drafts go; submitted reports stay, locked in this chat until the case word is given, and
    // nothing is sent to it until the person writes again (S5, S6, decision 10).
    const reports = r
      ? Promise.all([r.reports.deleteDraft(address), r.reports.holdRelays(address, deps.now())]).then(([, held]) =>
          r.reports.audit(
            {
              actor: "reporter",
              action: reason === "user" ? "quick_exit" : reason.replace(/-/g, "_"),
              result: held.length ? `held ${held.length}` : "ok",
            },
            deps.now(),
          ),
        )
      : undefined;
    await Promise.all([reports, eraser.wipe(address, locale, { cover: true, reason })]);
  }

  function arrive(incoming: Incoming): Arrival {
    const { address } = incoming;
    const at = deps.now();
    const ref = incoming.messageId ? [{ id: incoming.messageId, fromBot: false, at }] : [];
    const drop = eraser.erasing(address);
    // Queued now, in arrival order: the exit's marker commits every write queued before it.
    const tracked = drop ? eraser.adopt(address, deps.config.defaultLocale, ref) : store.trackMessages(address, ref);
    tracked.catch((err) =>
      logger.error("dialog.track_failed", { channel: splitAddress(address).channel, ...describeError(err) }),
    );
    return { epoch: epochOf(address), drop };
  }

  function ctxFor(session: SessionRecord): FlowCtx {
    const locale = session.locale ?? deps.config.defaultLocale;
    const channel = splitAddress(session.address).channel;
    return { deps, session, locale, channel, t: translator.forChannel(locale, channel) };
  }

  async function handle(incoming: Incoming, arrival = arrive(incoming)): Promise<void> {
    const { address, input } = incoming;
    const { channel: channelName, chatId } = splitAddress(address);
    const channel = deps.channels[channelName];
    if (!channel) return;
    const now = deps.now();
    const epoch = arrival.epoch;
    // It came before an exit (it waited behind a slow answer) or while one ran: erased with the
    // chat, never answered, so nothing appears under the cover (S6).
    if (arrival.drop || epochOf(address) !== epoch) {
      logger.info("dialog.dropped_after_exit", { channel: channelName });
      return;
    }
    let session = await store.getSession(address);
    if (isExit(input)) {
      await wipe(
        address,
        session?.locale ?? translator.negotiate(incoming.languageHint, deps.config.defaultLocale),
        "user",
      );
      return;
    }
    // A flood from one chat (30 × /start in 3 s) gets one calm notice, then silence until it slows
    // down; its messages are tracked all the same, so a quick exit still deletes them.
    const verdict = pace.take(address, deps.now().getTime());
    if (verdict !== "ok") {
      logger.info("dialog.paced", { channel: channelName, reason: verdict });
      if (verdict === "notice")
        await notice(
          channel,
          chatId,
          address,
          session?.locale ?? translator.negotiate(incoming.languageHint, deps.config.defaultLocale),
          "fallback.slowDown",
          epoch,
        );
      return;
    }
    // A button on a message a wipe is still deleting (the platform failed meanwhile) is not a person
    // writing again: no answer, the wipe deletes the message.
    if (!session && input.type === "option" && (await store.hasPendingExit(address))) {
      logger.info("dialog.dropped_after_exit", { channel: channelName });
      return;
    }
    if (deps.reports) {
      // Writing again lifts a hold on replies, never the lock a quick exit put on the chat's reports
      // (only the case word does, decision 10): held staff replies of unlocked reports are knocked now.
      const released = await deps.reports.reports.touchRelays(address, now);
      if (released.length) deps.reports.kick();
    }
    const knock = input.type === "option" && input.token.startsWith("k:");
    const firstContact = !session && !knock;
    session ??= {
      address,
      locale: translator.negotiate(incoming.languageHint, deps.config.defaultLocale),
      country: null,
      state: null,
      autoEraseMinutes: null,
      limitsShown: false,
      lastSeenAt: now,
      createdAt: now,
    };
    session.lastSeenAt = now;

    // A campaign link: language, country and region at once, and its source counted (issue 17). On
    // Telegram it is /start's payload; on WhatsApp, "#<payload>" in a first message (a poster's
    // wa.me link fills it in).
    const payload =
      input.type === "command" && input.command === "start"
        ? input.args.trim()
        : firstContact && input.type === "text"
          ? (WA_LINK.exec(input.text)?.[1] ?? "")
          : "";
    const link = payload ? parseStartLink(payload, deps.directory) : null;
    if (link) {
      if (link.locale) session.locale = link.locale;
      if (link.country) session.country = link.country;
      if (link.source)
        await store
          .countSource(countedSource(link.source, campaignSources), now)
          .catch((err) => logger.warn("dialog.count_failed", describeError(err)));
    }
    let view: View;
    try {
      view = link
        ? linkedStartView(ctxFor(session), link)
        : firstContact
          ? welcomeView(ctxFor(session))
          : await route(router, session, input);
    } catch (err) {
      logger.error("dialog.failed", { channel: channelName, state: session.state?.screen, ...describeError(err) });
      view = menuView(ctxFor(session), ctxFor(session).t("fallback.error"));
    }
    await show(channel, chatId, session, view, epoch);
  }

  /**
   * Sends a screen, then saves the session (with its fresh nonce) and the answer's message ids in
   * one commit. Saving after the send is safe: one chat's updates run in order, so the next press
   * waits for this save; a crash in between leaves the old state, and the press is answered as a
   * stale button. A chat wiped meanwhile is not brought back.
   */
  async function show(channel: Channel, chatId: string, session: SessionRecord, view: View, epoch: number) {
    if (epochOf(session.address) !== epoch) return; // the chat was wiped meanwhile
    const nonce = randomBytes(4).toString("base64url");
    const options = view.options ?? [];
    session.state = { v: STATE_VERSION, nonce, options, ...view.state };
    const screen: Screen = {
      messages: view.messages,
      options: options.map((o, i) => ({ id: `${nonce}.${i}`, label: o.label })),
      columns: view.columns,
      askLocation: view.askLocation,
      protect: view.protect,
    };
    const locale = session.locale ?? deps.config.defaultLocale;
    let tracked: TrackedRef[];
    try {
      tracked = asTracked(await sendKeepingPartial(channel, chatId, session.address, screen, locale, epoch));
    } catch (err) {
      // A flood wait longer than a handler may wait (R3): the rest of the answer goes to the outbox,
      // which sends it when the wait is over. The screen's state is saved now, so its buttons work then.
      if (
        err instanceof ChannelError &&
        err.kind === "throttled" &&
        deps.reports &&
        epochOf(session.address) === epoch
      ) {
        await store.saveSession(session);
        await deps.reports.defer(
          session.address,
          { ...screen, messages: screen.messages.slice(err.sent.length) },
          locale,
          session.createdAt,
          new Date(deps.now().getTime() + (err.retryAfterSeconds ?? 5) * 1000),
          view.expireMinutes,
        );
        logger.warn("dialog.answer_deferred", {
          channel: splitAddress(session.address).channel,
          retry_after: err.retryAfterSeconds,
        });
        return;
      }
      throw err;
    }
    if (epochOf(session.address) !== epoch) {
      // An exit ran while this was being sent: these belong to what it erases (durably, like the rest).
      await eraser.adopt(session.address, locale, tracked);
      return;
    }
    await store.saveSession(session, tracked, { lazy: true });
    if (view.expireMinutes)
      await store.scheduleDelete(
        session.address,
        tracked.map((r) => r.id),
        new Date(deps.now().getTime() + view.expireMinutes * 60_000),
      );
  }

  /** The welcome (the exit hint and the emergency numbers come first, always), then the region's services or the menu. */
  function linkedStartView(ctx: FlowCtx, link: StartLink): View {
    const place = link.regionId ? deps.directory.place(link.regionId) : undefined;
    if (!link.locale) return welcomeView(ctx);
    return welcomeView(
      ctx,
      place ? placeResultsView(ctx, place) : ctx.session.country ? menuView(ctx) : countryView(ctx),
    );
  }

  const asTracked = (refs: SentRef[]): TrackedRef[] => refs.map((r) => ({ id: r.id, fromBot: true, at: r.at }));
  /** Message ids that went out: the wipe's if one began since `epoch`, else the chat's. */
  const keepIds = (address: Address, locale: Locale, epoch: number, tracked: TrackedRef[]) =>
    epochOf(address) !== epoch ? eraser.adopt(address, locale, tracked) : store.trackMessages(address, tracked);

  /**
   * Sends a screen. When it fails part way, the messages that went out before are kept all the same
   * (a quick exit must find them) and the error goes on, carrying them.
   */
  async function sendKeepingPartial(
    channel: Channel,
    chatId: string,
    address: Address,
    screen: Screen,
    locale: Locale,
    epoch: number,
  ): Promise<SentRef[]> {
    try {
      return await channel.send(chatId, screen, locale);
    } catch (err) {
      const partial = asTracked(err instanceof ChannelError ? err.sent : []);
      if (partial.length) await keepIds(address, locale, epoch, partial);
      throw err;
    }
  }

  /** One line that is not a screen: the session (and the buttons last shown) stay as they were. */
  async function notice(
    channel: Channel,
    chatId: string,
    address: Address,
    locale: Locale,
    key: string,
    epoch: number,
  ) {
    const t = translator.forChannel(locale, splitAddress(address).channel);
    const refs = await sendKeepingPartial(
      channel,
      chatId,
      address,
      { messages: [{ kind: "text", text: t(key) }], options: [] },
      locale,
      epoch,
    );
    await keepIds(address, locale, epoch, asTracked(refs));
  }

  const rd = deps.reports ? { ...deps.reports, now: deps.now } : null;
  function reportCtx(session: SessionRecord): ReportCtx | null {
    return rd ? { ...ctxFor(session), rd, address: session.address } : null;
  }
  const router: Router = { ctxFor, reportCtx, deps };

  async function deliverDeferred(
    address: Address,
    screen: Screen,
    locale: Locale,
    since: Date,
    expireMinutes?: number,
  ): Promise<boolean> {
    const { channel: name, chatId } = splitAddress(address);
    const channel = deps.channels[name];
    const session = await store.getSession(address);
    // Erased since, or a new conversation: the answer belongs to nothing on screen any more.
    if (
      !channel ||
      !session ||
      session.createdAt.getTime() !== since.getTime() ||
      eraser.erasing(address) ||
      (await store.hasPendingExit(address))
    ) {
      logger.info("dialog.deferred_dropped", { channel: name });
      return false;
    }
    const epoch = epochOf(address);
    const tracked = asTracked(await sendKeepingPartial(channel, chatId, address, screen, locale, epoch));
    await keepIds(address, locale, epoch, tracked);
    // A staff reply shown late is deleted on the same clock as one shown at once (S8).
    if (expireMinutes && epochOf(address) === epoch)
      await store.scheduleDelete(
        address,
        tracked.map((r) => r.id),
        new Date(deps.now().getTime() + expireMinutes * 60_000),
      );
    return true;
  }

  return { arrive, handle, deliverDeferred, isExit, wipe, eraser };
}
