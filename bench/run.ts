// `npm run bench`: SPEC section 9 and issue 13.
//
// Starts a local upstream (node:http), then for each scenario a fresh server in
// its own process (mend, or a hand-written baseline) on a fresh SQLite file
// in WAL mode, drives it with autocannon at 50 connections for a fixed time,
// samples the server's RSS, checks that the work really happened (run
// statuses through the API, the ledger, the upstream's request counts), and
// prints runs/s, p50/p99 latency and peak RSS, then the ratios mend/baseline.
// The throughput scenarios run BENCH_ROUNDS times in turn (A B A B …, default
// 3) and the tables show each scenario's median (peak RSS: the highest), so a
// burst of other work on the machine moves one sample, not the comparison.
// Then the chat scenarios (bench/chat.ts: alert-latency, click-under-load),
// the D1 round trips of the Workers runtime (bench/d1-trips.ts), the goals of
// issue 13 with their verdicts, and the history pages (bench/pages.ts).
// Besides SPEC's figures it shows the server's CPU (share of a core while
// measured, CPU ms per answered run), its event-loop delay, the latency
// spread, and warns when other processes took CPU during a measurement.
//
// Environment: BENCH_SECONDS (measured seconds per scenario, default 8),
// BENCH_WARMUP_SECONDS (default 2, not counted), BENCH_CONNECTIONS (default 50),
// BENCH_ROUNDS (default 3), BENCH_ONLY (comma list of scenario names),
// BENCH_V8_FLAGS (the servers' V8 flags, default those of `npm start`; "none"),
// BENCH_FLAG_SETS (";"-separated V8 flag sets: each scenario once per set, for the heap
// flags of `npm start`), BENCH_CPU_PROF (a folder: the server processes run with --cpu-prof and write
// their profiles there). Everything listens on 127.0.0.1 and the run stops by itself.
import Database from "better-sqlite3";
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { alertFlow, runChatScenario, CHAT_SCENARIOS, type ChatOutcome } from "./chat";
import { countD1Trips, type D1Trips } from "./d1-trips";
import { drive } from "./drive";
import { runPruneBench } from "./prune";
import { runPagesBench } from "./pages";
import { cpuMark, killChildren, RssSampler, startChild, type Child, type CpuMark } from "./procs";
import {
  CONNECTIONS,
  CPU_PROF,
  FLAG_SETS,
  ONLY,
  ROUNDS,
  SECONDS,
  SERVER_V8_FLAGS,
  WARMUP_SECONDS,
  WAL_MODES,
  fmt,
  getJson,
  median,
  percentile,
  table,
  walCheck,
} from "./settings";

/** Warnings about CPU used by processes outside the bench while a scenario was measured. */
const noisy: string[] = [];

// ---------------------------------------------------------------- scenarios

type Kind = "mend" | "baseline" | "lean";

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
  /** The server's V8 flags when not SERVER_V8_FLAGS (BENCH_FLAG_SETS). */
  v8Flags?: string[];
  /** mend: MEND_WAL_CHECKPOINT (BENCH_WAL_CHECKPOINT). */
  wal?: string;
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
  {
    name: "baseline-lean",
    kind: "lean",
    path: "/lean/bench-ok",
    status: 200,
    attemptsPerRun: 3,
    upstreamPerRun: ["ok", 1],
  },
  {
    name: "baseline-flow",
    kind: "baseline",
    path: "/flow/bench-ok",
    status: 200,
    attemptsPerRun: 3,
    upstreamPerRun: ["ok", 1],
  },
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

export function flowsFor(upstream: string): Record<string, unknown>[] {
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
        {
          id: "prepare",
          compute: { order: "{{ input.order }}", customer: "{{ input.customer }}", amount: "{{ input.amount }}" },
        },
        { id: "charge", http: { method: "POST", url: `${upstream}/ok`, body: "{{ steps.prepare }}" } },
        {
          id: "summarize",
          compute: {
            order: "{{ steps.prepare.order }}",
            status: "{{ steps.charge.status }}",
            charge: "{{ steps.charge.body.id }}",
          },
        },
      ],
    },
    {
      name: "bench-fail",
      description: "bench: an http step that gets 500 three times, then an on_failure compute",
      steps: [
        {
          id: "charge",
          http: { method: "POST", url: `${upstream}/fail`, body: "{{ input }}" },
          retry: { max_attempts: 3, delay_ms: 0 },
        },
      ],
      on_failure: [
        {
          id: "fallback",
          compute: {
            order: "{{ input.order }}",
            fallback: true,
            reason: "{{ error.message }}",
            attempts: "{{ error.attempts }}",
          },
        },
      ],
    },
    alertFlow(upstream),
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
  if (wrong.length)
    failures.push(
      `GET /api/runs: ${wrong.length}/${page.runs.length} runs not ${s.expectStatus} (${wrong.map((r) => r.status).join(", ")})`,
    );
  for (const r of page.runs.slice(0, 3)) {
    const view = await getJson<RunView>(`${base}/api/runs/${r.id}`);
    const steps = view.steps.map((a) => `${a.step}:${a.status}`);
    if (steps.join() !== s.expectSteps!.join())
      failures.push(`run ${r.id}: steps ${steps.join(" ")} (expected ${s.expectSteps!.join(" ")})`);
    const out = view.output as Record<string, unknown> | null;
    if (
      s.name === "flow-ok" &&
      !(typeof out?.charge === "string" && out.charge.startsWith("ch_") && out.status === 200)
    )
      failures.push(`run ${r.id}: unexpected output ${JSON.stringify(out)}`);
    if (s.name === "flow-fail" && !(out?.fallback === true && out.attempts === 3))
      failures.push(`run ${r.id}: unexpected output ${JSON.stringify(out)}`);
  }
  if (!failures.length)
    checks.push(`API: ${page.runs.length} latest runs ${s.expectStatus}, steps ${s.expectSteps!.join(" ")}`);
}

/** After the server stopped: count what the ledger holds. Returns the number of runs. */
function ledgerChecks(s: Scenario, file: string, counted: number, checks: string[], failures: string[]): number {
  const db = new Database(file, { readonly: true });
  try {
    if (s.kind === "mend") {
      const rows = db.prepare("SELECT status, count(*) AS n FROM runs WHERE flow = ? GROUP BY status").all(s.flow) as {
        status: string;
        n: number;
      }[];
      const total = rows.reduce((a, r) => a + r.n, 0);
      const byStatus = rows.map((r) => `${r.status}=${r.n}`).join(" ");
      const bad = rows.filter((r) => r.status !== s.expectStatus);
      if (bad.length)
        failures.push(`ledger: runs not ${s.expectStatus}: ${bad.map((r) => `${r.status}=${r.n}`).join(" ")}`);
      if (total < counted) failures.push(`ledger: ${total} runs but ${counted} answers ${s.status}`);
      const attempts = (
        db
          .prepare("SELECT count(*) AS n FROM step_attempts a JOIN runs r ON r.id = a.run_id WHERE r.flow = ?")
          .get(s.flow) as { n: number }
      ).n;
      if (attempts !== total * s.expectSteps!.length)
        failures.push(`ledger: ${attempts} step attempts for ${total} runs (expected ${s.expectSteps!.length} each)`);
      // Where a request's time goes inside the engine: run creation → end, and each step kind's attempts.
      const pct = (values: number[]) => {
        values.sort((a, b) => a - b);
        const at = (q: number) => values[Math.min(values.length - 1, Math.floor(q * values.length))] ?? 0;
        return `p50 ${at(0.5)}, p99 ${at(0.99)}, max ${values[values.length - 1] ?? 0}`;
      };
      const runMs = (
        db
          .prepare("SELECT finished_at - created_at AS ms FROM runs WHERE flow = ? AND finished_at IS NOT NULL")
          .all(s.flow) as { ms: number }[]
      ).map((r) => r.ms);
      const parts = [`run created → ended ms: ${pct(runMs)}`];
      if (s.upstreamPerRun) {
        const httpMs = (
          db
            .prepare(
              "SELECT a.duration_ms AS ms FROM step_attempts a JOIN runs r ON r.id = a.run_id WHERE r.flow = ? AND a.step = 'charge'",
            )
            .all(s.flow) as { ms: number }[]
        ).map((r) => r.ms);
        parts.push(`http step attempt ms: ${pct(httpMs)}`);
      }
      checks.push(`ledger times: ${parts.join("; ")}`);
      const outbox = db.prepare("SELECT status, count(*) AS n FROM outbox GROUP BY status").all() as {
        status: string;
        n: number;
      }[];
      checks.push(
        `ledger: ${byStatus}, ${attempts} step attempts` +
          (outbox.length ? `, outbox ${outbox.map((r) => `${r.status}=${r.n}`).join(" ")}` : ""),
      );
      return total;
    }
    const total = (db.prepare("SELECT count(*) AS n FROM runs").get() as { n: number }).n;
    const attempts = (db.prepare("SELECT count(*) AS n FROM step_attempts").get() as { n: number }).n;
    if (total < counted) failures.push(`ledger: ${total} runs but ${counted} answers ${s.status}`);
    if (attempts !== total * (s.attemptsPerRun ?? 0))
      failures.push(`ledger: ${attempts} step attempts for ${total} runs`);
    checks.push(`ledger: ${total} runs, ${attempts} step attempts`);
    return total;
  } finally {
    db.close();
  }
}

async function runScenario(
  s: Scenario,
  round: number,
  dir: string,
  flowsDir: string,
  upstream: Child,
): Promise<Outcome> {
  const file = join(dir, `${s.name.replace(/\W+/g, "_")}-${round}.db`);
  const o = { profile: true, v8Flags: s.v8Flags };
  const server =
    s.kind === "mend"
      ? await startChild(s.name, "server-mend.ts", ["--db", file, "--flows", flowsDir], {
          ...o,
          env: s.wal ? { BENCH_MEND_ENV: JSON.stringify({ MEND_WAL_CHECKPOINT: s.wal }) } : undefined,
        })
      : await startChild(
          s.name,
          s.kind === "lean" ? "server-lean.ts" : "server-baseline.ts",
          ["--db", file, "--upstream", upstream.url],
          o,
        );
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
    if (WARMUP_SECONDS > 0 && warmOk === 0)
      failures.push(
        `warm-up: no ${s.status} answer (${JSON.stringify(Object.fromEntries(warm.counts))}, ${warm.errors} errors)`,
      );
    if (warm.rampMs !== undefined)
      checks.push(
        `all ${CONNECTIONS} connections had their first answer ${fmt(warm.rampMs, 0)} ms after the load started`,
      );
    checks.push(`server event-loop delay ms while measured: p50 ${loop.p50}, p99 ${loop.p99}, max ${loop.max}`);
    const wall = (measured.end - measured.start) / 1000;
    const serverCpu = m0?.server !== undefined && m1.server !== undefined ? m1.server - m0.server : undefined;
    if (
      m0 &&
      serverCpu !== undefined &&
      m0.machine !== undefined &&
      m1.machine !== undefined &&
      m0.upstream !== undefined &&
      m1.upstream !== undefined
    ) {
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
      if ((foreign + steal) / wall > 0.2)
        noisy.push(
          `${s.name}: other processes${steal > 0 ? " and the hypervisor" : ""} took ${c(foreign + steal)} cores while it was measured`,
        );
    }
    if (s.kind === "mend") {
      try {
        await apiChecks(s, server.url, checks, failures);
      } catch (err) {
        failures.push(`API check: ${(err as Error).message}`);
      }
    }
    const peakRss = await rss.stop();
    if (s.kind === "mend") checks.push(walCheck(await server.ask("stats")));
    await server.stop();
    const stderr = server.stderrTail().trim();
    if (stderr) checks.push(`server stderr (tail): ${stderr.split("\n").slice(-3).join(" | ")}`);
    const ok = measured.counts.get(s.status) ?? 0;
    const other = [...measured.counts].reduce((n, [status, count]) => (status === s.status ? n : n + count), 0);
    if (other > 0 || warm.counts.size > 1)
      failures.push(
        `answers other than ${s.status}: measured ${JSON.stringify(Object.fromEntries(measured.counts))}, warm-up ${JSON.stringify(Object.fromEntries(warm.counts))}`,
      );
    if (measured.errors + warm.errors > 0)
      failures.push(`${measured.errors + warm.errors} request errors (${measured.timeouts + warm.timeouts} timeouts)`);
    const total = ledgerChecks(s, file, warmOk + ok, checks, failures);
    if (s.upstreamPerRun) {
      const [path, per] = s.upstreamPerRun;
      const after = await upstream.ask("stats");
      const calls = (after[path] ?? 0) - (before[path] ?? 0);
      // A baseline keeps no promise about requests cut off when it stops: their upstream call may have no row.
      const lost = s.kind === "mend" ? 0 : calls - total * per;
      if (calls !== total * per && !(lost > 0 && lost <= CONNECTIONS * per))
        failures.push(`upstream: ${calls} POST /${path} for ${total} runs (expected ${per} each)`);
      else
        checks.push(
          `upstream: ${total * per} POST /${path} = ${per} × ${total} runs` +
            (lost ? ` + ${lost} of requests cut off at the baseline's stop` : ""),
        );
    }
    const lat = measured.latencies.sort((a, b) => a - b);
    const q = (x: number) => fmt(percentile(lat, x), 1);
    checks.push(
      `latency ms while measured: p50 ${q(0.5)}, p90 ${q(0.9)}, p97.5 ${q(0.975)}, p99 ${q(0.99)}, p99.9 ${q(0.999)}, max ${q(1)}`,
    );
    const a = result.latency;
    checks.push(
      `autocannon over warm-up + measured (whole ms, includes the connection ramp): p50 ${a.p50}, p99 ${a.p99}, max ${a.max}`,
    );
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

/** One scenario over its rounds: medians (peak RSS: the highest of the rounds). */
interface Summary {
  name: string;
  rounds: Outcome[];
  runsPerSec: number;
  p50: number;
  p99: number;
  peakRss: number;
  serverCpu?: number;
  cpuPerRun?: number;
}

function summarize(rounds: Outcome[]): Summary {
  const defined = (xs: (number | undefined)[]) => xs.filter((x): x is number => x !== undefined);
  const cpu = defined(rounds.map((o) => o.serverCpu));
  const perRun = defined(rounds.map((o) => o.cpuPerRun));
  return {
    name: rounds[0]!.scenario.name,
    rounds,
    runsPerSec: median(rounds.map((o) => o.runsPerSec)),
    p50: median(rounds.map((o) => o.p50)),
    p99: median(rounds.map((o) => o.p99)),
    peakRss: Math.max(...rounds.map((o) => o.peakRss)),
    serverCpu: cpu.length ? median(cpu) : undefined,
    cpuPerRun: perRun.length ? median(perRun) : undefined,
  };
}

const MiB = (bytes: number) => bytes / 1024 / 1024;

function report(summaries: Summary[], chat: ChatOutcome[], d1: D1Trips | undefined): void {
  const rows = [
    ["scenario", "runs/s", "runs/s by round", "p50 ms", "p99 ms", "peak RSS MiB", "server CPU", "CPU ms/run", "errors"],
  ];
  for (const x of summaries) {
    const errors = x.rounds.reduce((n, o) => n + o.errors + o.other, 0);
    rows.push([
      x.name,
      fmt(x.runsPerSec),
      x.rounds.map((o) => fmt(o.runsPerSec, 0)).join(" / "),
      fmt(x.p50, 1),
      fmt(x.p99, 1),
      fmt(MiB(x.peakRss)),
      x.serverCpu === undefined ? "n/a" : `${fmt(x.serverCpu * 100, 0)}%`,
      x.cpuPerRun === undefined ? "n/a" : fmt(x.cpuPerRun, 3),
      String(errors),
    ]);
  }
  console.log(`medians of ${ROUNDS} round(s), run in turn:`);
  console.log(table(rows, [false, true, true, true, true, true, true, true, true]));

  const by = new Map(summaries.map((x) => [x.name, x]));
  const pairs: [string, string][] = [
    ["accept", "baseline-accept"],
    ["flow-ok", "baseline-lean"],
    ["flow-ok", "baseline-flow"],
  ];
  const ratio = (x: number, y: number) => (y > 0 ? `${fmt(x / y, 2)}×` : "n/a");
  const ratioRows = [["mend / baseline", "runs/s ratio", "p99 ratio", "peak RSS ratio", "CPU/run ratio"]];
  for (const [m, b] of pairs) {
    const mo = by.get(m);
    const bo = by.get(b);
    if (!mo || !bo) continue;
    const perRun = mo.cpuPerRun !== undefined && bo.cpuPerRun !== undefined ? ratio(mo.cpuPerRun, bo.cpuPerRun) : "n/a";
    ratioRows.push([
      `${m} / ${b}`,
      ratio(mo.runsPerSec, bo.runsPerSec),
      ratio(mo.p99, bo.p99),
      ratio(mo.peakRss, bo.peakRss),
      perRun,
    ]);
  }
  if (ratioRows.length > 1) console.log("\n" + table(ratioRows, [false, true, true, true, true]));

  if (chat.length) {
    const chatRows = [
      ["scenario", "samples", "p50 ms", "p99 ms", "max ms", "load runs/s", "load p99 ms", "peak RSS MiB"],
    ];
    for (const c of chat)
      chatRows.push([
        c.name,
        String(c.samples),
        fmt(c.p50),
        fmt(c.p99),
        fmt(c.max),
        fmt(c.loadRunsPerSec),
        fmt(c.loadP99),
        fmt(MiB(c.peakRss)),
      ]);
    console.log("\n" + table(chatRows, [false, true, true, true, true, true, true, true]));
    for (const c of chat) console.log(`  ${c.name}: ${c.what}`);
  }
  if (d1)
    console.log(
      `\nD1 round trips per run (Workers runtime on miniflare's D1): flow-ok ${d1.flowOk}, failed run with one Slack alert ${d1.failedWithAlert}`,
    );

  const goals = goalRows(by, chat, d1);
  if (goals.length > 1) console.log("\nissue 13 goals:\n" + table(goals, [false, false, true, false]));

  if (noisy.length) {
    console.log("\nWARNING: the machine was busy with other work, so the figures are noisy:");
    for (const n of noisy) console.log(`  ${n}`);
  }
  console.log("\nchecks:");
  for (const x of summaries) {
    for (const [i, o] of x.rounds.entries()) {
      console.log(`  ${x.name} (round ${i + 1}): ${o.failures.length ? "FAILED" : "ok"}`);
      for (const c of o.checks) console.log(`    - ${c}`);
      for (const f of o.failures) console.log(`    ! ${f}`);
    }
  }
  for (const c of chat) {
    console.log(`  ${c.name}: ${c.failures.length ? "FAILED" : "ok"}`);
    for (const line of c.checks) console.log(`    - ${line}`);
    for (const f of c.failures) console.log(`    ! ${f}`);
  }
}

function goalRows(by: Map<string, Summary>, chat: ChatOutcome[], d1: D1Trips | undefined): string[][] {
  const rows = [["goal", "target", "measured", "verdict"]];
  const add = (
    goal: string,
    target: string,
    value: number | undefined,
    ok: (v: number) => boolean,
    digits = 2,
    unit = "",
  ) => {
    if (value === undefined || Number.isNaN(value)) return;
    rows.push([goal, target, `${fmt(value, digits)}${unit}`, ok(value) ? "met" : "MISSED"]);
  };
  const ok = by.get("flow-ok");
  const lean = by.get("baseline-lean");
  if (ok && lean) {
    add("flow-ok runs/s / baseline-lean", ">= 0.90×", ok.runsPerSec / lean.runsPerSec, (v) => v >= 0.9, 2, "×");
    add("flow-ok p99 / baseline-lean p99", "<= 1.20×", ok.p99 / lean.p99, (v) => v <= 1.2, 2, "×");
  }
  add("flow-fail runs/s", ">= 600", by.get("flow-fail")?.runsPerSec, (v) => v >= 600, 0);
  const acc = by.get("accept");
  const bacc = by.get("baseline-accept");
  if (acc && bacc)
    add("accept runs/s / baseline-accept", ">= 1.50×", acc.runsPerSec / bacc.runsPerSec, (v) => v >= 1.5, 2, "×");
  const alert = chat.find((c) => c.name === "alert-latency");
  add("alert-latency p50", "<= 50 ms", alert?.p50, (v) => v <= 50, 1, " ms");
  add("alert-latency p99", "<= 200 ms", alert?.p99, (v) => v <= 200, 1, " ms");
  add(
    "click-under-load p99",
    "<= 300 ms",
    chat.find((c) => c.name === "click-under-load")?.p99,
    (v) => v <= 300,
    1,
    " ms",
  );
  const rss = [...[...by.values()].map((x) => x.peakRss), ...chat.map((c) => c.peakRss)];
  if (rss.length) add("peak RSS, every scenario", "<= 200 MiB", MiB(Math.max(...rss)), (v) => v <= 200, 1, " MiB");
  add("D1 round trips, flow-ok run", "<= 3", d1?.flowOk, (v) => v <= 3, 0);
  add("D1 round trips, failed run + Slack alert", "<= 6", d1?.failedWithAlert, (v) => v <= 6, 0);
  return rows;
}

// ---------------------------------------------------------------- main

/** Whether BENCH_ONLY (or its absence) picks this chat scenario, the pages or prune-under-load. */
const included = (name: string) => (ONLY.length === 0 && !FLAG_SETS) || ONLY.includes(name);

/** The throughput scenarios of each round: BENCH_ONLY's, once per BENCH_FLAG_SETS set and BENCH_WAL_CHECKPOINT mode. */
function expandScenarios(): Scenario[] {
  const chosen = SCENARIOS.filter((s) => ONLY.length === 0 || ONLY.includes(s.name));
  const sets = FLAG_SETS;
  const flagged = sets
    ? chosen.flatMap((s) => sets.map((f) => ({ ...s, name: `${s.name} [${f.join(" ") || "no flags"}]`, v8Flags: f })))
    : chosen;
  return WAL_MODES.length
    ? flagged.flatMap((s) =>
        s.kind === "mend" ? WAL_MODES.map((m) => ({ ...s, name: `${s.name} [${m}]`, wal: m })) : [s],
      )
    : flagged;
}

/** The chat scenarios' runs: with BENCH_WAL_CHECKPOINT each BENCH_ROUNDS times, the modes in turn. */
function expandChatRuns(): { name: string; label: string; env?: Record<string, string> }[] {
  const chosen = CHAT_SCENARIOS.filter(included);
  return WAL_MODES.length
    ? chosen.flatMap((name) =>
        Array.from({ length: ROUNDS }, (_, r) =>
          WAL_MODES.map((m) => ({ name, label: `${name} [${m}] #${r + 1}`, env: { MEND_WAL_CHECKPOINT: m } })),
        ).flat(),
      )
    : chosen.map((name) => ({ name, label: name }));
}

const scenarios = expandScenarios();
const chatRuns = expandChatRuns();

async function main(): Promise<number> {
  const known = [...SCENARIOS.map((s) => s.name), ...CHAT_SCENARIOS, "d1-trips", "pages", "prune-under-load"];
  const unknown = ONLY.filter((n) => !known.includes(n));
  if (unknown.length)
    throw new Error(`BENCH_ONLY: unknown scenario(s) ${unknown.join(", ")} (known: ${known.join(", ")})`);
  if (CPU_PROF) mkdirSync(CPU_PROF, { recursive: true });

  const dir = mkdtempSync(join(tmpdir(), "mend-bench-"));
  const flowsDir = join(dir, "flows");
  mkdirSync(flowsDir);
  const upstream = await startChild("upstream", "upstream.ts", []);
  try {
    for (const flow of flowsFor(upstream.url))
      writeFileSync(join(flowsDir, `${String(flow.name)}.json`), JSON.stringify(flow, null, 2));
    const load = loadavg()
      .map((l) => l.toFixed(2))
      .join(", ");
    console.log(
      `mend bench: node ${process.version}, ${availableParallelism()} CPU(s), load average ${load} at the start, ${CONNECTIONS} connections, ` +
        `${SECONDS} s per scenario after ${WARMUP_SECONDS} s warm-up, ${ROUNDS} round(s), server flags: ${SERVER_V8_FLAGS.join(" ") || "none"}`,
    );
    const byName = new Map<string, Outcome[]>();
    for (let round = 1; round <= ROUNDS; round++) {
      for (const s of scenarios) {
        process.stdout.write(`  round ${round}: ${s.name} … `);
        const o = await runScenario(s, round, dir, flowsDir, upstream);
        console.log(`${fmt(o.runsPerSec)} runs/s, p99 ${fmt(o.p99)} ms${o.failures.length ? " (CHECK FAILED)" : ""}`);
        byName.set(s.name, [...(byName.get(s.name) ?? []), o]);
      }
    }
    const chat: ChatOutcome[] = [];
    for (const { name, label, env } of chatRuns) {
      process.stdout.write(`  ${label} … `);
      const c = await runChatScenario(name, { label, env, dir, flowsDir, upstream, noisy });
      console.log(
        `p50 ${fmt(c.p50)} ms, p99 ${fmt(c.p99)} ms over ${c.samples}${c.failures.length ? " (CHECK FAILED)" : ""}`,
      );
      chat.push(c);
    }
    let d1: D1Trips | undefined;
    if ((ONLY.length === 0 && !FLAG_SETS) || ONLY.includes("d1-trips")) {
      process.stdout.write("  d1-trips … ");
      d1 = await countD1Trips();
      console.log(`flow-ok ${d1.flowOk}, failed + alert ${d1.failedWithAlert}`);
    }
    console.log(
      `\nload average at the end: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(", ")}\n`,
    );
    report([...byName.values()].map(summarize), chat, d1);
    if (CPU_PROF) console.log(`\nCPU profiles written to ${CPU_PROF}`);
    // The `pages` scenario (issue 7): the run-history pages with 100,000 runs in the database.
    if (included("pages")) {
      console.log("\npages (history pages with 100k runs; bench/pages.ts):");
      await runPagesBench({ log: (line) => console.log(`  ${line}`) });
    }
    // prune-under-load (issue 14): accept's p99 while Retention.prune() deletes 500k old runs (BENCH_PRUNE_RUNS).
    if (included("prune-under-load")) {
      console.log("\nprune-under-load (bench/prune.ts):");
      await runPruneBench((line) => console.log(`  ${line}`));
    }
    const failed = [...byName.values()].flat().some((o) => o.failures.length) || chat.some((c) => c.failures.length);
    return failed ? 1 : 0;
  } finally {
    await upstream.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

// The whole run stops by itself: warm-up + measure per scenario run, plus generous room for start-up and checks,
// and for the pages (seeding 100k runs, ~2 min) and prune-under-load (seeding 500k, ~6.5 min) when they run.
const watchdogMs =
  ((scenarios.length * ROUNDS + chatRuns.length) * (SECONDS + WARMUP_SECONDS + 15) +
    300 +
    (included("pages") ? 600 : 0) +
    (included("prune-under-load") ? 1200 : 0)) *
  1000;
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
