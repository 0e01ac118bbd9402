/**
 * `npm run bench`: Qorgau against a local Bot API emulator that answers every
 * call after a delay (default 30 ms, like a real network), driven by simulated
 * people in a closed loop (each waits for the answer before the next step),
 * and a bare grammY bot on the same emulator as the framework's ceiling.
 * The bots run as child processes, so their CPU time and peak memory are
 * their own. Prints one JSON line per configuration.
 *
 *   npm run bench                      # 500 users, 30 ms, scripts, 10,000-user memory run, report burst,
 *                                      # an outbox pass with up to 10,000 staff cards queued
 *   npm run bench -- --smoke           # a few users, a few seconds (the test suite runs this)
 *   npm run bench -- --users 200 --delay 50 --burst-seconds 120 --rounds 3
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { PerformanceObserver } from "node:perf_hooks";
import v8 from "node:v8";
import vm from "node:vm";
import { BotApiEmulator } from "../src/playground/fakes/bot-api-emulator.ts";
import { projectRoot } from "../src/paths.ts";
import { measureOutboxPass } from "./outbox-pass.ts";

interface Options {
  /** Bare and Qorgau runs alternate this many times; each line reports the round with the median updates/s. */
  rounds: number;
  users: number;
  delay: number;
  memoryUsers: number;
  burst: number;
  burstSeconds: number;
  smoke: boolean;
  /** People in the everyday run: they pause about a second between steps, the default pace on. */
  everydayUsers: number;
  /** The bare bot's and Qorgau's everyday laps alternate this many times; each line reports its median p99. */
  everydayRounds: number;
  /** The everyday run's mean pause between steps, in ms (each pause is 0.5 to 1.5 times it). */
  pauseMs: number;
  /** The longest staff queue at which a pass of the outbox is timed (bench/outbox-pass.ts). */
  outboxCards: number;
  out?: string;
}

function parseArgs(argv: string[]): Options {
  const get = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const smoke = argv.includes("--smoke");
  return {
    smoke,
    rounds: Number(get("rounds") ?? (smoke ? 1 : 5)),
    users: Number(get("users") ?? (smoke ? 5 : 500)),
    delay: Number(get("delay") ?? 30),
    memoryUsers: Number(get("memory-users") ?? (smoke ? 50 : 10_000)),
    burst: Number(get("burst") ?? (smoke ? 10 : 200)),
    burstSeconds: Number(get("burst-seconds") ?? (smoke ? 5 : 60)),
    everydayUsers: Number(get("everyday-users") ?? (smoke ? 10 : 1000)),
    everydayRounds: Math.max(1, Number(get("everyday-rounds") ?? (smoke ? 1 : 3))),
    pauseMs: Number(get("pause") ?? (smoke ? 100 : 1000)),
    outboxCards: Number(get("outbox-cards") ?? (smoke ? 100 : 10_000)),
    out: get("out"),
  };
}

const STAFF = -1000000000777;

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return 0;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! * 10) / 10;
}

/**
 * CPU (user+system, ms), peak RSS (MB) and bytes sent to the disk (the database, its log and their
 * checkpoints; 0 where /proc/PID/io cannot be read) of a child process, from /proc. For its main
 * thread also the time it was ready to run but waited for a core (`mainWaitMs`, the scheduler's
 * run delay from /proc/PID/task/PID/schedstat; 0 where the kernel does not keep it): on this 2-core
 * machine the bot's other threads and the harness take cores from it too. `helpersCpuMs` is the CPU
 * of V8's worker threads (named "V8Worker" from Node 24; `null` where no thread has that name): the
 * collector's helpers, which mark and copy beside the main thread, and background compiles.
 */
function procStats(pid: number): {
  cpuMs: number;
  mainCpuMs: number;
  mainWaitMs: number;
  helpersCpuMs: number | null;
  peakRssMb: number;
  diskBytes: number;
} {
  try {
    const ticksOf = (file: string) => {
      const stat = fs.readFileSync(file, "utf8").split(") ")[1]!.split(" ");
      return Number(stat[11]) + Number(stat[12]);
    };
    const ticks = ticksOf(`/proc/${pid}/stat`);
    // The main thread alone (its thread id is the process id): the one that answers every update.
    const mainTicks = ticksOf(`/proc/${pid}/task/${pid}/stat`);
    let helperTicks: number | null = null;
    for (const task of fs.readdirSync(`/proc/${pid}/task`)) {
      try {
        if (fs.readFileSync(`/proc/${pid}/task/${task}/comm`, "utf8").trim() !== "V8Worker") continue;
        helperTicks = (helperTicks ?? 0) + ticksOf(`/proc/${pid}/task/${task}/stat`);
      } catch {
        // The thread ended between the listing and the read.
      }
    }
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    const hwm = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
    let mainWaitMs = 0;
    try {
      mainWaitMs = Number(fs.readFileSync(`/proc/${pid}/task/${pid}/schedstat`, "utf8").split(" ")[1]) / 1e6 || 0;
    } catch {
      // No scheduler statistics in this kernel: left at 0.
    }
    let diskBytes = 0;
    try {
      diskBytes = Number(/write_bytes:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/io`, "utf8"))?.[1] ?? 0);
    } catch {
      // Not readable here: left out of the line.
    }
    return {
      cpuMs: (ticks * 1000) / 100,
      mainCpuMs: (mainTicks * 1000) / 100,
      mainWaitMs,
      helpersCpuMs: helperTicks === null ? null : (helperTicks * 1000) / 100,
      peakRssMb: Math.round(hwm / 1024),
      diskBytes,
    };
  } catch {
    return { cpuMs: 0, mainCpuMs: 0, mainWaitMs: 0, helpersCpuMs: null, peakRssMb: 0, diskBytes: 0 };
  }
}

/** Starts a new peak-RSS window for a process (Linux: "5" to clear_refs resets VmHWM), so each line reports its own phase. */
function resetPeak(pid: number) {
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, "5");
  } catch {
    // Not Linux, or not allowed: the peak then covers the process's whole life.
  }
}

/** A bot's figures from /proc, and how many calls it has made to its emulator. */
function snapshot(b: Started) {
  return { ...procStats(b.child.pid!), apiCalls: b.emu.apiCalls };
}

function during(a: ReturnType<typeof procStats> & { apiCalls?: number }, b: typeof a) {
  return {
    apiCalls: a.apiCalls === undefined || b.apiCalls === undefined ? undefined : b.apiCalls - a.apiCalls,
    cpuMs: b.cpuMs - a.cpuMs,
    mainCpuMs: b.mainCpuMs - a.mainCpuMs,
    mainWaitMs: b.mainWaitMs - a.mainWaitMs,
    helpersCpuMs: a.helpersCpuMs === null || b.helpersCpuMs === null ? null : b.helpersCpuMs - a.helpersCpuMs,
    peakRssMb: b.peakRssMb,
    diskBytes: b.diskBytes - a.diskBytes,
  };
}

/** A full collection of this process's heap, asked for between runs (V8's `gc`, without a flag at start). */
let fullGc: (() => void) | undefined;
function collectGarbage(): void {
  if (!fullGc) {
    v8.setFlagsFromString("--expose-gc");
    fullGc = vm.runInNewContext("gc") as () => void;
  }
  fullGc();
}

/**
 * What the process that measures (the simulated people and the emulators) takes while it measures:
 * its CPU, and its collector's longest pause, which delays every answer it is waiting for, whichever
 * bot it measures. `from` restarts the count (the everyday run counts from its second lap); `stop`
 * ends it when the people are done, and `figures` gives it.
 */
function watchHarness() {
  let cpu = procStats(process.pid).cpuMs;
  let since = performance.now();
  const pauses: number[] = [];
  const gc = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if (e.startTime >= since) pauses.push(e.duration);
  });
  gc.observe({ entryTypes: ["gc"] });
  let cpuMs = 0;
  let figures = { harness_cpu_cores: 0, harness_gc_max_ms: 0 };
  return {
    from() {
      cpu = procStats(process.pid).cpuMs;
      since = performance.now();
      pauses.length = 0;
    },
    stop() {
      gc.takeRecords().forEach((e) => e.startTime >= since && pauses.push(e.duration));
      gc.disconnect();
      const seconds = (performance.now() - since) / 1000;
      cpuMs = procStats(process.pid).cpuMs - cpu;
      figures = {
        harness_cpu_cores: Math.round((cpuMs / 1000 / seconds) * 100) / 100,
        harness_gc_max_ms: Math.round(Math.max(0, ...pauses) * 10) / 10,
      };
    },
    /**
     * With the updates counted, also what the harness took for each: it answers every call the bot
     * makes, so a bot that makes more calls an update costs it more, on the cores they share.
     */
    figures: (updates?: number) =>
      updates ? { ...figures, harness_cpu_ms_per_update: Math.round((cpuMs / updates) * 100) / 100 } : figures,
  };
}

/** Both bots run as built by `npm run build` (plain JavaScript, as `npm start` runs it): no compiler in their memory. */
function build() {
  execFileSync("npm", ["run", "build", "--silent"], { cwd: projectRoot, stdio: ["ignore", "ignore", "inherit"] });
}

/** How `npm start` runs the bot (its environment and Node flags: memory limits), so the bench measures the bot as it runs. */
export function startCommand(root = projectRoot): { env: Record<string, string>; flags: string[] } {
  const start = (JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { scripts: { start: string } })
    .scripts.start;
  const m = /(?:^|&& )((?:[A-Z_]+=\S+ )*)exec node ((?:--\S+ )*)dist\/src\/main\.mjs/.exec(start);
  if (!m) throw new Error(`cannot read how the start script runs the bot: ${start}`);
  const words = (s: string) => s.split(" ").filter(Boolean);
  return { env: Object.fromEntries(words(m[1]!).map((w) => w.split("=") as [string, string])), flags: words(m[2]!) };
}

function startChild(
  file: string,
  env: Record<string, string>,
  flags: string[] = [],
  cwd = projectRoot,
): { child: ChildProcess; exited: Promise<number | null>; output: () => string } {
  // BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the bots.
  const extra = (process.env.BENCH_NODE_ARGS ?? "").split(" ").filter(Boolean);
  const child = spawn(process.execPath, [...flags, ...extra, file], {
    cwd,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? os.tmpdir(), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (d) => (out = (out + d).slice(-20_000)));
  child.stderr!.on("data", (d) => (out = (out + d).slice(-20_000)));
  return { child, exited: new Promise((r) => child.on("exit", (c) => r(c))), output: () => out };
}

type Started = ReturnType<typeof startChild> & { emu: BotApiEmulator };

/** A bot as a child process on its own emulator, started and waiting for updates. */
async function startBot(
  file: string,
  delay: number,
  env: Record<string, string>,
  flags: string[] = [],
  cwd = projectRoot,
): Promise<Started> {
  const emu = await new BotApiEmulator().start();
  emu.latencyMs = delay;
  const child = startChild(file, { BOT_TOKEN: emu.token, TELEGRAM_API_ROOT: emu.apiRoot, ...env }, flags, cwd);
  await waitStarted(emu, child);
  emu.record = false;
  return { ...child, emu };
}

/**
 * `expect`: how many answers end the step. An exit step ends when the cover arrives instead
 * (answers to what was typed just before it are dropped or taken back, so they cannot be counted).
 */
type Step = {
  name: string;
  /**
   * Acts for the person. A step whose last action comes later (a person typing on) calls `acted`
   * then: its answer is timed from that action, as every other step's is from its one action.
   */
  do: (emu: BotApiEmulator, chat: number, acted: () => void) => void;
  expect: number;
  exit?: boolean;
  sends?: number;
};

const COVER = "Список покупок: хлеб, молоко, яблоки.";

function press(label: string | RegExp): (emu: BotApiEmulator, chat: number) => void {
  return (emu, chat) => {
    const sent = emu.sent(chat);
    for (let i = sent.length - 1; i >= 0; i--) {
      const rows = sent[i]!.payload.reply_markup?.inline_keyboard as
        Array<Array<{ text: string; callback_data: string }>> | undefined;
      const b = rows?.flat().find((x) => (typeof label === "string" ? x.text === label : label.test(x.text)));
      if (b) return void emu.press(chat, sent[i]!.id, b.callback_data);
    }
    throw new Error(`no button ${label} in chat ${chat}`);
  };
}
const text = (t: string) => (emu: BotApiEmulator, chat: number) => void emu.sendText(chat, t);

/** A survivor's session: start, language, help near me with a location, trust lines, a full report, quick exit. */
const QORGAU_SCRIPT: Step[] = [
  { name: "start", do: text("/start"), expect: 2 },
  { name: "language", do: press("Русский"), expect: 1 },
  { name: "country", do: press(/Казахстан/), expect: 1 },
  { name: "help near me", do: press("📍 Помощь рядом"), expect: 2 },
  { name: "location", do: (emu, chat) => void emu.sendLocation(chat, 43.24, 76.89), expect: 2 },
  { name: "menu", do: press("☰ Меню"), expect: 1 },
  { name: "trust lines", do: press("☎ Телефоны доверия"), expect: 1 },
  { name: "menu", do: press("☰ Меню"), expect: 1 },
  { name: "tell what happened", do: press("✍ Рассказать, что случилось"), expect: 1 },
  { name: "consent", do: press("Понятно, дальше"), expect: 1 },
  { name: "about whom", do: press("С другим взрослым"), expect: 1 },
  { name: "what happens", do: press(/Угрожают/), expect: 1 },
  { name: "kinds done", do: press("Готово ✔"), expect: 1 },
  { name: "danger now: no", do: press("Нет"), expect: 1 },
  { name: "where: skip", do: press("Пропустить"), expect: 1 },
  { name: "text", do: text("За стеной опять кричат, слышны угрозы."), expect: 1 },
  { name: "photos: next", do: press("Дальше"), expect: 1 },
  { name: "contact: no", do: press("Нет, не связываться"), expect: 1 },
  { name: "case word: skip", do: press("Пропустить"), expect: 1 },
  { name: "send", do: press("📨 Отправить"), expect: 2 },
  // The race of issue 13: a disclosure typed, then the exit 20 ms later, before the answer came.
  {
    name: "exit",
    do: (emu, chat, acted) => (
      emu.sendText(chat, "Муж опять бил меня вчера."),
      void setTimeout(() => (emu.sendText(chat, "/exit"), acted()), 20)
    ),
    expect: 1,
    exit: true,
    sends: 2,
  },
];

const BARE_SCRIPT: Step[] = Array.from({ length: 21 }, (_, i) =>
  i % 2 === 0 ? { name: "text", do: text(`hello ${i}`), expect: 1 } : { name: "button", do: press("A"), expect: 1 },
);

interface RunResult {
  updates: number;
  seconds: number;
  latencies: number[];
  /** Step name → its reply latencies. */
  byStep: Map<string, number[]>;
  exitLatencies: number[];
  /** From the exit to its cover: the moment the chat is safe to show. */
  exitCoverLatencies: number[];
  /** Chats whose exit left anything but the cover (checked after the run). */
  exitLeftovers: number;
  errors: number;
  /** Step index → how many users failed there (a missing button, or no answer in time). */
  failedAt: Record<number, number>;
}

/**
 * People at every stage of the dialog at once, as on an ordinary day: each of `users` starts at a
 * random moment of the first `warmMs`, goes through the script again and again (a new chat each
 * time) until `untilMs`, and only the steps begun after `warmMs` are counted.
 */
interface Steady {
  warmMs: number;
  untilMs: number;
}

/**
 * Runs every user through the script in a closed loop, `concurrency` users at a time (all at once by
 * default); with `steady`, `users` people go round it for a while instead (above).
 */
async function drive(
  emu: BotApiEmulator,
  users: number,
  firstChat: number,
  script: Step[],
  {
    stepTimeoutMs = 60_000,
    concurrency = users,
    pauseMs,
    steady,
    peopleDone,
  }: {
    stepTimeoutMs?: number;
    concurrency?: number;
    /** A person's pause after each answer, in ms (none: machine speed). */
    pauseMs?: () => number;
    steady?: Steady;
    /** Called when the people are done, before the wait for what exits left behind. */
    peopleDone?: () => void;
  } = {},
): Promise<RunResult> {
  const latencies: number[] = [];
  // In the script's order, whoever answers first.
  const byStep = new Map<string, number[]>(script.map((s) => [s.name, []]));
  const exitLatencies: number[] = [];
  const exitCoverLatencies: number[] = [];
  const exitChats: number[] = [];
  let updates = 0;
  let errors = 0;
  const failedAt: Record<number, number> = {};
  const fail = (i: number) => {
    errors++;
    failedAt[i] = (failedAt[i] ?? 0) + 1;
  };
  const waiters = new Map<number, () => void>();
  const firstDelete = new Map<number, number>();
  const outer = emu.onCall;
  emu.onCall = (call) => {
    outer?.(call);
    const chat = Number(call.payload.chat_id);
    if (call.method === "deleteMessages" && !firstDelete.has(chat)) firstDelete.set(chat, performance.now());
    waiters.get(chat)?.();
  };
  const t0 = performance.now();
  const counted = (at: number) => !steady || at - t0 >= steady.warmMs;
  const over = () => !!steady && performance.now() - t0 >= steady.untilMs;
  let nextUser = 0;
  const person = async (u: number) => {
    const chat = firstChat + u;
    for (const [i, step] of script.entries()) {
      if (over()) return;
      const before = emu.sent(chat).length;
      const started = performance.now();
      let acted = started;
      try {
        step.do(emu, chat, () => (acted = performance.now()));
      } catch {
        fail(i);
        return;
      }
      if (counted(started)) updates += step.sends ?? 1;
      const ok = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => {
          waiters.delete(chat);
          resolve(false);
        }, stepTimeoutMs);
        const done = step.exit
          ? () =>
              emu
                .sent(chat)
                .slice(before)
                .some((m) => m.text === COVER)
          : () => emu.sent(chat).length >= before + step.expect;
        const check = () => {
          if (done()) {
            clearTimeout(timer);
            waiters.delete(chat);
            resolve(true);
          }
        };
        waiters.set(chat, check);
        check();
      });
      if (!ok) {
        fail(i);
        return;
      }
      if (counted(started)) {
        // From the person's last action: the exit's 20 ms between the disclosure and the /exit are hers.
        const answeredAt = performance.now();
        latencies.push(answeredAt - acted);
        byStep.get(step.name)!.push(answeredAt - acted);
        if (step.exit) {
          exitLatencies.push((firstDelete.get(chat) ?? answeredAt) - acted);
          exitCoverLatencies.push(answeredAt - acted);
          exitChats.push(chat);
        }
      }
      if (pauseMs) await new Promise((r) => setTimeout(r, pauseMs()));
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(users, concurrency) }, async () => {
      if (!steady) {
        while (nextUser < users) await person(nextUser++);
        return;
      }
      await new Promise((r) => setTimeout(r, Math.random() * steady.warmMs));
      while (!over()) await person(nextUser++);
    }),
  );
  peopleDone?.();
  emu.onCall = outer;
  const seconds = (performance.now() - t0 - (steady?.warmMs ?? 0)) / 1000;
  // What an exit left behind, once the last answers and retries had a moment to land.
  if (exitChats.length) await new Promise((r) => setTimeout(r, 2000));
  const exitLeftovers = exitChats.filter((chat) => emu.visible(chat).length !== 1).length;
  // Counted: the emulator forgets these people's chats, so the next runs are not measured by a
  // process whose heap, and so its collector's pauses, grew with every run before them.
  emu.forget(Array.from({ length: nextUser }, (_, u) => firstChat + u));
  // And it collects what they left now, between runs: else its collector may do it inside the next
  // run's counted time, in one pause of 100 ms or more that every answer then waiting is timed with.
  collectGarbage();
  return {
    updates,
    seconds,
    latencies: latencies.sort((a, b) => a - b),
    byStep,
    exitLatencies: exitLatencies.sort((a, b) => a - b),
    exitCoverLatencies: exitCoverLatencies.sort((a, b) => a - b),
    exitLeftovers,
    errors,
    failedAt,
  };
}

async function waitStarted(emu: BotApiEmulator, child: { output: () => string; exited: Promise<number | null> }) {
  const start = Date.now();
  while (!emu.calls.some((c) => c.method === "getMe")) {
    if (Date.now() - start > 60_000) throw new Error(`bot did not start:\n${child.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  await new Promise((r) => setTimeout(r, 800));
}

/** When people went unanswered, the bot's own last words go to stderr, to say why. */
function explain(r: RunResult, bot: { output: () => string }) {
  if (r.errors)
    process.stderr.write(
      `bench: ${r.errors} simulated people got no answer; the bot's last output:\n${bot.output().slice(-4000)}\n`,
    );
}

function slowestSteps(byStep: Map<string, number[]>, p: number): Record<string, number> {
  const at = [...byStep].map(([name, l]) => {
    const sorted = [...l].sort((a, b) => a - b);
    return [name, percentile(sorted, p)] as const;
  });
  return Object.fromEntries(at.sort((a, b) => b[1] - a[1]).slice(0, 3));
}

function line(
  config: string,
  o: Options,
  r: RunResult,
  stats: ReturnType<typeof during>,
  extra: Record<string, unknown> = {},
) {
  const rec = {
    config,
    users: o.users,
    delay_ms: o.delay,
    updates: r.updates,
    seconds: Math.round(r.seconds * 10) / 10,
    updates_per_s: Math.round((r.updates / r.seconds) * 10) / 10,
    reply_ms_p50: percentile(r.latencies, 50),
    reply_ms_p95: percentile(r.latencies, 95),
    reply_ms_p99: percentile(r.latencies, 99),
    // Where the tail is: the three steps with the slowest p99, and the three slowest at their p50
    // (a step that takes several round trips to the API by what it must do: its floor).
    slowest_steps_p99_ms: slowestSteps(r.byStep, 99),
    slowest_steps_p50_ms: slowestSteps(r.byStep, 50),
    // Every step's p50, p95 and p99 and how many answers it had, in the script's order: the tail is
    // not only the steps that take two round trips (bench/README.md).
    steps_ms: Object.fromEntries(
      [...r.byStep].map(([name, l]) => {
        const sorted = [...l].sort((a, b) => a - b);
        return [name, [...[50, 95, 99].map((p) => percentile(sorted, p)), sorted.length]];
      }),
    ),
    ...(r.exitLatencies.length
      ? {
          exit_ms_p50: percentile(r.exitLatencies, 50),
          exit_ms_p99: percentile(r.exitLatencies, 99),
          exit_cover_ms_p50: percentile(r.exitCoverLatencies, 50),
          exit_cover_ms_p99: percentile(r.exitCoverLatencies, 99),
          exit_leftover_chats: r.exitLeftovers,
        }
      : {}),
    bot_cpu_ms_per_update: Math.round((stats.cpuMs / Math.max(1, r.updates)) * 100) / 100,
    bot_main_thread_cpu_ms_per_update: Math.round((stats.mainCpuMs / Math.max(1, r.updates)) * 100) / 100,
    bot_main_thread_wait_ms_per_update: Math.round((stats.mainWaitMs / Math.max(1, r.updates)) * 100) / 100,
    ...(stats.helpersCpuMs !== null
      ? { bot_v8_helpers_cpu_ms_per_update: Math.round((stats.helpersCpuMs / Math.max(1, r.updates)) * 100) / 100 }
      : {}),
    ...(stats.apiCalls !== undefined
      ? { api_calls_per_update: Math.round((stats.apiCalls / Math.max(1, r.updates)) * 100) / 100 }
      : {}),
    ...(stats.diskBytes ? { bot_disk_kb_per_update: Math.round(stats.diskBytes / 1024 / Math.max(1, r.updates)) } : {}),
    peak_rss_mb: stats.peakRssMb,
    errors: r.errors,
    ...(r.errors ? { failed_at_step: r.failedAt } : {}),
    ...extra,
  };
  return rec;
}

/**
 * Which Qorgau the bench measures: this checkout's, or the one `BENCH_QORGAU_ROOT` names, another
 * checkout of the project, built (`npm ci`, `npm run build`), so that a build before a change runs
 * against the same bare bots and the same simulated people as this one, in one sitting.
 */
export function qorgauCheckout(): { root: string; file: string } {
  const root = process.env.BENCH_QORGAU_ROOT ? path.resolve(process.env.BENCH_QORGAU_ROOT) : projectRoot;
  const file = path.join(root, "dist", "src", "main.mjs");
  if (root !== projectRoot && !fs.existsSync(file))
    throw new Error(`BENCH_QORGAU_ROOT=${root} has no ${file}: run npm ci and npm run build there first`);
  return { root, file };
}

/** Qorgau as built, with its start script's environment and flags, on its own database in `dir`. */
function startQorgau(dir: string, delay: number, chatUpdatesPerMinute: number): Promise<Started> {
  const { root, file } = qorgauCheckout();
  const start = startCommand(root);
  return startBot(
    file,
    delay,
    {
      DATABASE_URL: `file:${path.join(dir, "bench.db")}`,
      SYNC_BOT_PROFILE: "false",
      ADMIN_CHAT_ID: String(STAFF),
      ENCRYPTION_KEY: Buffer.alloc(32, 1).toString("base64"),
      LOG_LEVEL: "error",
      CHAT_UPDATES_PER_MINUTE: String(chatUpdatesPerMinute),
      ...start.env,
    },
    start.flags,
    root,
  );
}

/** The round whose `by` is the median of all rounds', with every round's updates/s, p99 and errors beside it. */
function medianRound(
  all: Array<Record<string, unknown>>,
  by: "updates_per_s" | "reply_ms_p99",
): Record<string, unknown> {
  const sorted = [...all].sort((a, b) => (a[by] as number) - (b[by] as number));
  return {
    ...sorted[Math.floor((sorted.length - 1) / 2)]!,
    rounds_updates_per_s: all.map((r) => r.updates_per_s),
    rounds_reply_ms_p99: all.map((r) => r.reply_ms_p99),
    rounds_errors: all.map((r) => r.errors),
    // A round whose tail is the measuring process's own pause shows it here.
    rounds_harness_gc_max_ms: all.map((r) => r.harness_gc_max_ms),
  };
}

export async function runBench(o: Options): Promise<Array<Record<string, unknown>>> {
  build();
  const results: Array<Record<string, unknown>> = [];
  const print = (rec: Record<string, unknown>) => {
    results.push(rec);
    process.stdout.write(JSON.stringify(rec) + "\n");
  };

  // The bare bots and Qorgau, each on its own emulator, take turns: this machine's speed drifts by
  // 15-30% from one minute to the next, so each runs `rounds` times, interleaved, and its line is
  // its median round. "bare-grammy-echo" is grammY as it comes (node-fetch); "…-own-client" is the
  // same bot on the Bot API client Qorgau uses (src/channels/telegram/http.ts), the ceiling for
  // that client.
  const bareFile = path.join(projectRoot, "dist", "bench", "bare-bot.mjs");
  const bares = [
    { config: "bare-grammy-echo", bot: await startBot(bareFile, o.delay, {}) },
    { config: "bare-grammy-echo-own-client", bot: await startBot(bareFile, o.delay, { BARE_FETCH: "qorgau" }) },
  ];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "qorgau-bench-"));
  // Simulated people answer at machine speed: the per-chat pace would silence them (its cost, a map
  // lookup per update, stays in the figures).
  const qorgau = await startQorgau(dir, o.delay, 1_000_000);
  qorgau.emu.protectedChats.add(STAFF);
  const rounds = new Map<string, Array<Record<string, unknown>>>();
  const measure = async (config: string, b: Started, firstChat: number, script: Step[]) => {
    const before = snapshot(b);
    // The simulated people and the emulator share the machine with the bot: how much of it they took.
    const harness = watchHarness();
    const r = await drive(b.emu, o.users, firstChat, script, { peopleDone: harness.stop });
    const rec = line(config, o, r, during(before, snapshot(b)), harness.figures(r.updates));
    rounds.set(config, [...(rounds.get(config) ?? []), rec]);
    explain(r, b);
  };
  for (let round = 0; round < o.rounds; round++) {
    const chats = 1_000_000 * (round + 1) * 10;
    for (const [i, b] of bares.entries()) await measure(b.config, b.bot, chats + i * 1_000_000, BARE_SCRIPT);
    await measure("qorgau-scripts", qorgau, chats + 5_000_000, QORGAU_SCRIPT);
  }
  const median = (config: string) => medianRound(rounds.get(config)!, "updates_per_s");
  for (const b of bares) {
    print(median(b.config));
    b.bot.child.kill("SIGTERM");
    await b.bot.exited;
    await b.bot.emu.stop();
  }
  const q = median("qorgau-scripts");
  print(q);
  // The targets (at 500 people, 30 ms), against grammY as it comes and against the same client.
  const targetLoad = o.users === 500 && o.delay === 30;
  for (const b of bares) {
    const bare = median(b.config);
    // Each figure's own median over the rounds: the round with the median throughput may have had an odd tail.
    const mid = (xs: unknown) =>
      [...(xs as number[])].sort((x, y) => x - y)[Math.floor(((xs as number[]).length - 1) / 2)]!;
    const share = (q.updates_per_s as number) / (bare.updates_per_s as number);
    const tail = mid(q.rounds_reply_ms_p99) / mid(bare.rounds_reply_ms_p99);
    // At this load the main threads of Qorgau and of grammY as it comes are running or waiting for
    // a core 93-99 % of the time (bench/README.md): the time an update holds the thread, both
    // together, is what their updates/s follow. (The echo on our client is held back by something
    // else first, likely the harness: its thread is busy or waiting 57-85 % of the time.)
    const held = (l: Record<string, unknown>) =>
      Math.round(
        ((l.bot_main_thread_cpu_ms_per_update as number) + (l.bot_main_thread_wait_ms_per_update as number)) * 100,
      ) / 100;
    // Everything an update costs the machine: the bot's threads, and the harness that answers its
    // calls. With both cores busy, the two bots' updates/s follow these too (bench/README.md).
    const machine = (l: Record<string, unknown>) =>
      Math.round(((l.bot_cpu_ms_per_update as number) + (l.harness_cpu_ms_per_update as number)) * 100) / 100;
    print({
      config: `qorgau-vs-${b.config}`,
      updates_per_s_share: Math.round(share * 100) / 100,
      reply_p99_ratio: Math.round(tail * 100) / 100,
      bot_main_thread_cpu_and_wait_ms_per_update: held(q),
      bare_bot_main_thread_cpu_and_wait_ms_per_update: held(bare),
      bot_and_harness_cpu_ms_per_update: machine(q),
      bare_bot_and_harness_cpu_ms_per_update: machine(bare),
      ...(targetLoad
        ? {
            target_updates_per_s_share_met: share >= 0.9,
            target_p99_ratio_met: tail <= 1.5,
            target_exit_p99_met: (q.exit_cover_ms_p99 as number) < 1000 && q.exit_leftover_chats === 0,
          }
        : { targets: "judged only at 500 users and 30 ms" }),
    });
  }

  // Everyday load: people who read and think, about a second between steps (0.5-1.5 s), the
  // default per-chat pace on (a second Qorgau on its own database, as it runs in production). What
  // counts here is the tail and that nobody goes unanswered, beside the bare bot under the same load.
  // People arrive over the time one takes to go through the script, and go round it again with a new
  // chat: after that first lap, as on an ordinary day, some are starting, some reporting, some
  // leaving at any moment, and the next lap is measured. (Started together, they all reached "send"
  // and the quick exit within a few seconds: a burst, which the report burst below measures.)
  if (o.everydayUsers > 0) {
    const pause = () => o.pauseMs * (0.5 + Math.random());
    const lapMs = Math.max(QORGAU_SCRIPT.length, BARE_SCRIPT.length) * o.pauseMs;
    const steady = { warmMs: lapMs, untilMs: 2 * lapMs };
    const bare = await startBot(bareFile, o.delay, {});
    const everydayDir = fs.mkdtempSync(path.join(os.tmpdir(), "qorgau-bench-everyday-"));
    // The default pace (60 a minute), scaled with the pause when a shorter run compresses time.
    const paced = await startQorgau(everydayDir, o.delay, Math.round((60 * 1000) / o.pauseMs));
    paced.emu.protectedChats.add(STAFF);
    const everyday = { ...o, users: o.everydayUsers };
    const runOne = async (config: string, b: Started, script: Step[], firstChat: number) => {
      // The bot's CPU and disk, and what the harness took, from the moment the counted lap begins.
      let before = snapshot(b);
      const harness = watchHarness();
      const counting = setTimeout(() => {
        before = snapshot(b);
        harness.from();
      }, steady.warmMs);
      const r = await drive(b.emu, o.everydayUsers, firstChat, script, {
        pauseMs: pause,
        steady,
        peopleDone: harness.stop,
      });
      clearTimeout(counting);
      explain(r, b);
      return line(config, everyday, r, during(before, snapshot(b)), {
        ...harness.figures(r.updates),
        pause_ms: `${o.pauseMs / 2}-${(o.pauseMs * 3) / 2}`,
        arrivals: `over the first ${steady.warmMs / 1000} s, then round again; counted from then to ${steady.untilMs / 1000} s`,
      });
    };
    // Like the scripts' rounds, the two bots take turns: one lap's p99 rests on its slowest 1 %,
    // a few hundred answers, and one stall of this machine moves it by half (bench/README.md).
    const laps: Record<"bare" | "qorgau", Array<Record<string, unknown>>> = { bare: [], qorgau: [] };
    for (let round = 0; round < o.everydayRounds; round++) {
      const chats = 7_000_000 + round * 1_000_000;
      laps.bare.push(await runOne("bare-grammy-echo-everyday", bare, BARE_SCRIPT, chats));
      laps.qorgau.push(await runOne("qorgau-everyday", paced, QORGAU_SCRIPT, chats + 500_000));
    }
    const bareLine = medianRound(laps.bare, "reply_ms_p99");
    print(bareLine);
    const qLine = medianRound(laps.qorgau, "reply_ms_p99");
    print(qLine);
    const unanswered = laps.qorgau.reduce((n, r) => n + (r.errors as number), 0);
    print({
      config: "qorgau-vs-bare-grammy-echo-everyday",
      reply_p99_ratio: Math.round(((qLine.reply_ms_p99 as number) / (bareLine.reply_ms_p99 as number)) * 100) / 100,
      timeouts: unanswered,
      bot_cpu_ms_per_update: qLine.bot_cpu_ms_per_update,
      bare_bot_cpu_ms_per_update: bareLine.bot_cpu_ms_per_update,
      bot_main_thread_cpu_ms_per_update: qLine.bot_main_thread_cpu_ms_per_update,
      bare_bot_main_thread_cpu_ms_per_update: bareLine.bot_main_thread_cpu_ms_per_update,
      bot_main_thread_wait_ms_per_update: qLine.bot_main_thread_wait_ms_per_update,
      bare_bot_main_thread_wait_ms_per_update: bareLine.bot_main_thread_wait_ms_per_update,
      target_everyday_met: unanswered === 0 && (qLine.reply_ms_p99 as number) <= (bareLine.reply_ms_p99 as number),
    });
    for (const b of [bare, paced]) {
      b.child.kill("SIGTERM");
      await b.exited;
      await b.emu.stop();
    }
    fs.rmSync(everydayDir, { recursive: true, force: true });
  }

  // Qorgau goes on: memory after many distinct people, a report burst, a clean shutdown.
  {
    const { emu } = qorgau;
    const bot = qorgau;

    // Memory after many distinct people: each starts and picks a language, as many at a time as in
    // the scripts above. The peak is this phase's own: does memory grow with the number of people?
    resetPeak(bot.child.pid!);
    const before = snapshot(bot);
    const m = await drive(emu, o.memoryUsers, 3_000_000, QORGAU_SCRIPT.slice(0, 2), {
      stepTimeoutMs: 120_000,
      concurrency: o.users,
    });
    print(line("qorgau-distinct-users", { ...o, users: o.memoryUsers }, m, during(before, snapshot(bot))));
    explain(m, bot);

    // A burst of reports: cards to one staff group, paced under Telegram's limit. The emulator answers
    // 429 past 20 messages a minute to a group, as Telegram does; the pacing should never meet it.
    let cards = 0;
    const times: number[] = [];
    emu.groupLimitPerMinute = 20;
    emu.throttled = 0;
    emu.onCall = (c) => {
      if (Number(c.payload.chat_id) === STAFF && c.method === "sendMessage") {
        cards++;
        times.push(Date.now());
      }
    };
    const burstStart = Date.now();
    const burst = await drive(emu, o.burst, 4_000_000, QORGAU_SCRIPT.slice(0, 20));
    await new Promise((r) => setTimeout(r, Math.max(0, o.burstSeconds * 1000 - (Date.now() - burstStart))));
    emu.onCall = undefined;
    const throttled = emu.throttled;
    const perMinute = times.length
      ? Math.max(...times.map((t) => times.filter((x) => x >= t && x < t + 60_000).length))
      : 0;
    print({
      config: "qorgau-report-burst",
      reports: o.burst,
      reports_committed_seconds: Math.round(burst.seconds * 10) / 10,
      watch_seconds: o.burstSeconds,
      cards_delivered: cards,
      max_cards_in_any_minute: perMinute,
      throttled_429: throttled,
      // Cards of the scripted users' reports are queued ahead of the burst, so delivery takes longer still.
      reports_queued_before_burst: o.users * o.rounds,
      minutes_to_deliver_all_at_20_per_minute: Math.ceil((o.burst + o.users * o.rounds) / 20),
      errors: burst.errors,
    });

    bot.child.kill("SIGTERM");
    const code = await bot.exited;
    print({ config: "qorgau-shutdown", exit_code: code });
    await emu.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  // A pass of the outbox while a staff group's queue is long: on the store itself, in this process.
  for (const l of await measureOutboxPass(o.outboxCards)) print(l);
  if (o.out) fs.writeFileSync(o.out, results.map((r) => JSON.stringify(r)).join("\n") + "\n");
  return results;
}

if (process.argv[1]?.endsWith("bench/run.ts")) {
  runBench(parseArgs(process.argv.slice(2))).then(
    () => process.exit(0),
    (err) => {
      process.stderr.write(`bench failed: ${(err as Error).message}\n`);
      process.exit(1);
    },
  );
}
