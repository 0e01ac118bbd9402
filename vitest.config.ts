import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["./test/support/global-setup.ts"],
    // Bounds on failures, not targets: a test on a machine whose cores are busy elsewhere takes
    // longer, and must still pass.
    testTimeout: 90_000,
    hookTimeout: 60_000,
    // Two cores: keep the number of bots and databases running at once small.
    maxWorkers: 2,
    reporters: ["default", "./test/support/summary-reporter.ts"],
  },
});
