// The metrics SPEC §13 names. Node backs them with prom-client (src/entry/prom-metrics.ts); Workers with
// TextMetrics below (per isolate). Counting happens where writes and deliveries already pass: services.ts.
import type { Write } from "./engine/ports";

export interface Gauges {
  outboxPending: number;
  runsActive: number;
}

export interface Metrics {
  runEnded(flow: string, status: string): void;
  stepAttempt(flow: string, step: string, outcome: string): void;
  alertDelivery(kind: string, outcome: "delivered" | "failed"): void;
  httpRequest(method: string, route: string, status: number, seconds: number): void;
  /** Prometheus text exposition; gauges are read from the database at scrape time. */
  render(gauges: Gauges): Promise<string>;
  readonly contentType: string;
}

export const HELP = {
  mend_runs_total: "Runs that ended, by flow and final status.",
  mend_step_attempts_total: "Step attempts that finished, by flow, step and outcome.",
  mend_alert_deliveries_total: "Outbox deliveries to handlers, by handler kind and outcome.",
  mend_outbox_pending: "Alerts waiting in the outbox (not yet delivered or given up).",
  mend_runs_active: "Runs queued, running or waiting for a retry.",
  mend_http_request_duration_seconds: "HTTP request duration by method, route and status.",
} as const;

export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const ENDED = new Set(["succeeded", "recovered", "failed", "cancelled"]);

/**
 * Counts ended runs and finished attempts from the engine's writes. The flow of a run is learnt from
 * the rows the engine reads or inserts (`remember`), so the engine itself knows nothing of metrics.
 */
export class RunCounter {
  private readonly flows = new Map<string, string>();

  constructor(private readonly metrics: Metrics) {}

  remember(id: string, flow: string): void {
    if (this.flows.size >= 10_000) this.flows.delete(this.flows.keys().next().value!);
    this.flows.set(id, flow);
  }

  flowOf(id: string): string {
    return this.flows.get(id) ?? "unknown";
  }

  ended(id: string, status: string): void {
    this.metrics.runEnded(this.flowOf(id), status);
    this.flows.delete(id);
  }

  count(writes: Write[]): void {
    for (const w of writes) {
      if (w.op === "insertRun") {
        this.remember(w.run.id, w.run.flow);
        if (ENDED.has(w.run.status)) this.ended(w.run.id, w.run.status);
      } else if (w.op === "putAttempt" && w.attempt.status !== "running") {
        this.metrics.stepAttempt(this.flowOf(w.attempt.runId), w.attempt.step, w.attempt.status);
      } else if (w.op === "updateRun" && w.set.status && ENDED.has(w.set.status)) {
        this.ended(w.id, w.set.status);
      }
    }
  }
}

const esc = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
const labels = (names: string[], values: string[]) => `{${names.map((n, i) => `${n}="${esc(values[i]!)}"`).join(",")}}`;

/** The same metrics as Prometheus text without prom-client (Workers): counters live as long as the isolate. */
export class TextMetrics implements Metrics {
  readonly contentType = "text/plain; version=0.0.4; charset=utf-8";
  private readonly counters = new Map<string, Map<string, number>>();
  private readonly histogram = new Map<string, { buckets: number[]; sum: number; count: number }>();

  private inc(name: string, key: string): void {
    const m = this.counters.get(name) ?? new Map<string, number>();
    this.counters.set(name, m);
    m.set(key, (m.get(key) ?? 0) + 1);
  }

  runEnded(flow: string, status: string): void {
    this.inc("mend_runs_total", labels(["flow", "status"], [flow, status]));
  }

  stepAttempt(flow: string, step: string, outcome: string): void {
    this.inc("mend_step_attempts_total", labels(["flow", "step", "outcome"], [flow, step, outcome]));
  }

  alertDelivery(kind: string, outcome: string): void {
    this.inc("mend_alert_deliveries_total", labels(["kind", "outcome"], [kind, outcome]));
  }

  httpRequest(method: string, route: string, status: number, seconds: number): void {
    const key = `${method}\u0000${route}\u0000${status}`;
    const h = this.histogram.get(key) ?? { buckets: DURATION_BUCKETS.map(() => 0), sum: 0, count: 0 };
    this.histogram.set(key, h);
    DURATION_BUCKETS.forEach((b, i) => {
      if (seconds <= b) h.buckets[i]!++;
    });
    h.sum += seconds;
    h.count++;
  }

  async render(g: Gauges): Promise<string> {
    const out: string[] = [];
    for (const name of ["mend_runs_total", "mend_step_attempts_total", "mend_alert_deliveries_total"] as const) {
      out.push(`# HELP ${name} ${HELP[name]}`, `# TYPE ${name} counter`);
      for (const [key, v] of this.counters.get(name) ?? []) out.push(`${name}${key} ${v}`);
    }
    out.push(
      `# HELP mend_outbox_pending ${HELP.mend_outbox_pending}`,
      "# TYPE mend_outbox_pending gauge",
      `mend_outbox_pending ${g.outboxPending}`,
    );
    out.push(
      `# HELP mend_runs_active ${HELP.mend_runs_active}`,
      "# TYPE mend_runs_active gauge",
      `mend_runs_active ${g.runsActive}`,
    );
    const h = "mend_http_request_duration_seconds";
    out.push(`# HELP ${h} ${HELP[h]}`, `# TYPE ${h} histogram`);
    for (const [key, v] of this.histogram) {
      const [method, route, status] = key.split("\u0000") as [string, string, string];
      const base = (extra: string[] = [], values: string[] = []) =>
        labels(["method", "route", "status", ...extra], [method, route, status, ...values]);
      DURATION_BUCKETS.forEach((b, i) => out.push(`${h}_bucket${base(["le"], [String(b)])} ${v.buckets[i]}`));
      out.push(
        `${h}_bucket${base(["le"], ["+Inf"])} ${v.count}`,
        `${h}_sum${base()} ${v.sum}`,
        `${h}_count${base()} ${v.count}`,
      );
    }
    return `${out.join("\n")}\n`;
  }
}
