// Loaded into the server by bench/pages.ts when BENCH_PAGES_TRACE is set (`node --import`): records what the
// server did, with epoch times the bench can line up with its own slow requests — every request (from the
// HTTP server's diagnostics channels), every SQL statement (its time and rows; the parameters the first
// time and when slow),
// every GC pause, and every event-loop stall. Written as JSON to BENCH_PAGES_TRACE_FILE when the process exits.
import Database from "better-sqlite3";
import { subscribe } from "node:diagnostics_channel";
import { writeFileSync } from "node:fs";
import { PerformanceObserver, performance } from "node:perf_hooks";

export type TraceEvent =
  | { k: "req"; at: number; ms: number; cpu: number; path: string }
  | { k: "sql"; at: number; ms: number; sql: number; rows: number; params?: unknown[] }
  | { k: "gc"; at: number; ms: number; kind: number }
  | { k: "stall"; at: number; ms: number; cpu: number };

export interface Trace {
  sql: string[];
  events: TraceEvent[];
}

const SLOW_SQL_MS = 2;
const TICK_MS = 5;
const STALL_MS = 20;

const out = process.env.BENCH_PAGES_TRACE_FILE;
if (out) {
  const epoch = () => performance.timeOrigin + performance.now();
  // CPU this process used, ms: a slow request that used little of it waited for a core (the machine is busy).
  const cpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const trace: Trace = { sql: [], events: [] };
  const sqlIds = new Map<string, number>();
  const sqlId = (text: string) => {
    let id = sqlIds.get(text);
    if (id === undefined) {
      id = trace.sql.push(text) - 1;
      sqlIds.set(text, id);
    }
    return id;
  };

  const probe = new Database(":memory:");
  const proto = Object.getPrototypeOf(probe.prepare("select 1")) as Record<string, unknown>;
  probe.close();
  for (const name of ["all", "get", "run"] as const) {
    const original = proto[name] as (...args: unknown[]) => unknown;
    proto[name] = function (this: { source: string }, ...args: unknown[]) {
      const at = epoch();
      const result = original.apply(this, args);
      const ms = epoch() - at;
      const rows = Array.isArray(result) ? result.length : result === undefined ? 0 : 1;
      const known = sqlIds.has(this.source);
      const keep = !known || ms >= SLOW_SQL_MS; // parameters to EXPLAIN it with
      trace.events.push({ k: "sql", at, ms, sql: sqlId(this.source), rows, ...(keep ? { params: args } : {}) });
      return result;
    };
  }

  const started = new WeakMap<object, { at: number; cpu: number }>();
  subscribe("http.server.request.start", (m) =>
    started.set((m as { request: object }).request, { at: epoch(), cpu: cpu() }),
  );
  subscribe("http.server.response.finish", (m) => {
    const { request } = m as { request: { url?: string } };
    const s = started.get(request);
    if (s) trace.events.push({ k: "req", at: s.at, ms: epoch() - s.at, cpu: cpu() - s.cpu, path: request.url ?? "" });
  });

  new PerformanceObserver((list) => {
    for (const e of list.getEntries())
      trace.events.push({
        k: "gc",
        at: performance.timeOrigin + e.startTime,
        ms: e.duration,
        kind: (e as { detail?: { kind?: number } }).detail?.kind ?? 0,
      });
  }).observe({ entryTypes: ["gc"] });

  let last = epoch();
  let lastCpu = cpu();
  setInterval(() => {
    const now = epoch();
    const used = cpu();
    if (now - last > TICK_MS + STALL_MS)
      trace.events.push({ k: "stall", at: last + TICK_MS, ms: now - last - TICK_MS, cpu: used - lastCpu });
    last = now;
    lastCpu = used;
  }, TICK_MS).unref();

  process.on("exit", () => writeFileSync(out, JSON.stringify(trace)));
}
