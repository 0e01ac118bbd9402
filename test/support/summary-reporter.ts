/**
 * Prints the plain closing line CI reads: "N passed, N failed" (plus skipped).
 * It counts test cases, not files. Above that line it names each failed test with the first
 * line of its error, so that the last screen of a CI log says what failed, not only how many.
 */
import type { Reporter, TestModule } from "vitest/node";

export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>, errors: ReadonlyArray<unknown>) {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const named: string[] = [];
    for (const m of modules) {
      const file = m.moduleId.replace(`${process.cwd()}/`, "");
      for (const t of m.children.allTests()) {
        const result = t.result();
        if (result.state === "passed") passed++;
        else if (result.state === "failed") {
          failed++;
          named.push(`FAILED ${file} > ${t.fullName}: ${firstLine(result.errors?.[0])}`);
        } else skipped++;
      }
      // A file that failed to load has no tests but must still count as a failure.
      if (m.state() === "failed" && ![...m.children.allTests()].some((t) => t.result().state === "failed")) {
        failed++;
        named.push(`FAILED ${file}: ${firstLine(m.errors()[0])}`);
      }
    }
    for (const e of errors) named.push(`FAILED outside a test: ${firstLine(e)}`);
    failed += errors.length;
    const list = named.length ? `\n${named.join("\n")}\n` : "";
    process.stdout.write(`${list}\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}\n`);
  }
}

function firstLine(error: unknown): string {
  const message =
    typeof error === "object" && error !== null && "message" in error ? String(error.message) : String(error);
  return (message.split("\n")[0] ?? "").slice(0, 300);
}
