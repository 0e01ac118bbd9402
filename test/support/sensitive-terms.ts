/**
 * Words that must never appear in what a stranger may see on a locked screen
 * or in an emptied chat: the bot's profile, its command list, the cover
 * message and proactive messages (S3, S8). Stems, matched case-insensitively.
 */
export const SENSITIVE_TERMS: Record<string, string[]> = {
  ru: [
    "насил",
    "жесток",
    "избие",
    "побо",
    "абьюз",
    "убежищ",
    "приют",
    "кризис",
    "полици",
    "милици",
    "довери",
    "жалоб",
    "заявлен",
    "сообщить о",
    "помощь жертв",
    "спасени",
  ],
  kk: ["зорлық", "зомбылық", "дағдарыс", "полиция", "баспана", "сенім телефон", "шағым", "арыз", "құрбан"],
  ky: ["зомбулук", "зордук", "кризис", "милиция", "баш калкалоо", "ишеним телефон", "арыз", "даттануу", "жабырлануучу"],
  en: ["violence", "abuse", "shelter", "police", "report", "crisis", "hotline", "helpline", "trust line", "victim"],
};

export function sensitiveTermsIn(text: string): string[] {
  const lower = text.toLowerCase();
  return [...new Set(Object.values(SENSITIVE_TERMS).flat())].filter((t) => lower.includes(t));
}
