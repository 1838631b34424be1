// How runs, attempts and alerts look in API answers: ISO-8601 UTC times, snake_case.
import type { AttemptRecord, OutboxRecord, RunRecord } from "../engine/ports";

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function runSummary(r: RunRecord) {
  return { id: r.id, flow: r.flow, flow_version: r.flowVersion, status: r.status, created_at: iso(r.createdAt), finished_at: iso(r.finishedAt) };
}

export function attemptView(a: AttemptRecord) {
  return {
    step: a.step,
    phase: a.phase,
    attempt: a.attempt,
    status: a.status,
    started_at: iso(a.startedAt),
    finished_at: iso(a.finishedAt),
    duration_ms: a.durationMs,
    output: a.output,
    error: a.error,
  };
}

export function alertView(o: OutboxRecord, extra?: Record<string, unknown>) {
  return {
    id: o.id,
    handler_id: o.handlerId,
    ...extra,
    kind: o.kind,
    status: o.status,
    attempts: o.attempts,
    last_error: o.lastError,
    response: o.response,
    created_at: iso(o.createdAt),
    delivered_at: iso(o.deliveredAt),
  };
}

export function runView(r: RunRecord, attempts: AttemptRecord[], alerts: OutboxRecord[], extras?: Map<string, Record<string, unknown>>) {
  return {
    ...runSummary(r),
    input: r.input,
    output: r.output,
    error: r.error,
    replay_of: r.replayOf,
    ...(r.external ? { external: r.external } : {}),
    steps: attempts.map(attemptView),
    alerts: alerts.map((o) => alertView(o, extras?.get(o.id))),
  };
}
