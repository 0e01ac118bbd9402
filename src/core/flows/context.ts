/** What every flow receives, and what it returns. */
import type { Config, Locale } from "../../config.ts";
import type { T, Translator } from "../i18n.ts";
import type { Directory } from "../directory/search.ts";
import type { TownMatcher } from "../directory/towns.ts";
import type { DialogState, SessionRecord } from "../store.ts";
import type { ChannelName, Country, Option, OutMessage } from "../types.ts";

export interface FlowDeps {
  translator: Translator;
  directory: Directory;
  towns: TownMatcher;
  config: Pick<Config, "nearRadiusKm" | "defaultLocale" | "coverText">;
  /** Reports, when set up: where a region's requests go (null: nowhere). */
  reports?: { staffChatFor(regionId: string | null): number | null; directoryChat?: number | null };
}

export interface FlowCtx {
  deps: FlowDeps;
  session: SessionRecord;
  locale: Locale;
  /** Where the person is: texts say what is true there (decision 7), and some steps differ. */
  channel: ChannelName;
  /** Texts in the person's language, for their channel where a text differs per channel. */
  t: T;
}

/** A screen plus the state to remember with it. The dialog adds the nonce. */
export interface View {
  messages: OutMessage[];
  options?: Option[];
  columns?: number;
  askLocation?: boolean;
  protect?: boolean;
  /** Delete these messages after so many minutes (S8). */
  expireMinutes?: number;
  state: Omit<DialogState, "v" | "nonce" | "options">;
}

export const countryOf = (ctx: FlowCtx): Country | null => ctx.session.country;
export const text = (t: string, phones?: string[]): OutMessage =>
  phones?.length ? { kind: "text", text: t, phones } : { kind: "text", text: t };
export const menuOption = (t: T): Option => ({ id: "menu", label: t("common.menuButton") });
