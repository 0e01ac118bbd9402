/**
 * Schedules the core's chores with node-cron. A job only schedules: it calls
 * a core function that returns a count and logs it. Jobs never overlap, run in
 * an explicit timezone, and report failures and missed runs (O1, O2).
 */
import cron, { type ScheduledTask } from "node-cron";
import type { Logger } from "../logger.ts";
import { describeError } from "../logger.ts";

export interface JobSpec {
  name: string;
  /** Cron expression (node-cron, with optional seconds). */
  schedule: string;
  run: () => Promise<unknown>;
}

export interface Jobs {
  tasks: ScheduledTask[];
  stop(): Promise<void>;
}

export function startJobs(specs: JobSpec[], opts: { timezone: string; logger: Logger }): Jobs {
  const tasks = specs.map((spec) => {
    const log = opts.logger.child({ job: spec.name });
    // node-cron's own logger prints error messages; ours logs the job name and error class only (P5).
    const quiet = {
      info: () => undefined,
      debug: () => undefined,
      warn: () => undefined,
      error: (m: string | Error, e?: Error) => log.debug("job.cron_error", describeError(e ?? m)),
    };
    const task = cron.schedule(
      spec.schedule,
      async () => {
        const started = Date.now();
        const result = await spec.run();
        const count =
          typeof result === "number"
            ? result
            : result && typeof result === "object"
              ? Object.values(result).reduce((a: number, v) => a + (typeof v === "number" ? v : 0), 0)
              : 0;
        if (count) log.info("job.done", { count, ms: Date.now() - started });
      },
      { name: spec.name, timezone: opts.timezone, noOverlap: true, logger: quiet },
    );
    task.on("execution:failed", (c) => log.error("job.failed", describeError(c.execution?.error)));
    task.on("execution:missed", () => log.warn("job.missed"));
    task.on("execution:overlap", () => log.warn("job.overlap"));
    return task;
  });
  return {
    tasks,
    async stop() {
      for (const t of tasks) await t.destroy();
    },
  };
}
