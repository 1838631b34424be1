// The metrics on Node: prom-client in a registry of our own (no global), plus Node's process metrics.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { DURATION_BUCKETS, HELP, type Gauges, type Metrics } from "../metrics";

export function promMetrics(): Metrics {
  const registers = [new Registry()];
  const register = registers[0]!;
  collectDefaultMetrics({ register, prefix: "mend_process_" });
  const runs = new Counter({
    name: "mend_runs_total",
    help: HELP.mend_runs_total,
    labelNames: ["flow", "status"],
    registers,
  });
  const attempts = new Counter({
    name: "mend_step_attempts_total",
    help: HELP.mend_step_attempts_total,
    labelNames: ["flow", "step", "outcome"],
    registers,
  });
  const deliveries = new Counter({
    name: "mend_alert_deliveries_total",
    help: HELP.mend_alert_deliveries_total,
    labelNames: ["kind", "outcome"],
    registers,
  });
  const outboxPending = new Gauge({ name: "mend_outbox_pending", help: HELP.mend_outbox_pending, registers });
  const runsActive = new Gauge({ name: "mend_runs_active", help: HELP.mend_runs_active, registers });
  const duration = new Histogram({
    name: "mend_http_request_duration_seconds",
    help: HELP.mend_http_request_duration_seconds,
    labelNames: ["method", "route", "status"],
    buckets: DURATION_BUCKETS,
    registers,
  });
  return {
    contentType: register.contentType,
    runEnded: (flow, status) => runs.inc({ flow, status }),
    stepAttempt: (flow, step, outcome) => attempts.inc({ flow, step, outcome }),
    alertDelivery: (kind, outcome) => deliveries.inc({ kind, outcome }),
    httpRequest: (method, route, status, seconds) =>
      duration.observe({ method, route, status: String(status) }, seconds),
    async render(g: Gauges) {
      outboxPending.set(g.outboxPending);
      runsActive.set(g.runsActive);
      return register.metrics();
    },
  };
}
