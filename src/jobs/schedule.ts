/**
 * The app's scheduled chores, by name and cron expression: what each one calls. `startJobs` runs
 * them (never overlapping, in the configured timezone); the work itself lives in the core and db/.
 */
import path from "node:path";
import type { Config, Locale } from "../config.ts";
import type { Channel } from "../core/channel.ts";
import type { DirectoryDesk } from "../core/directory/desk.ts";
import type { DirectoryStore } from "../core/directory/store.ts";
import { runDigest, runEscalation } from "../core/reports/jobs.ts";
import type { StaffDesk } from "../core/reports/staff.ts";
import type { ReportStore } from "../core/reports/types.ts";
import { runAutoErase, runExpiry, runRetention } from "../core/safety/housekeeping.ts";
import type { Store } from "../core/store.ts";
import type { Address, ChannelName } from "../core/types.ts";
import { backupDatabase, purgeSetAside, verifyBackup } from "../db/backup.ts";
import type { JobSpec } from "./index.ts";

export interface ScheduleDeps {
  config: Config;
  /** The sealing key, for the backup and its check. */
  key: Buffer;
  store: Store;
  reports: ReportStore;
  channels: Partial<Record<ChannelName, Channel>>;
  wipe: (address: Address, locale: Locale, reason: string) => Promise<void>;
  desk: StaffDesk;
  directory: { desk: DirectoryDesk; store: DirectoryStore };
  staffChats: number[];
  kick(): void;
  now: () => Date;
}

export function appJobs(d: ScheduleDeps): JobSpec[] {
  const { config, store, reports, now, kick } = d;
  return [
    { name: "auto-erase", schedule: "* * * * *", run: () => runAutoErase({ store, now, wipe: d.wipe }) },
    { name: "retention", schedule: "7 * * * *", run: () => runRetention({ store, now, limits: config }) },
    { name: "expiry", schedule: "* * * * *", run: () => runExpiry({ store, now, channels: d.channels }) },
    {
      name: "report-retention",
      schedule: "17 * * * *",
      run: () =>
        reports.purge(now(), {
          relayDays: config.relayRetentionDays,
          textDays: config.reportTextDays,
          draftHours: 24,
          auditDays: 365,
        }),
    },
    {
      name: "escalation",
      schedule: "* * * * *",
      run: () =>
        runEscalation({
          reports,
          desk: d.desk,
          now,
          urgentMinutes: config.escalateUrgentMinutes,
          normalHours: config.escalateNormalHours,
          kick,
        }),
    },
    // Staff edits reload at once; this catches an import from the command line, pending
    // confirmations not yet posted, and phones that just passed a year unconfirmed.
    {
      name: "directory-sync",
      schedule: "* * * * *",
      async run() {
        await d.directory.desk.reload();
        await d.directory.desk.postPending();
        await d.directory.store.purgePrompts(now());
      },
    },
    {
      name: "directory-check",
      schedule: config.directoryCheckCron,
      run: () => d.directory.desk.checkRound().then(() => undefined),
    },
    {
      name: "digest",
      schedule: config.digestCron,
      run: () =>
        runDigest({
          reports,
          chats: d.staffChats,
          now,
          kick,
          sources: (since, until) => store.sourceCounts(since, until),
        }),
    },
    // A database that db:restore set aside holds reports and chats as they were: not kept for ever.
    {
      name: "restore-aside",
      schedule: "37 * * * *",
      run: async () => purgeSetAside(config.databaseFile, config.restoreKeepDays, now()).length,
    },
    {
      name: "backup",
      schedule: config.backupCron,
      async run() {
        const b = backupDatabase(config.databaseFile, config.backupDir, now(), config.backupKeep, d.key);
        // Decrypted beside the database (which holds the same), never in the backup folder.
        const check = verifyBackup(b.file, path.join(path.dirname(config.databaseFile), ".restore-check"), d.key);
        if (check.integrity !== "ok" || JSON.stringify(check.counts) !== JSON.stringify(b.counts))
          throw new Error("the new backup did not restore cleanly");
        return 1;
      },
    },
  ];
}
