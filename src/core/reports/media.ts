/**
 * Photos and voice notes inside a report (issue 26), on both channels. What a channel hands over is
 * a sealed reference (a Telegram file id, or the WhatsApp message to download later), never bytes:
 * the draft and the outbox keep only that, sealed like the rest of the report (P3).
 */
import type { Input, OutMessage } from "../types.ts";
import { menuOption, text, type FlowCtx, type View } from "../flows/context.ts";
import { dangerView } from "../flows/lines.ts";
import { menuView } from "../flows/start.ts";
import { MAX_PHOTOS, MAX_VOICES, type ReportCtx, saveDraft } from "./context.ts";
import { advance, stepView } from "./draft.ts";
import type { Draft } from "./types.ts";

type MediaInput = Extract<Input, { type: "media" }>;

/** Where a voice note or a photo is taken: the story step and the step after it. */
const TAKES_MEDIA = new Set(["text", "photos"]);

/** A photo, voice note, file or sticker sent inside the flow: taken where it may be, else said kindly, keeping the place (C#3). */
export async function reportMedia(ctx: ReportCtx, media: MediaInput): Promise<View | null> {
  if (!ctx.session.state?.screen.startsWith("report:")) return null;
  const { t } = ctx;
  const d = await ctx.rd.reports.getDraft(ctx.address);
  if (!d) return null;
  const say = (key: string, vars?: Record<string, unknown>): OutMessage[] => [text(t(key, vars))];
  // Said as it is at this step: a request to be written to takes no files, the other steps point to the story.
  if (d.request === "callback") return stepView(ctx, d, say("report.mediaNotInRequest"));
  if (!TAKES_MEDIA.has(d.step)) return stepView(ctx, d, say("report.mediaOnlyInStory"));
  // A picture or a recording sent as a file keeps its metadata (place, author): it is not taken (P3).
  if (media.media === "document" || media.media === "audio") return stepView(ctx, d, say("report.fileRefused"));
  if (media.media === "photo" && media.ref) {
    const photos = d.photos ?? [];
    if (photos.length >= MAX_PHOTOS) return stepView(ctx, d, say("report.photoLimit", { max: MAX_PHOTOS }));
    const next = { ...d, photos: [...photos, media.ref] };
    await saveDraft(ctx, next);
    return stepView(ctx, next, say("report.photoAdded", { count: next.photos.length, max: MAX_PHOTOS }));
  }
  if (media.media === "voice" && media.ref) {
    const voices = d.voices ?? [];
    if (voices.length >= MAX_VOICES) return stepView(ctx, d, say("report.voiceLimit", { max: MAX_VOICES }));
    const limit = ctx.rd.voiceMaxSeconds;
    const seconds = Math.max(0, Math.round(media.seconds ?? 0));
    if (seconds > limit)
      return stepView(ctx, d, say("report.voiceTooLong", { minutes: Math.max(1, Math.floor(limit / 60)) }));
    const added: Draft = { ...d, voices: [...voices, { ref: media.ref, seconds }] };
    // Spoken instead of typed: the voice is the story, and the next step offers more.
    const next = d.step === "text" ? advance(added) : added;
    await saveDraft(ctx, next);
    return stepView(ctx, next, say("report.voiceAdded", { count: added.voices!.length, max: MAX_VOICES }));
  }
  return stepView(ctx, d, say("report.mediaNotTaken"));
}

/**
 * A voice note outside a report: never listened to. On the danger screen, the emergency block again;
 * elsewhere, where reports are taken, the calm offer of one, where a voice is taken.
 */
export function voiceOutsideView(ctx: FlowCtx, reportsOpen: boolean): View {
  const { t } = ctx;
  if (ctx.session.state?.screen === "danger") {
    const danger = dangerView(ctx);
    return { ...danger, messages: [text(t("fallback.voiceDanger")), ...danger.messages] };
  }
  if (!reportsOpen) return menuView(ctx, t("fallback.media"));
  return {
    messages: [text(t("fallback.voice"))],
    options: [{ id: "report", label: t("menu.report") }, menuOption(t)],
    columns: 1,
    state: { screen: "menu" },
  };
}
