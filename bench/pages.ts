// `npm run bench:pages`: the history pages on real history (issue 7).
//
// Fills a fresh SQLite file (migrations applied, WAL) with BENCH_PAGES_RUNS runs (default 100,000)
// spread over the last BENCH_PAGES_HOURS hours (default 24: every run lands in the failure-rate
// charts, the worst case for `/`), with their step attempts, outbox rows, chat alerts and replays —
// one bulk transaction through better-sqlite3. Then starts the real server (`src/entry/node.ts`, its
// own process, MEND_API_TOKEN set, signed in once through the token form) and drives each page with
// BENCH_PAGES_CONNECTIONS (default "1,10") keep-alive connections for BENCH_PAGES_SECONDS (default
// 4) after a 1 s warm-up, checking every answer, and prints p50/p99/max latency and pages/s — for the
// list with every filter it offers (flow, status, q, since/until, alone and together), and the run page.
//
// The server records what it does (bench/pages-trace.ts; BENCH_PAGES_TRACE=0 turns that off), and the
// bench prints, per page, each SQL statement its requests ran (per request, p50, max) with SQLite's plan
// (a full SCAN of a growing table flagged), the periodic work between requests, and for the slowest
// requests where their time went: a statement, a GC pause, an event-loop stall, or waiting for a core.
//
// BENCH_PAGES_DB=/tmp/pages-1m.db keeps the filled database in that file (and `<file>.json` beside it)
// and reuses it while BENCH_PAGES_RUNS and BENCH_PAGES_HOURS stay the same: 1M runs take minutes to fill.
//
// From bench/run.ts: `import { runPagesBench } from "./pages"` and call it (it returns the figures),
// or spawn `tsx bench/pages.ts` as a child. Everything listens on 127.0.0.1; the run stops by itself.
import Database from "better-sqlite3";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { monotonicFactory } from "ulid";
import { openSqlite } from "../src/store/sqlite-node";
import type { Trace } from "./pages-trace";
import { traceReport } from "./pages-trace-report";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const TOKEN = "bench-pages-token-0123456789";
const TARGET_P99_MS = 50;

export interface PagesBenchOptions {
  runs?: number;
  hours?: number;
  seconds?: number;
  connections?: number[];
  /** Keep the filled database in this file and reuse it when it holds the same runs/hours (BENCH_PAGES_DB). */
  dbFile?: string;
  log?: (line: string) => void;
}

export interface PageFigure {
  page: string;
  connections: number;
  requests: number;
  perSecond: number;
  p50: number;
  p99: number;
  max: number;
  errors: number;
}

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got '${raw}'`);
  return n;
}

// ------------------------------------------------------------------ fill

const FLOWS = ["orders", "billing", "crm-sync", "weather", "reports", "emails", "etl-nightly", "webhooks-out"];
const RARE = "audit"; // 0.5% of runs: the worst case for a flow + status filter
/** A flow broken for the last half hour: every run fails, and its chat alerts stay open (nothing fixed them). */
const BROKEN = "etl-nightly";
const BROKEN_MS = 30 * 60_000;

function flowDef(name: string, version: number) {
  return {
    name,
    description: `${name} (bench)`,
    retry: { max_attempts: 3, delay_ms: 100 },
    steps: [
      { id: "fetch", http: { method: "GET", url: `https://api.example/${name}/{{ input.order }}` } },
      { id: "transform", compute: { order: "{{ input.order }}", total: "{{ steps.fetch.body.total }}", v: version } },
      { id: "deliver", http: { method: "POST", url: `https://sink.example/${name}`, body: "{{ steps.transform }}" } },
    ],
    on_failure: [{ id: "fallback", compute: { queued: true, reason: "{{ error.message }}" } }],
  };
}

export interface Filled {
  file: string;
  ids: { failed: string[]; succeeded: string[]; replays: string[] };
  deepCursor: string;
  /** created_at of the run in the middle: an `until` far from now. */
  middleTime: number;
  /** The fill's "now": the newest run is just before it. */
  endTime: number;
  fillMs: number;
}

/**
 * A filled database kept between runs: `file` with a `<file>.json` beside it naming what it holds. Reused
 * when it holds the same runs and hours (its times then are as old as the fill, so "the last hour" is
 * the fill's last hour, not the clock's); filled afresh otherwise.
 */
export function fillOrReuse(file: string, runs: number, hours: number): Filled & { reused: boolean } {
  const meta = `${file}.json`;
  if (existsSync(file) && existsSync(meta)) {
    const kept = JSON.parse(readFileSync(meta, "utf8")) as Filled & { runs: number; hours: number };
    if (kept.runs === runs && kept.hours === hours) {
      if (kept.endTime === undefined) {
        const db = new Database(file, { readonly: true });
        kept.endTime = (db.prepare("select max(created_at) as t from runs").get() as { t: number }).t + 1;
        db.close();
      }
      return { ...kept, file, reused: true };
    }
  }
  for (const f of [file, `${file}-wal`, `${file}-shm`, meta]) rmSync(f, { force: true });
  const filled = fill(file, runs, hours);
  writeFileSync(meta, JSON.stringify({ ...filled, runs, hours }));
  return { ...filled, reused: false };
}

export function fill(file: string, runs: number, hours: number): Filled {
  const started = performance.now();
  const d = openSqlite(file); // creates the file and applies the migrations
  void d.close();
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  const now = Date.now();
  const span = hours * 3_600_000;
  const ulid = monotonicFactory();
  const ins = {
    flow: db.prepare("insert into flows (name, latest_version, created_at, updated_at) values (?, ?, ?, ?)"),
    version: db.prepare("insert into flow_versions (name, version, definition, created_at) values (?, ?, ?, ?)"),
    run: db.prepare(
      "insert into runs (id, flow, flow_version, status, input, output, error, cursor, due_at, lease_until, replay_of, external, created_at, updated_at, finished_at) values (?, ?, ?, ?, ?, ?, ?, ?, null, null, ?, null, ?, ?, ?)",
    ),
    attempt: db.prepare(
      "insert into step_attempts (run_id, step, attempt, phase, status, started_at, finished_at, duration_ms, output, error) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    ),
    outbox: db.prepare(
      "insert into outbox (id, run_id, handler_id, kind, payload, status, attempts, next_attempt_at, last_error, response, created_at, delivered_at) values (?, ?, ?, ?, ?, 'delivered', 1, null, null, ?, ?, ?)",
    ),
    alert: db.prepare(
      "insert into alerts (id, handler_id, kind, run_id, group_key, count, ref, state, created_at, updated_at) values (?, ?, 'slack', ?, ?, 1, ?, ?, ?, ?)",
    ),
    handler: db.prepare(
      "insert into handlers (id, name, kind, config, match, enabled, created_at, updated_at) values (?, ?, ?, ?, null, 1, ?, ?)",
    ),
  };
  const ids: Filled["ids"] = { failed: [], succeeded: [], replays: [] };
  let deepCursor = "";
  let middleTime = 0;
  let rnd = 42;
  const random = () => (rnd = (rnd * 1103515245 + 12345) % 2147483648) / 2147483648;
  db.transaction(() => {
    const t0 = now - span - 86_400_000;
    for (const name of [...FLOWS, RARE]) {
      ins.version.run(name, 1, JSON.stringify(flowDef(name, 1)), t0);
      ins.version.run(name, 2, JSON.stringify(flowDef(name, 2)), t0 + 1000);
      ins.flow.run(name, 2, t0, t0 + 1000);
    }
    ins.handler.run("H0SLACK", "ops-slack", "slack", JSON.stringify({ channel: "C0OPS" }), t0, t0);
    ins.handler.run(
      "H1WEBHOOK",
      "pager",
      "webhook",
      JSON.stringify({ url: "https://pager.example/hook", secret: "whsec_" + "A".repeat(43) + "=" }),
      t0,
      t0,
    );
    for (let i = 0; i < runs; i++) {
      const created = Math.floor(now - span + (i * span) / runs);
      const id = ulid(created);
      if (i === Math.floor(runs / 2)) (deepCursor = id), (middleTime = created);
      const flow = random() < 0.005 ? RARE : FLOWS[i % FLOWS.length]!;
      const r = random();
      const status =
        flow === BROKEN && created > now - BROKEN_MS
          ? "failed"
          : r < 0.86
            ? "succeeded"
            : r < 0.93
              ? "failed"
              : r < 0.97
                ? "recovered"
                : r < 0.99
                  ? "cancelled"
                  : "succeeded";
      const replayOf = r >= 0.99 && ids.failed.length ? ids.failed[ids.failed.length - 1]! : null;
      const input = JSON.stringify({
        order: 100_000 + i,
        customer: `user${i % 5000}@example.com`,
        items: [{ sku: `SKU-${i % 977}`, qty: 1 + (i % 3) }],
        note: "bench",
      });
      let t = created + 2;
      const attempt = (step: string, n: number, phase: string, ok: boolean, ms: number, out: unknown, err: unknown) => {
        ins.attempt.run(
          id,
          step,
          n,
          phase,
          ok ? "succeeded" : "failed",
          t,
          t + ms,
          ms,
          out === null ? null : JSON.stringify(out),
          err === null ? null : JSON.stringify(err),
        );
        t += ms + 1;
      };
      const body = {
        status: 200,
        headers: { "content-type": "application/json" },
        body: { total: (i % 1000) / 10, currency: "EUR", id: `ord_${i}` },
      };
      const httpErr = {
        message: `GET https://api.example/${flow}/${100_000 + i} returned 503`,
        type: "http_status",
        step: "transform",
        attempts: 3,
        status: 503,
        details: { body: "upstream unavailable", headers: {} },
      };
      attempt("fetch", 1, "main", true, 20 + (i % 40), body, null);
      let error: unknown = null;
      let output: unknown = null;
      if (status === "succeeded") {
        attempt("transform", 1, "main", true, 1, { order: 100_000 + i, total: (i % 1000) / 10 }, null);
        attempt(
          "deliver",
          1,
          "main",
          true,
          30 + (i % 25),
          { status: 202, headers: {}, body: { accepted: true } },
          null,
        );
        output = { status: 202, headers: {}, body: { accepted: true } };
      } else if (status === "cancelled") {
        const err = { message: "the run was cancelled", type: "cancelled" };
        attempt("transform", 1, "main", false, 5, null, err);
        error = err;
      } else {
        for (let n = 1; n <= 3; n++)
          attempt(
            "transform",
            n,
            "main",
            false,
            15,
            { status: 503, body: "upstream unavailable" },
            { ...httpErr, attempts: n },
          ),
            (t += 100 * n);
        if (status === "recovered") {
          attempt("fallback", 1, "on_failure", true, 1, { queued: true, reason: httpErr.message }, null);
          output = { queued: true, reason: httpErr.message };
        } else error = httpErr;
        const slack = i % 2 === 0;
        const oid = ulid(t);
        const payload = {
          run: { id, flow, flow_version: 2, status },
          failed: { status: 503, body: "upstream unavailable", error: httpErr },
          error: httpErr,
          input: JSON.parse(input),
        };
        ins.outbox.run(
          oid,
          id,
          slack ? "H0SLACK" : null,
          slack ? "slack" : "log",
          JSON.stringify(payload),
          JSON.stringify(slack ? { ok: true, ts: `${t}.000100` } : { logged: true }),
          t,
          t + 40,
        );
        // As ChatAlerts keeps it: the message's ref and a state holding the alert's payload.
        if (slack)
          ins.alert.run(
            ulid(t),
            "H0SLACK",
            id,
            JSON.stringify([flow, "transform", "http_status"]), // groupKeyOf's shape
            JSON.stringify({ channel: "C0OPS", ts: `${t}.000100` }),
            JSON.stringify({ payload, gen: 1, target_run: id, deliveries: [oid], runs: [id] }),
            t,
            t + 40,
          );
      }
      const cursor = JSON.stringify({ phase: status === "recovered" ? "on_failure" : "main", index: 3, attempt: 0 });
      ins.run.run(
        id,
        flow,
        2,
        status,
        input,
        output === null ? null : JSON.stringify(output),
        error === null ? null : JSON.stringify(error),
        cursor,
        replayOf,
        created,
        t,
        t,
      );
      if (status === "failed") ids.failed.push(id);
      else if (status === "succeeded" && !replayOf && ids.succeeded.length < 5000 && i % 7 === 0)
        ids.succeeded.push(id);
      if (replayOf) ids.replays.push(id);
    }
    // As FixedAlerts leaves them: an alert is closed once a run of its flow succeeded after it.
    db.prepare(
      `update alerts set state = json_set(state, '$.closed', json('true'), '$.fixed', json(fix)) from (
         select a.id as alert, (select json_object('run_id', r.id, 'at', r.finished_at) from runs r
           where r.flow = json_extract(a.group_key, '$[0]') and r.status = 'succeeded' and r.finished_at > a.created_at
           order by r.finished_at limit 1) as fix
         from alerts a) where alert = alerts.id and fix is not null`,
    ).run();
  })();
  db.pragma("wal_checkpoint(TRUNCATE)");
  db.close();
  return { file, ids, deepCursor, middleTime, endTime: now, fillMs: performance.now() - started };
}

// ---------------------------------------------------------------- server

interface Server {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** With `traceFile`, the server records what it does there (bench/pages-trace.ts). */
export async function startMend(
  file: string,
  dir: string,
  env: Record<string, string> = {},
  traceFile?: string,
): Promise<Server> {
  const flowsDir = join(dir, "flows");
  mkdirSync(flowsDir, { recursive: true });
  const trace = traceFile ? ["--import", join(ROOT, "bench/pages-trace.ts")] : [];
  const child = spawn(process.execPath, ["--import", "tsx", ...trace, join(ROOT, "src/entry/node.ts")], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: "0",
      HOST: "127.0.0.1",
      MEND_DB: file,
      MEND_FLOWS_DIR: flowsDir,
      MEND_API_TOKEN: TOKEN,
      ...(traceFile ? { BENCH_PAGES_TRACE_FILE: traceFile } : {}),
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
  const url = await new Promise<string>((resolveUrl, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`mend did not start in 30 s: ${stderr}`)), 30_000);
    child.stdout!.on("data", (c: Buffer) => {
      out += c.toString();
      const m = /mend listening on (http:\/\/[^\s]+)/.exec(out);
      if (m) clearTimeout(timer), resolveUrl(m[1]!);
    });
    child.on("exit", (code) => (clearTimeout(timer), reject(new Error(`mend exited (${code}): ${stderr}`))));
  });
  child.stdout!.resume();
  return {
    url,
    child,
    stop: () =>
      new Promise<void>((r) => {
        if (child.exitCode !== null) return r();
        child.once("exit", () => r());
        child.kill("SIGTERM");
      }),
  };
}

async function signIn(url: string): Promise<string> {
  const res = await fetch(`${url}/login`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: `token=${TOKEN}&next=/`,
    redirect: "manual",
  });
  const cookie = res.headers.get("set-cookie")?.split(";")[0];
  if (res.status !== 303 || !cookie) throw new Error(`sign-in failed: ${res.status}`);
  return cookie;
}

// ---------------------------------------------------------------- driver

function get(agent: Agent, base: URL, path: string, cookie: string): Promise<{ status: number; body: string }> {
  return new Promise((resolveRes, reject) => {
    const req = request(
      { agent, host: base.hostname, port: base.port, path, headers: { cookie, accept: "text/html" } },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (body += c));
        res.on("end", () => resolveRes({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

/** One request the bench made: when (epoch ms), how long, which scenario. */
export interface Sample {
  at: number;
  ms: number;
  page: string;
  path: string;
}

export const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;

async function drive(
  url: string,
  cookie: string,
  label: string,
  next: () => string,
  marker: string,
  connections: number,
  seconds: number,
  samples?: Sample[],
): Promise<PageFigure> {
  const base = new URL(url);
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const latencies: number[] = [];
  let errors = 0;
  const warmEnd = performance.now() + 1000;
  const end = warmEnd + seconds * 1000;
  const worker = async () => {
    while (performance.now() < end) {
      const t = performance.now();
      const path = next();
      const res = await get(agent, base, path, cookie);
      const ms = performance.now() - t;
      if (res.status !== 200 || !res.body.includes(marker)) errors++;
      if (t >= warmEnd) latencies.push(ms), samples?.push({ at: performance.timeOrigin + t, ms, page: label, path });
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    page: label,
    connections,
    requests: latencies.length,
    perSecond: latencies.length / seconds,
    p50: pct(latencies, 50),
    p99: pct(latencies, 99),
    max: latencies.at(-1) ?? NaN,
    errors,
  };
}

// ------------------------------------------------------------------ main

export async function runPagesBench(o: PagesBenchOptions = {}): Promise<PageFigure[]> {
  const runs = o.runs ?? envNumber("BENCH_PAGES_RUNS", 100_000);
  const hours = o.hours ?? envNumber("BENCH_PAGES_HOURS", 24);
  const seconds = o.seconds ?? envNumber("BENCH_PAGES_SECONDS", 4);
  const connections =
    o.connections ??
    (process.env.BENCH_PAGES_CONNECTIONS ?? "1,10")
      .split(",")
      .map(Number)
      .filter((n) => n > 0);
  const log = o.log ?? ((line: string) => console.log(line));
  const kept = o.dbFile ?? (process.env.BENCH_PAGES_DB || undefined);
  const dir = mkdtempSync(join(tmpdir(), "mend-bench-pages-"));
  let server: Server | undefined;
  try {
    const filled = kept
      ? fillOrReuse(resolve(kept), runs, hours)
      : { ...fill(join(dir, "mend.db"), runs, hours), reused: false };
    log(
      filled.reused
        ? `pages: reusing ${filled.file}: ${runs.toLocaleString("en")} runs over ${hours} h (${filled.ids.failed.length} failed)`
        : `pages: filled ${runs.toLocaleString("en")} runs over ${hours} h in ${(filled.fillMs / 1000).toFixed(1)} s (${filled.ids.failed.length} failed)`,
    );
    const traceFile = process.env.BENCH_PAGES_TRACE === "0" ? undefined : join(dir, "trace.json");
    const samples: Sample[] = [];
    server = await startMend(filled.file, dir, {}, traceFile);
    const cookie = await signIn(server.url);
    const middle = new Date(filled.middleTime).toISOString();
    // "1h" on a fresh fill; on a reused one the fill's last hour, as the clock has moved on since.
    const lastHour = filled.reused ? new Date(filled.endTime - 3_600_000).toISOString() : "1h";
    const afterEnd = new Date(filled.endTime + 60_000).toISOString();
    const beforeStart = new Date(filled.endTime - hours * 3_600_000 - 120_000).toISOString();
    // Runs are inserted in order, so the middle run's rowid is half the runs: a text search's page there.
    const deepTextCursor = `t.${Math.floor(runs / 2)}`;
    let k = 0;
    const pick = (list: string[]) => list[(k = (k * 7919 + 13) % 1_000_003) % list.length]!;
    const scenarios: [string, () => string, string][] = [
      ["/", () => "/", '<table class="runs stack">'],
      ["/?status=failed", () => "/?status=failed", '<table class="runs stack">'],
      ["/?flow=orders", () => "/?flow=orders", '<table class="runs stack">'],
      [`/?flow=${RARE}`, () => `/?flow=${RARE}`, '<table class="runs stack">'],
      ["/?flow=orders&status=failed", () => "/?flow=orders&status=failed", 'data-status="failed"'],
      [`/?flow=${RARE}&status=cancelled`, () => `/?flow=${RARE}&status=cancelled`, 'data-status="cancelled"'],
      ["/?cursor=<middle>", () => `/?cursor=${filled.deepCursor}`, '<table class="runs stack">'],
      ["/?q=<run id prefix>", () => `/?q=${pick(filled.ids.failed).slice(0, 14)}`, 'data-status="failed"'],
      [
        "/?q=<customer email>",
        () => `/?q=user${pick(filled.ids.failed).charCodeAt(20) * 37}%40example.com`,
        '<table class="runs stack">',
      ],
      ["/?q=bench (every run)", () => "/?q=bench", '<table class="runs stack">'],
      ["/?q=bench&status=failed", () => "/?q=bench&status=failed", 'data-status="failed"'],
      [`/?q=bench&flow=${RARE}`, () => `/?q=bench&flow=${RARE}`, '<table class="runs stack">'],
      [
        "/?q=<customer email>&status=failed",
        () => `/?q=user${pick(filled.ids.failed).charCodeAt(20) * 37}%40example.com&status=failed`,
        '<table class="runs stack">',
      ],
      ["/?since=<last hour>", () => `/?since=${lastHour}`, '<table class="runs stack">'],
      ["/?since=<last hour>&status=cancelled", () => `/?since=${lastHour}&status=cancelled`, 'data-status="cancelled"'],
      [`/?until=<middle>&status=failed`, () => `/?until=${middle}&status=failed`, 'data-status="failed"'],
      [`/?until=<middle>&flow=${RARE}`, () => `/?until=${middle}&flow=${RARE}`, '<table class="runs stack">'],
      [
        "/?since=<middle-1h>&until=<middle>",
        () => `/?since=${new Date(filled.middleTime - 3_600_000).toISOString()}&until=${middle}`,
        '<table class="runs stack">',
      ],
      ["/?q=bench&until=<middle>", () => `/?q=bench&until=${middle}`, '<table class="runs stack">'],
      ["/?q=bench&since=<last hour>", () => `/?q=bench&since=${lastHour}`, '<table class="runs stack">'],
      ["/?q=bench&cursor=<middle>", () => `/?q=bench&cursor=${deepTextCursor}`, 'data-status="'],
      ["/?q=bench&since=<after the last>", () => `/?q=bench&since=${afterEnd}`, "No runs match these filters"],
      ["/?q=bench&until=<before the first>", () => `/?q=bench&until=${beforeStart}`, "No runs match these filters"],
      ["/runs/:id (failed)", () => `/runs/${pick(filled.ids.failed)}`, '<section id="run"'],
      ["/runs/:id (succeeded)", () => `/runs/${pick(filled.ids.succeeded)}`, '<section id="run"'],
    ];
    const figures: PageFigure[] = [];
    for (const c of connections)
      for (const [label, next, marker] of scenarios) {
        const f = await drive(server.url, cookie, label, next, marker, c, seconds, samples);
        figures.push(f);
        log(
          `${label.padEnd(30)} conns ${String(c).padStart(2)}  p50 ${f.p50.toFixed(2).padStart(6)} ms  p99 ${f.p99.toFixed(2).padStart(6)} ms  max ${f.max.toFixed(1).padStart(6)} ms  ${f.perSecond.toFixed(0).padStart(5)} pages/s${f.errors ? `  ${f.errors} BAD ANSWERS` : ""}`,
        );
      }
    const single = figures.filter((f) => f.connections === Math.min(...connections));
    const worst = Math.max(...single.map((f) => f.p99));
    log(
      `target p99 ≤ ${TARGET_P99_MS} ms (${Math.min(...connections)} connection${Math.min(...connections) === 1 ? "" : "s"}): ${worst <= TARGET_P99_MS ? "met" : "NOT met"} (worst p99 ${worst.toFixed(2)} ms)`,
    );
    if (traceFile) {
      await server.stop();
      const trace = JSON.parse(readFileSync(traceFile, "utf8")) as Trace;
      const report = traceReport(trace, samples, filled.file);
      for (const line of report.lines) log(line);
      log(
        `full scans of a growing table: ${report.fullScans === 0 ? "none" : `${report.fullScans} (FULL SCAN above)`}`,
      );
    }
    if (figures.some((f) => f.errors)) throw new Error("some pages answered wrongly");
    return figures;
  } finally {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runPagesBench().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(`bench:pages: ${(err as Error).message}`);
      process.exit(1);
    },
  );
}
