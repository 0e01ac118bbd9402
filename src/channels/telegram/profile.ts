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

/**
 * Sets what differs, language by language. Every call is tried: one refused name (Telegram limits
 * renames) must not leave the description or the commands of the other languages stale. Each
 * failure is told to `failed` once, by method and reason; returns how many fields changed.
 */
export async function syncProfile(
  api: Api,
  translator: Translator,
  defaultLocale: Locale,
  failed: (method: string, err: unknown) => void = () => undefined,
): Promise<number> {
  let changed = 0;
  const told = new Set<string>();
  const attempt = async (method: string, call: () => Promise<unknown>): Promise<void> => {
    try {
      await call();
    } catch (err) {
      const key = `${method}:${err instanceof Error ? err.message : String(err)}`;
      if (!told.has(key)) (told.add(key), failed(method, err));
    }
  };
  // "" is the default shown to clients whose language has no dedicated texts.
  const targets: Array<[Locale, LanguageCode | undefined]> = [
    [defaultLocale, undefined],
    ...LOCALES.map((l) => [l, l] as [Locale, LanguageCode]),
  ];
  for (const [locale, code] of targets) {
    const want = profileTexts(translator, locale);
    const lang = code ? { language_code: code } : {};
    await attempt("setMyName", async () => {
      if ((await api.getMyName(lang)).name !== want.name) (await api.setMyName(want.name, lang), changed++);
    });
    await attempt("setMyDescription", async () => {
      if ((await api.getMyDescription(lang)).description !== want.description)
        (await api.setMyDescription(want.description, lang), changed++);
    });
    await attempt("setMyShortDescription", async () => {
      if ((await api.getMyShortDescription(lang)).short_description !== want.shortDescription)
        (await api.setMyShortDescription(want.shortDescription, lang), changed++);
    });
    await attempt("setMyCommands", () =>
      api.setMyCommands(want.commands, { ...lang, scope: { type: "all_private_chats" } }),
    );
  }
  return changed;
}
