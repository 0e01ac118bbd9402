/**
 * A report filed straight into the store, with its card to a staff group: for queue and delivery
 * tests, and for the benchmark (bench/outbox-pass.ts), so it imports nothing of the test runner.
 */
import crypto from "node:crypto";
import type { ReportStore, NewReport } from "../../src/core/reports/types.ts";
import { newReportCode } from "../../src/core/safety/sealer.ts";
import type { Address } from "../../src/core/types.ts";

export async function seedReport(
  reports: ReportStore,
  address: Address,
  staffChatId: number,
  over: Partial<NewReport> = {},
  at = new Date(),
) {
  const id = crypto.randomBytes(12).toString("base64url");
  return reports.submit(
    {
      id,
      code: newReportCode(),
      channel: "telegram",
      locale: "ru",
      country: "KZ",
      regionId: "kz-shymkent",
      about: "other",
      kinds: ["physical"],
      urgent: false,
      highRisk: false,
      riskAnswers: null,
      text: "Соседку бьют.",
      contact: "any",
      caseWord: null,
      staffChatId,
      ...over,
    },
    address,
    [{ dedupeKey: `card:${id}`, target: `staff:${staffChatId}`, payload: { type: "card", reportId: id } }],
    at,
  );
}
