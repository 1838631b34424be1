// What the server did during the bench (recorded by bench/pages-trace.ts), lined up with the bench's requests:
// - per page: the server's own p50/p99, GC, event-loop stalls, and each SQL statement its requests ran
//   (per request, p50, max);
// - the periodic work that ran between requests (scheduler ticks, retention, heartbeats), the same way;
// - every statement once: SQLite's plan with the parameters it ran with, a full SCAN of a table flagged;
// - the slowest requests of each page, and where their time went (statement, GC, stall, waiting for a core).
import Database from "better-sqlite3";
import type { Sample } from "./pages";
import type { Trace, TraceEvent } from "./pages-trace";

const SLOWEST_PER_PAGE = 3;
/** A request is worth explaining past this many ms and twice its page's median. */
const SLOW_MS = 20;
/** A whole-table scan of one of these is flagged: they grow with the history. */
const FULL_SCAN = /\bSCAN (runs|step_attempts|outbox|alerts|escalations|action_claims|actions)\b(?! USING)/;

type Of<K extends TraceEvent["k"]> = Extract<TraceEvent, { k: K }>;

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
};
const f1 = (n: number) => n.toFixed(1);
const oneLine = (sql: string) => sql.replace(/\s+/g, " ");
const short = (sql: string, n = 100) => {
  const s = oneLine(sql);
  return s.length > n ? `${s.slice(0, n)}…` : s;
};
const during = <E extends TraceEvent>(events: E[], from: number, to: number) =>
  events.filter((e) => e.at < to && e.at + e.ms > from);

export interface TraceSummary {
  lines: string[];
  /** Statements whose plan scans a whole growing table. */
  fullScans: number;
}

export function traceReport(trace: Trace, samples: Sample[], dbFile: string): TraceSummary {
  const lines: string[] = [];
  const byKind = <K extends TraceEvent["k"]>(k: K) =>
    trace.events.filter((e): e is Of<K> => e.k === k).sort((a, b) => a.at - b.at);
  const reqs = byKind("req");
  const sqls = byKind("sql");
  const gcs = byKind("gc");
  const stalls = byKind("stall");
  const inRequest = (e: Of<"sql">) => during(reqs, e.at, e.at + e.ms).length > 0;
  // A statement that runs between requests at least as often as inside them is periodic work (a scheduler
  // pass may overlap a request); one the pages run (and, now and then, something else) is the pages'.
  const outside = new Map<number, number>();
  for (const e of sqls) outside.set(e.sql, (outside.get(e.sql) ?? 0) + (inRequest(e) ? -1 : 1));
  const periodic = new Set([...outside].filter(([, n]) => n >= 0).map(([id]) => id));

  const db = new Database(dbFile, { readonly: true });
  const plans = new Map<number, string>();
  const plan = (e: Of<"sql">) => {
    let p = plans.get(e.sql);
    if (p === undefined) {
      const params = e.params ?? sqls.find((x) => x.sql === e.sql && x.params)?.params ?? [];
      try {
        p = (db.prepare(`explain query plan ${trace.sql[e.sql]!}`).all(...params) as { detail: string }[])
          .map((r) => r.detail)
          .join("; ");
      } catch (err) {
        p = `(no plan: ${(err as Error).message})`;
      }
      plans.set(e.sql, p);
    }
    return p;
  };

  const shown: number[] = [];
  const statements = (events: Of<"sql">[], per: number, label: (n: number) => string) => {
    const by = new Map<number, Of<"sql">[]>();
    for (const e of events) by.set(e.sql, [...(by.get(e.sql) ?? []), e]);
    for (const [id, es] of [...by].sort(
      (a, b) => b[1].reduce((s, e) => s + e.ms, 0) - a[1].reduce((s, e) => s + e.ms, 0),
    )) {
      if (!shown.includes(id)) shown.push(id);
      const ms = es.map((e) => e.ms);
      const flag = FULL_SCAN.test(plan(es[0]!)) ? "  FULL SCAN" : "";
      lines.push(
        `    #${shown.indexOf(id) + 1} ${label(es.length / per)} p50 ${f1(pct(ms, 50))} max ${f1(Math.max(...ms))} ms, ` +
          `rows max ${Math.max(...es.map((e) => e.rows))}${flag}  ${short(trace.sql[id]!, 70)}`,
      );
    }
  };

  lines.push("per page (server side; #n: the statements, plans below):");
  for (const page of [...new Set(samples.map((s) => s.page))]) {
    const mine = samples.filter((s) => s.page === page);
    const from = mine[0]!.at;
    const to = mine.at(-1)!.at + mine.at(-1)!.ms;
    const served = during(reqs, from, to);
    const gc = during(gcs, from, to);
    lines.push(
      `  ${page}: server p50 ${f1(
        pct(
          served.map((r) => r.ms),
          50,
        ),
      )} p99 ${f1(
        pct(
          served.map((r) => r.ms),
          99,
        ),
      )} ms; ` +
        `GC ${f1(gc.reduce((a, g) => a + g.ms, 0))} ms in ${gc.length} pauses; ${during(stalls, from, to).length} loop stalls`,
    );
    statements(
      during(sqls, from, to).filter((e) => !periodic.has(e.sql)),
      Math.max(1, served.length),
      (n) => `×${n.toFixed(1)}/req`,
    );
  }

  const first = samples[0]?.at ?? 0;
  const last = samples.at(-1) ? samples.at(-1)!.at + samples.at(-1)!.ms : 0;
  const background = during(sqls, first, last).filter((e) => periodic.has(e.sql));
  lines.push(
    `periodic work between requests (${f1(background.reduce((a, e) => a + e.ms, 0))} ms of SQL in ${f1((last - first) / 1000)} s):`,
  );
  statements(background, 1, (n) => `×${n}`);

  lines.push("statements:");
  let fullScans = 0;
  shown.forEach((id, i) => {
    const p = plan(sqls.find((e) => e.sql === id)!);
    if (FULL_SCAN.test(p)) fullScans++;
    lines.push(`  #${i + 1} ${FULL_SCAN.test(p) ? "FULL SCAN " : ""}${p}`, `      ${short(trace.sql[id]!, 400)}`);
  });

  lines.push("slowest requests (client time; server time and CPU; what ran meanwhile):");
  for (const page of [...new Set(samples.map((s) => s.page))]) {
    const mine = samples.filter((s) => s.page === page);
    const median = pct(
      mine.map((s) => s.ms),
      50,
    );
    for (const s of mine
      .filter((x) => x.ms > SLOW_MS && x.ms > 2 * median)
      .sort((a, b) => b.ms - a.ms)
      .slice(0, SLOWEST_PER_PAGE)) {
      const end = s.at + s.ms;
      const req = during(reqs, s.at, end).find((r) => r.path === s.path);
      const ran = during(sqls, s.at, end);
      const worst = [...ran].sort((a, b) => b.ms - a.ms)[0];
      const gc = during(gcs, s.at, end);
      const stall = during(stalls, s.at, end);
      lines.push(
        `  ${f1(s.ms)} ms ${s.path.slice(0, 50)}: server ${req ? `${f1(req.ms)} ms (cpu ${f1(req.cpu)})` : "?"},` +
          ` sql ${f1(ran.reduce((a, e) => a + e.ms, 0))} ms in ${ran.length}` +
          (worst && worst.ms >= 2 ? ` (worst #${shown.indexOf(worst.sql) + 1}: ${f1(worst.ms)} ms)` : "") +
          (gc.length ? `, GC ${gc.map((g) => f1(g.ms)).join("+")} ms` : "") +
          (stall.length ? `, loop stalls ${stall.map((g) => `${f1(g.ms)} (cpu ${f1(g.cpu)})`).join(" + ")} ms` : ""),
      );
    }
  }
  db.close();
  return { lines, fullScans };
}
