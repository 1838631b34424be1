// How runs, attempts and alerts look in API answers: ISO-8601 UTC times, snake_case.
import type { AttemptRecord, OutboxRecord } from "../engine/ports";
import { externalOf } from "../hub/external";
import type { StoredRun } from "../store/runs";

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** `job` is the reported job of an external failure (POST /api/failures), null for flow runs. */
export function runSummary(r: StoredRun) {
  return {
    id: r.id,
    flow: r.flow,
    flow_version: r.flowVersion,
    status: r.status,
    job: externalOf(r)?.job ?? null,
    created_at: iso(r.createdAt),
    finished_at: iso(r.finishedAt),
    acked_by: r.marks.ackedBy,
  };
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

export function runView(
  r: StoredRun,
  attempts: AttemptRecord[],
  alerts: OutboxRecord[],
  extras?: Map<string, Record<string, unknown>>,
) {
  return {
    ...runSummary(r),
    input: r.input,
    output: r.output,
    error: r.error,
    replay_of: r.replayOf,
    acked_at: iso(r.marks.ackedAt),
    resolved_by: r.marks.resolvedBy,
    resolved_at: iso(r.marks.resolvedAt),
    resolution_note: r.marks.resolutionNote,
    ...(r.parentRun ? { parent_run: r.parentRun } : {}),
    ...(r.external ? { external: r.external } : {}),
    steps: attempts.map(attemptView),
    alerts: alerts.map((o) => alertView(o, extras?.get(o.id))),
  };
}
