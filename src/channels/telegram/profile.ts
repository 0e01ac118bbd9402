/**
 * The bot's public face comes from the locales and is neutral (S3): an emptied
 * chat shows the description. Only what differs is set, since Telegram limits
 * how often a name may change.
 */
import type { Api } from "grammy";
import type { LanguageCode } from "grammy/types";
import { LOCALES, type Locale } from "../../config.ts";
import type { Translator } from "../../core/i18n.ts";

export const COMMANDS = ["start", "menu", "language", "exit"] as const;

export function profileTexts(translator: Translator, locale: Locale) {
  const t = translator.fixed(locale);
  return {
    name: t("profile.name"),
    description: t("profile.description"),
    shortDescription: t("profile.shortDescription"),
    commands: COMMANDS.map((c) => ({ command: c, description: t(`commands.${c}`) })),
  };
}

export async function syncProfile(api: Api, translator: Translator, defaultLocale: Locale): Promise<number> {
  let changed = 0;
  // "" is the default shown to clients whose language has no dedicated texts.
  const targets: Array<[Locale, LanguageCode | undefined]> = [[defaultLocale, undefined], ...LOCALES.map((l) => [l, l] as [Locale, LanguageCode])];
  for (const [locale, code] of targets) {
    const want = profileTexts(translator, locale);
    const lang = code ? { language_code: code } : {};
    if ((await api.getMyName(lang)).name !== want.name) (await api.setMyName(want.name, lang), changed++);
    if ((await api.getMyDescription(lang)).description !== want.description) (await api.setMyDescription(want.description, lang), changed++);
    if ((await api.getMyShortDescription(lang)).short_description !== want.shortDescription) (await api.setMyShortDescription(want.shortDescription, lang), changed++);
    await api.setMyCommands(want.commands, { ...lang, scope: { type: "all_private_chats" } });
  }
  return changed;
}
