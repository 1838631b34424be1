// `npm run bench`: SPEC section 9.
//
// Starts a local upstream (node:http), then for each scenario a fresh server in
// its own process (mend, or the hand-written baseline) on a fresh SQLite file
// in WAL mode, drives it with autocannon at 50 connections for a fixed time,
// samples the server's RSS, checks that the work really happened (run
// statuses through the API, the ledger, the upstream's request counts), and
// prints runs/s, p50/p99 latency and peak RSS, then the ratios mend/baseline.
// Besides SPEC's figures it shows the server's CPU (share of a core while
// measured, CPU ms per answered run), its event-loop delay, the latency
// spread, and warns when other processes took CPU during a measurement (the
// figures are then noisy; ratios from one run still compare like with like).
// Warm-up and measurement share one autocannon run (the same connections):
// only answers after the warm-up (and after every connection has had its
// first answer) count, so autocannon's connection ramp stays out of p99.
//
// Environment: BENCH_SECONDS (measured seconds per scenario, default 8),
// BENCH_WARMUP_SECONDS (default 2, not counted), BENCH_CONNECTIONS (default 50),
// BENCH_ONLY (comma list of scenario names), BENCH_CPU_PROF (a folder: the
// server processes run with --cpu-prof and write their profiles there).
// Everything listens on 127.0.0.1 and the run stops by itself.
import autocannon from "autocannon";
import Database from "better-sqlite3";
import { spawn, type ChildProcess } from "node:child_process";
import { build } from "esbuild";
import { runPagesBench } from "./pages";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { FromChild, ToChild } from "./child";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, "..");

const SECONDS = positive("BENCH_SECONDS", 8);
const WARMUP_SECONDS = positive("BENCH_WARMUP_SECONDS", 2, true);
const CONNECTIONS = positive("BENCH_CONNECTIONS", 50);
const ONLY = (process.env.BENCH_ONLY ?? "").split(",").map((s) => s.trim()).filter(Boolean);
const CPU_PROF = process.env.BENCH_CPU_PROF ? resolve(process.env.BENCH_CPU_PROF) : undefined;

const INPUT = { order: 1234, customer: "ada@example.com", amount: 42.5 };
const BODY = JSON.stringify(INPUT);

function positive(name: string, fallback: number, zeroOk = false): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || (!zeroOk && n === 0)) {
    console.error(`bench: ${name} must be a ${zeroOk ? "non-negative" : "positive"} number, got '${raw}'`);
    process.exit(2);
  }
  return n;
}

// ---------------------------------------------------------------- children

interface Child {
  name: string;
  pid: number;
  port: number;
  url: string;
  ask(type: "stats"): Promise<Record<string, number>>;
  askMem(): Promise<{ rss: number; maxRss: number }>;
  /** Event-loop delay (ms) since the last reset; `reset` starts a new window. */
  askLoop(reset: boolean): Promise<{ p50: number; p99: number; max: number }>;
  stop(): Promise<void>;
  stderrTail(): string;
}

const children = new Set<ChildProcess>();
/** Warnings about CPU used by processes outside the bench while a scenario was measured. */
const noisy: string[] = [];
let nextAsk = 1;

/** The heap settings `npm start` uses, given to every server (mend and baselines alike). */
const SERVER_V8_FLAGS = ["--max-semi-space-size=4", "--max-old-space-size=192"];

/**
 * Servers run as esbuild bundles under plain node, as a deployment would: under tsx,
 * its loader thread would add ~30 MiB to every server's RSS. The bundle sits two
 * folders below the root so paths the code resolves from its own file (the
 * migrations folder) stay the same; packages stay in node_modules.
 */
async function bundle(script: string): Promise<string> {
  const outfile = join(ROOT, ".bench-build", script.replace(/\.ts$/, ""), "server.mjs");
  await build({ entryPoints: [join(HERE, script)], outfile, bundle: true, platform: "node", format: "esm", target: "node20", packages: "external", logLevel: "warning" });
  return outfile;
}

async function startChild(name: string, script: string, args: string[], profile = false): Promise<Child> {
  // One folder per server: Node writes one profile per thread.
  const flags = profile && CPU_PROF ? ["--cpu-prof", "--cpu-prof-dir", join(CPU_PROF, name)] : [];
  // Node itself (not the tsx CLI, which would add a wrapper process) so the pid is the server's.
  const cp = spawn(process.execPath, [...SERVER_V8_FLAGS, ...flags, await bundle(script), ...args], {
    cwd: ROOT,
    stdio: ["ignore", "ignore", "pipe", "ipc"],
    env: { ...process.env, NODE_ENV: "production" },
  });
  children.add(cp);
  let tail = "";
  cp.stderr!.setEncoding("utf8").on("data", (d: string) => {
    tail = (tail + d).slice(-4000);
  });
  const exited = new Promise<number | null>((res) => cp.on("exit", (code) => (children.delete(cp), res(code))));
  const pending = new Map<number, (m: FromChild) => void>();
  cp.on("message", (m: FromChild) => {
    if ("id" in m) {
      pending.get(m.id)?.(m);
      pending.delete(m.id);
    }
  });
  const port = await new Promise<number>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`${name}: not ready after 30 s\n${tail}`)), 30_000);
    cp.on("message", (m: FromChild) => {
      if (m.type === "ready") (clearTimeout(timer), res(m.port));
    });
    void exited.then((code) => (clearTimeout(timer), rej(new Error(`${name}: exited with ${code} before it was ready\n${tail}`))));
  });
  const request = (type: "stats" | "mem" | "loop", reset = false) =>
    new Promise<FromChild>((res, rej) => {
      const id = nextAsk++;
      const timer = setTimeout(() => (pending.delete(id), rej(new Error(`${name}: no answer to '${type}'`))), 5000);
      pending.set(id, (m) => (clearTimeout(timer), res(m)));
      cp.send((type === "loop" ? { type, id, reset } : { type, id }) satisfies ToChild);
    });
  return {
    name,
    pid: cp.pid!,
    port,
    url: `http://127.0.0.1:${port}`,
    ask: async () => {
      const m = await request("stats");
      return m.type === "stats" ? m.stats : {};
    },
    askMem: async () => {
      const m = await request("mem");
      return m.type === "mem" ? { rss: m.rss, maxRss: m.maxRss } : { rss: 0, maxRss: 0 };
    },
    askLoop: async (reset) => {
      const m = await request("loop", reset);
      return m.type === "loop" ? { p50: m.p50, p99: m.p99, max: m.max } : { p50: 0, p99: 0, max: 0 };
    },
    stop: async () => {
      if (cp.exitCode !== null || cp.signalCode !== null) return;
      cp.send({ type: "stop" } satisfies ToChild);
      const timer = setTimeout(() => cp.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(timer);
    },
    stderrTail: () => tail,
  };
}

function killChildren(): void {
  for (const cp of children) if (cp.exitCode === null) cp.kill("SIGKILL");
}

// ---------------------------------------------------------------- memory

/** Samples the child's RSS from /proc every 100 ms; the kernel's high-water mark (VmHWM) backs it up. */
class RssSampler {
  private peak = 0;
  private timer: NodeJS.Timeout | undefined;
  private procOk = true;

  constructor(private readonly child: Child) {}

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), 100);
  }

  private read(): { rss: number; hwm: number } | undefined {
    if (!this.procOk) return undefined;
    try {
      const text = readFileSync(`/proc/${this.child.pid}/status`, "utf8");
      const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? 0) * 1024;
      return { rss: kb("VmRSS"), hwm: kb("VmHWM") };
    } catch {
      this.procOk = false;
      return undefined;
    }
  }

  private sample(): void {
    const r = this.read();
    if (r) this.peak = Math.max(this.peak, r.rss);
  }

  /** Peak RSS in bytes: the largest sample, the kernel's VmHWM, or (without /proc) the child's own maxRSS. */
  async stop(): Promise<number> {
    clearInterval(this.timer);
    const r = this.read();
    if (r) return Math.max(this.peak, r.rss, r.hwm);
    const m = await this.child.askMem();
    return Math.max(m.rss, m.maxRss);
  }
}

// ---------------------------------------------------------------- CPU

const CLK_TCK = 100; // USER_HZ of /proc/<pid>/stat on Linux

/** CPU seconds a process used so far (all its threads), or undefined without /proc. */
function cpuOfPid(pid: number): number | undefined {
  const t = cpuTimesOfPid(pid);
  return t && t.user + t.sys;
}

/** User and system CPU seconds of a process (all its threads). */
function cpuTimesOfPid(pid: number): { user: number; sys: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return { user: Number(fields[11]) / CLK_TCK, sys: Number(fields[12]) / CLK_TCK }; // utime, stime
  } catch {
    return undefined;
  }
}

/**
 * Busy CPU seconds of the whole machine (all cores) that processes account
 * for: user, nice and system time. Interrupt and softirq time (loopback TCP is
 * processed there) and a hypervisor's steal time are counted apart.
 */
function machineBusy(): { process: number; irq: number; steal: number } | undefined {
  try {
    const f = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f;
    return { process: (user + nice + system) / CLK_TCK, irq: (irq + softirq) / CLK_TCK, steal: steal / CLK_TCK };
  } catch {
    return undefined;
  }
}

interface CpuMark {
  server?: number;
  serverSys?: number;
  upstream?: number;
  self: number;
  machine?: { process: number; irq: number; steal: number };
  at: number;
}

function cpuMark(server: Child, upstream: Child): CpuMark {
  const u = process.cpuUsage();
  return { server: cpuOfPid(server.pid), serverSys: cpuTimesOfPid(server.pid)?.sys, upstream: cpuOfPid(upstream.pid), self: (u.user + u.system) / 1e6, machine: machineBusy(), at: performance.now() };
}

// ---------------------------------------------------------------- scenarios

type Kind = "mend" | "baseline";

interface Scenario {
  name: string;
  kind: Kind;
  /** Path of the request, relative to the server. */
  path: string;
  /** The answer that counts as a run: 202 (accepted) or 200 (waited for and ended well). */
  status: 200 | 202;
  /** mend: the flow, the status every run must reach and its attempts in order. */
  flow?: string;
  expectStatus?: string;
  expectSteps?: string[];
  /** Upstream requests per run: [path, count]. */
  upstreamPerRun?: [string, number];
  /** Steps rows per run in the baseline's ledger. */
  attemptsPerRun?: number;
}

const SCENARIOS: Scenario[] = [
  { name: "baseline-accept", kind: "baseline", path: "/accept/bench-accept", status: 202, attemptsPerRun: 0 },
  {
    name: "accept",
    kind: "mend",
    path: "/hooks/bench-accept",
    status: 202,
    flow: "bench-accept",
    expectStatus: "succeeded",
    expectSteps: ["ack:succeeded"],
  },
  { name: "baseline-flow", kind: "baseline", path: "/flow/bench-ok", status: 200, attemptsPerRun: 3, upstreamPerRun: ["ok", 1] },
  {
    name: "flow-ok",
    kind: "mend",
    path: "/hooks/bench-ok?wait=true",
    status: 200,
    flow: "bench-ok",
    expectStatus: "succeeded",
    expectSteps: ["prepare:succeeded", "charge:succeeded", "summarize:succeeded"],
    upstreamPerRun: ["ok", 1],
  },
  {
    name: "flow-fail",
    kind: "mend",
    path: "/hooks/bench-fail?wait=true",
    status: 200,
    flow: "bench-fail",
    expectStatus: "recovered",
    expectSteps: ["charge:failed", "charge:failed", "charge:failed", "fallback:succeeded"],
    upstreamPerRun: ["fail", 3],
  },
];

function flowsFor(upstream: string): Record<string, unknown>[] {
  return [
    {
      name: "bench-accept",
      description: "bench: accept (one compute step)",
      steps: [{ id: "ack", compute: { order: "{{ input.order }}", customer: "{{ input.customer }}", accepted: true } }],
    },
    {
      name: "bench-ok",
      description: "bench: compute → http POST to the upstream → compute",
      steps: [
        { id: "prepare", compute: { order: "{{ input.order }}", customer: "{{ input.customer }}", amount: "{{ input.amount }}" } },
        { id: "charge", http: { method: "POST", url: `${upstream}/ok`, body: "{{ steps.prepare }}" } },
        { id: "summarize", compute: { order: "{{ steps.prepare.order }}", status: "{{ steps.charge.status }}", charge: "{{ steps.charge.body.id }}" } },
      ],
    },
    {
      name: "bench-fail",
      description: "bench: an http step that gets 500 three times, then an on_failure compute",
      steps: [{ id: "charge", http: { method: "POST", url: `${upstream}/fail`, body: "{{ input }}" }, retry: { max_attempts: 3, delay_ms: 0 } }],
      on_failure: [{ id: "fallback", compute: { order: "{{ input.order }}", fallback: true, reason: "{{ error.message }}", attempts: "{{ error.attempts }}" } }],
    },
  ];
}

interface Outcome {
  scenario: Scenario;
  ok: number;
  /** Answers with another status than the scenario's (a 202 "still running" of ?wait=true counts here). */
  other: number;
  errors: number;
  timeouts: number;
  seconds: number;
  runsPerSec: number;
  p50: number;
  p99: number;
  peakRss: number;
  /** Server CPU during the measured phase: share of one core, and milliseconds per answered run. */
  serverCpu?: number;
  cpuPerRun?: number;
  checks: string[];
  failures: string[];
}

/** What autocannon answered within one time window. */
interface Window {
  start: number;
  end: number;
  /** Answers per HTTP status. */
  counts: Map<number, number>;
  /** Latency of every answer, ms (autocannon's hrtime measurement, not rounded). */
  latencies: number[];
  errors: number;
  timeouts: number;
  /** When every connection had its first answer (ms after the window's start). */
  rampMs?: number;
}

function newWindow(start: number): Window {
  return { start, end: start, counts: new Map(), latencies: [], errors: 0, timeouts: 0 };
}

/**
 * One autocannon run of warm-up + measured seconds on the same connections.
 * Only answers that arrive in the measured window count. autocannon opens its
 * connections at the start of a run and a busy server takes them in one at a
 * time, so the first answers on the last connections can wait a second or
 * more; a separate measured run would open fresh connections and put that
 * ramp into its p99. So the window starts once the warm-up time has passed
 * and every connection has had an answer, and lasts SECONDS; `onMeasure` runs
 * as it starts.
 */
function drive(url: string, onMeasure: () => Promise<void>): Promise<{ warm: Window; measured: Window; result: autocannon.Result }> {
  const t0 = performance.now();
  const warm = newWindow(t0);
  const measured = newWindow(t0);
  let current = warm;
  let marking: Promise<void> = Promise.resolve();
  let warmedUp = WARMUP_SECONDS === 0;
  let ramped = false;
  const answeredClients = new Set<unknown>();
  return new Promise((resolve, reject) => {
    let stopTimer: NodeJS.Timeout | undefined;
    const startMeasuring = () => {
      if (current === measured || !warmedUp || !ramped) return;
      warm.end = measured.start = performance.now();
      current = measured;
      marking = onMeasure();
      stopTimer = setTimeout(() => instance.stop(), SECONDS * 1000);
    };
    const instance = autocannon(
      {
        url,
        method: "POST",
        headers: { "content-type": "application/json" },
        body: BODY,
        connections: CONNECTIONS,
        // An upper bound: the run is stopped SECONDS after the measured window starts.
        duration: WARMUP_SECONDS + SECONDS + 30,
        timeout: 35,
      },
      (err, result) => {
        clearTimeout(warmTimer);
        clearTimeout(stopTimer);
        current.end = performance.now();
        if (err) reject(err instanceof Error ? err : new Error(String(err)));
        else if (current !== measured) reject(new Error(`the measured window never started (${answeredClients.size}/${CONNECTIONS} connections answered)`));
        else marking.then(() => resolve({ warm, measured, result }), reject);
      },
    );
    instance.on("response", (client, status, _bytes, ms) => {
      current.counts.set(status, (current.counts.get(status) ?? 0) + 1);
      current.latencies.push(ms);
      if (!ramped && !answeredClients.has(client)) {
        answeredClients.add(client);
        if (answeredClients.size === CONNECTIONS) {
          ramped = true;
          warm.rampMs = performance.now() - t0;
          startMeasuring();
        }
      }
    });
    instance.on("reqError", (err: unknown) => {
      current.errors += 1;
      if (/timed out/.test(String((err as Error)?.message))) current.timeouts += 1;
    });
    const warmTimer = setTimeout(() => {
      warmedUp = true;
      startMeasuring();
    }, WARMUP_SECONDS * 1000);
  });
}

function percentile(sorted: number[], q: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : NaN;
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`GET ${url} → ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

interface RunSummary {
  id: string;
  status: string;
}
interface RunView extends RunSummary {
  output: unknown;
  steps: { step: string; attempt: number; status: string }[];
}

/** Waits until the flow has no queued/running/retrying runs (the accept scenario leaves work behind its 202s). */
async function drain(base: string, flow: string, limitMs = 30_000): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    let active = 0;
    for (const status of ["queued", "running", "retrying"]) {
      const page = await getJson<{ runs: RunSummary[] }>(`${base}/api/runs?flow=${flow}&status=${status}&limit=1`);
      active += page.runs.length;
    }
    if (active === 0) return Date.now() - t0;
    if (Date.now() - t0 > limitMs) throw new Error(`runs of ${flow} still active ${limitMs} ms after the load ended`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The sanity checks through the API: recent runs reached the expected status with the expected attempts. */
async function apiChecks(s: Scenario, base: string, checks: string[], failures: string[]): Promise<void> {
  const drainMs = await drain(base, s.flow!);
  checks.push(`drained ${drainMs} ms after the load`);
  const page = await getJson<{ runs: RunSummary[] }>(`${base}/api/runs?flow=${s.flow}&limit=5`);
  if (page.runs.length === 0) failures.push(`GET /api/runs?flow=${s.flow}: no runs`);
  const wrong = page.runs.filter((r) => r.status !== s.expectStatus);
  if (wrong.length) failures.push(`GET /api/runs: ${wrong.length}/${page.runs.length} runs not ${s.expectStatus} (${wrong.map((r) => r.status).join(", ")})`);
  for (const r of page.runs.slice(0, 3)) {
    const view = await getJson<RunView>(`${base}/api/runs/${r.id}`);
    const steps = view.steps.map((a) => `${a.step}:${a.status}`);
    if (steps.join() !== s.expectSteps!.join()) failures.push(`run ${r.id}: steps ${steps.join(" ")} (expected ${s.expectSteps!.join(" ")})`);
    const out = view.output as Record<string, unknown> | null;
    if (s.name === "flow-ok" && !(typeof out?.charge === "string" && out.charge.startsWith("ch_") && out.status === 200))
      failures.push(`run ${r.id}: unexpected output ${JSON.stringify(out)}`);
    if (s.name === "flow-fail" && !(out?.fallback === true && out.attempts === 3)) failures.push(`run ${r.id}: unexpected output ${JSON.stringify(out)}`);
  }
  if (!failures.length) checks.push(`API: ${page.runs.length} latest runs ${s.expectStatus}, steps ${s.expectSteps!.join(" ")}`);
}

/** After the server stopped: count what the ledger holds. Returns the number of runs. */
function ledgerChecks(s: Scenario, file: string, counted: number, checks: string[], failures: string[]): number {
  const db = new Database(file, { readonly: true });
  try {
    if (s.kind === "mend") {
      const rows = db.prepare("SELECT status, count(*) AS n FROM runs WHERE flow = ? GROUP BY status").all(s.flow) as { status: string; n: number }[];
      const total = rows.reduce((a, r) => a + r.n, 0);
      const byStatus = rows.map((r) => `${r.status}=${r.n}`).join(" ");
      const bad = rows.filter((r) => r.status !== s.expectStatus);
      if (bad.length) failures.push(`ledger: runs not ${s.expectStatus}: ${bad.map((r) => `${r.status}=${r.n}`).join(" ")}`);
      if (total < counted) failures.push(`ledger: ${total} runs but ${counted} answers ${s.status}`);
      const attempts = (db.prepare("SELECT count(*) AS n FROM step_attempts a JOIN runs r ON r.id = a.run_id WHERE r.flow = ?").get(s.flow) as { n: number }).n;
      if (attempts !== total * s.expectSteps!.length) failures.push(`ledger: ${attempts} step attempts for ${total} runs (expected ${s.expectSteps!.length} each)`);
      // Where a request's time goes inside the engine: run creation → end, and each step kind's attempts.
      const pct = (values: number[]) => {
        values.sort((a, b) => a - b);
        const at = (q: number) => values[Math.min(values.length - 1, Math.floor(q * values.length))] ?? 0;
        return `p50 ${at(0.5)}, p99 ${at(0.99)}, max ${values[values.length - 1] ?? 0}`;
      };
      const runMs = (db.prepare("SELECT finished_at - created_at AS ms FROM runs WHERE flow = ? AND finished_at IS NOT NULL").all(s.flow) as { ms: number }[]).map((r) => r.ms);
      const parts = [`run created → ended ms: ${pct(runMs)}`];
      if (s.upstreamPerRun) {
        const httpMs = (
          db.prepare("SELECT a.duration_ms AS ms FROM step_attempts a JOIN runs r ON r.id = a.run_id WHERE r.flow = ? AND a.step = 'charge'").all(s.flow) as { ms: number }[]
        ).map((r) => r.ms);
        parts.push(`http step attempt ms: ${pct(httpMs)}`);
      }
      checks.push(`ledger times: ${parts.join("; ")}`);
      const outbox = db.prepare("SELECT status, count(*) AS n FROM outbox GROUP BY status").all() as { status: string; n: number }[];
      checks.push(`ledger: ${byStatus}, ${attempts} step attempts` + (outbox.length ? `, outbox ${outbox.map((r) => `${r.status}=${r.n}`).join(" ")}` : ""));
      return total;
    }
    const total = (db.prepare("SELECT count(*) AS n FROM runs").get() as { n: number }).n;
    const attempts = (db.prepare("SELECT count(*) AS n FROM step_attempts").get() as { n: number }).n;
    if (total < counted) failures.push(`ledger: ${total} runs but ${counted} answers ${s.status}`);
    if (attempts !== total * (s.attemptsPerRun ?? 0)) failures.push(`ledger: ${attempts} step attempts for ${total} runs`);
    checks.push(`ledger: ${total} runs, ${attempts} step attempts`);
    return total;
  } finally {
    db.close();
  }
}

async function runScenario(s: Scenario, dir: string, flowsDir: string, upstream: Child): Promise<Outcome> {
  const file = join(dir, `${s.name}.db`);
  const server =
    s.kind === "mend"
      ? await startChild(s.name, "server-mend.ts", ["--db", file, "--flows", flowsDir], true)
      : await startChild(s.name, "server-baseline.ts", ["--db", file, "--upstream", upstream.url], true);
  const checks: string[] = [];
  const failures: string[] = [];
  try {
    const before = await upstream.ask("stats");
    const rss = new RssSampler(server);
    rss.start();
    const target = server.url + s.path;
    let m0: CpuMark | undefined;
    const { warm, measured, result } = await drive(target, async () => {
      m0 = cpuMark(server, upstream);
      await server.askLoop(true);
    });
    const m1 = cpuMark(server, upstream);
    const loop = await server.askLoop(true);
    const warmOk = warm.counts.get(s.status) ?? 0;
    if (WARMUP_SECONDS > 0 && warmOk === 0) failures.push(`warm-up: no ${s.status} answer (${JSON.stringify(Object.fromEntries(warm.counts))}, ${warm.errors} errors)`);
    if (warm.rampMs !== undefined) checks.push(`all ${CONNECTIONS} connections had their first answer ${fmt(warm.rampMs, 0)} ms after the load started`);
    checks.push(`server event-loop delay ms while measured: p50 ${loop.p50}, p99 ${loop.p99}, max ${loop.max}`);
    const wall = (measured.end - measured.start) / 1000;
    const serverCpu = m0?.server !== undefined && m1.server !== undefined ? m1.server - m0.server : undefined;
    if (m0 && serverCpu !== undefined && m0.machine !== undefined && m1.machine !== undefined && m0.upstream !== undefined && m1.upstream !== undefined) {
      const upstreamCpu = m1.upstream - m0.upstream;
      const loadCpu = m1.self - m0.self;
      const sys = m1.serverSys! - m0.serverSys!;
      const foreign = m1.machine.process - m0.machine.process - serverCpu - upstreamCpu - loadCpu;
      const irq = m1.machine.irq - m0.machine.irq;
      const steal = m1.machine.steal - m0.machine.steal;
      const c = (x: number) => fmt(Math.max(0, x) / wall, 2);
      checks.push(
        `CPU while measured (cores): server ${c(serverCpu)} (${fmt((100 * sys) / Math.max(serverCpu, 1e-9), 0)}% in the kernel), ` +
          `load generator ${c(loadCpu)}, upstream ${c(upstreamCpu)}, interrupts ${c(irq)}, other processes ${c(foreign)}` +
          (steal > 0 ? `, stolen by the hypervisor ${c(steal)}` : ""),
      );
      if ((foreign + steal) / wall > 0.2) noisy.push(`${s.name}: other processes${steal > 0 ? " and the hypervisor" : ""} took ${c(foreign + steal)} cores while it was measured`);
    }
    if (s.kind === "mend") {
      try {
        await apiChecks(s, server.url, checks, failures);
      } catch (err) {
        failures.push(`API check: ${(err as Error).message}`);
      }
    }
    const peakRss = await rss.stop();
    await server.stop();
    const stderr = server.stderrTail().trim();
    if (stderr) checks.push(`server stderr (tail): ${stderr.split("\n").slice(-3).join(" | ")}`);
    const ok = measured.counts.get(s.status) ?? 0;
    const other = [...measured.counts].reduce((n, [status, count]) => (status === s.status ? n : n + count), 0);
    if (other > 0 || warm.counts.size > 1) failures.push(`answers other than ${s.status}: measured ${JSON.stringify(Object.fromEntries(measured.counts))}, warm-up ${JSON.stringify(Object.fromEntries(warm.counts))}`);
    if (measured.errors + warm.errors > 0) failures.push(`${measured.errors + warm.errors} request errors (${measured.timeouts + warm.timeouts} timeouts)`);
    const total = ledgerChecks(s, file, warmOk + ok, checks, failures);
    if (s.upstreamPerRun) {
      const [path, per] = s.upstreamPerRun;
      const after = await upstream.ask("stats");
      const calls = (after[path] ?? 0) - (before[path] ?? 0);
      if (calls !== total * per) failures.push(`upstream: ${calls} POST /${path} for ${total} runs (expected ${per} each)`);
      else checks.push(`upstream: ${calls} POST /${path} = ${per} × ${total} runs`);
    }
    const lat = measured.latencies.sort((a, b) => a - b);
    const q = (x: number) => fmt(percentile(lat, x), 1);
    checks.push(`latency ms while measured: p50 ${q(0.5)}, p90 ${q(0.9)}, p97.5 ${q(0.975)}, p99 ${q(0.99)}, p99.9 ${q(0.999)}, max ${q(1)}`);
    const a = result.latency;
    checks.push(`autocannon over warm-up + measured (whole ms, includes the connection ramp): p50 ${a.p50}, p99 ${a.p99}, max ${a.max}`);
    return {
      scenario: s,
      ok,
      other,
      errors: measured.errors,
      timeouts: measured.timeouts,
      seconds: wall,
      runsPerSec: ok / wall,
      p50: percentile(lat, 0.5),
      p99: percentile(lat, 0.99),
      peakRss,
      serverCpu: serverCpu === undefined ? undefined : serverCpu / wall,
      cpuPerRun: serverCpu === undefined || ok === 0 ? undefined : (serverCpu * 1000) / ok,
      checks,
      failures,
    };
  } finally {
    await server.stop();
  }
}

// ---------------------------------------------------------------- report

function table(rows: string[][], right: boolean[]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (right[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ");
  return [line(rows[0]!), widths.map((w) => "-".repeat(w)).join("  "), ...rows.slice(1).map(line)].join("\n");
}

const fmt = (n: number, digits = 1) => n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

function report(outcomes: Outcome[]): void {
  const rows = [["scenario", "runs/s", "answers", "other status", "errors", "p50 ms", "p99 ms", "peak RSS MiB", "server CPU", "CPU ms/run"]];
  for (const o of outcomes) {
    rows.push([
      o.scenario.name,
      fmt(o.runsPerSec),
      String(o.ok),
      String(o.other),
      o.timeouts ? `${o.errors} (${o.timeouts} timeouts)` : String(o.errors),
      fmt(o.p50, 1),
      fmt(o.p99, 1),
      fmt(o.peakRss / 1024 / 1024),
      o.serverCpu === undefined ? "n/a" : `${fmt(o.serverCpu * 100, 0)}%`,
      o.cpuPerRun === undefined ? "n/a" : fmt(o.cpuPerRun, 3),
    ]);
  }
  console.log(table(rows, [false, true, true, true, true, true, true, true, true, true]));

  const by = new Map(outcomes.map((o) => [o.scenario.name, o]));
  const pairs: [string, string][] = [
    ["accept", "baseline-accept"],
    ["flow-ok", "baseline-flow"],
  ];
  const ratioRows = [["mend / baseline", "runs/s ratio", "p99 ratio", "peak RSS ratio", "CPU/run ratio"]];
  for (const [m, b] of pairs) {
    const mo = by.get(m);
    const bo = by.get(b);
    if (!mo || !bo) continue;
    const ratio = (x: number, y: number) => (y > 0 ? `${fmt(x / y, 2)}×` : "n/a");
    const perRun = mo.cpuPerRun !== undefined && bo.cpuPerRun !== undefined ? ratio(mo.cpuPerRun, bo.cpuPerRun) : "n/a";
    ratioRows.push([`${m} / ${b}`, ratio(mo.runsPerSec, bo.runsPerSec), ratio(mo.p99, bo.p99), ratio(mo.peakRss, bo.peakRss), perRun]);
  }
  if (ratioRows.length > 1) {
    console.log("");
    console.log(table(ratioRows, [false, true, true, true, true]));
  }
  if (noisy.length) {
    console.log("");
    console.log("WARNING: the machine was busy with other work, so the figures are noisy:");
    for (const n of noisy) console.log(`  ${n}`);
  }

  console.log("");
  console.log("checks:");
  for (const o of outcomes) {
    const status = o.failures.length ? "FAILED" : "ok";
    console.log(`  ${o.scenario.name}: ${status}`);
    for (const c of o.checks) console.log(`    - ${c}`);
    for (const f of o.failures) console.log(`    ! ${f}`);
  }
}

// ---------------------------------------------------------------- main

async function main(): Promise<number> {
  const scenarios = SCENARIOS.filter((s) => ONLY.length === 0 || ONLY.includes(s.name));
  const unknown = ONLY.filter((n) => n !== "pages" && !SCENARIOS.some((s) => s.name === n));
  if (unknown.length) throw new Error(`BENCH_ONLY: unknown scenario(s) ${unknown.join(", ")} (known: ${SCENARIOS.map((s) => s.name).join(", ")})`);
  if (CPU_PROF) mkdirSync(CPU_PROF, { recursive: true });

  const dir = mkdtempSync(join(tmpdir(), "mend-bench-"));
  const flowsDir = join(dir, "flows");
  mkdirSync(flowsDir);
  const upstream = await startChild("upstream", "upstream.ts", []);
  try {
    for (const flow of flowsFor(upstream.url)) writeFileSync(join(flowsDir, `${String(flow.name)}.json`), JSON.stringify(flow, null, 2));
    console.log(
      `mend bench: node ${process.version}, ${availableParallelism()} CPU(s), ${CONNECTIONS} connections, ` +
        `${SECONDS} s per scenario after ${WARMUP_SECONDS} s warm-up, each server in its own process on a fresh SQLite file (WAL)`,
    );
    const outcomes: Outcome[] = [];
    for (const s of scenarios) {
      process.stdout.write(`  ${s.name} … `);
      const o = await runScenario(s, dir, flowsDir, upstream);
      console.log(`${fmt(o.runsPerSec)} runs/s${o.failures.length ? " (CHECK FAILED)" : ""}`);
      outcomes.push(o);
    }
    console.log("");
    if (outcomes.length) report(outcomes);
    if (CPU_PROF) console.log(`\nCPU profiles written to ${CPU_PROF}`);
    // The `pages` scenario (issue 7): the run-history pages with 100,000 runs in the database.
    if (ONLY.length === 0 || ONLY.includes("pages")) {
      console.log("\npages (history pages with 100k runs; bench/pages.ts):");
      await runPagesBench({ log: (line) => console.log(`  ${line}`) });
    }
    return outcomes.some((o) => o.failures.length) ? 1 : 0;
  } finally {
    await upstream.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

// The whole run stops by itself: warm-up + measure per scenario, plus generous room for start-up and checks.
const watchdogMs = (SCENARIOS.length * (SECONDS + WARMUP_SECONDS) + 180) * 1000;
const watchdog = setTimeout(() => {
  console.error(`bench: still running after ${watchdogMs / 1000} s; stopping`);
  killChildren();
  process.exit(1);
}, watchdogMs);

main()
  .then((code) => {
    clearTimeout(watchdog);
    process.exitCode = code;
  })
  .catch((err: unknown) => {
    clearTimeout(watchdog);
    console.error(`bench: ${(err as Error)?.stack ?? String(err)}`);
    killChildren();
    process.exitCode = 1;
  });
