// Failures reported by other systems: stored as failed runs of flow `external:<source>`, alerted
// through the planner in the same transaction; a later success report resolves them.
import { and, desc, eq, sql } from "drizzle-orm";
import { runs } from "../../db/schema";
import { createPlanner } from "../alerts/plan";
import type { Deps } from "../deps";
import type { ErrorContext } from "../engine/errors";
import type { AlertPayload, AttemptRecord, RunRecord } from "../engine/ports";
import { makeRedactor } from "../engine/redact";
import { toRun } from "../store/run-row";
import type { FailureReport, ReportFormat } from "./report";

export const EXTERNAL_PREFIX = "external:";

/** What the run's `external` column holds. */
export interface ExternalInfo {
  source: string;
  job: string;
  format: ReportFormat;
  link?: string;
  retry_url?: string;
  replay_url?: string;
}

export function externalOf(run: RunRecord): ExternalInfo | undefined {
  const e = run.external as ExternalInfo | null;
  return e && typeof e === "object" && typeof e.source === "string" ? e : undefined;
}

type HubDeps = Pick<
  Deps,
  | "config"
  | "clock"
  | "newId"
  | "runs"
  | "flows"
  | "handlers"
  | "silences"
  | "dispatcher"
  | "waitUntil"
  | "db"
  | "log"
  | "clicks"
  | "runActions"
>;

/** Stores a reported failure as a failed run with one failed step attempt and its alerts, in one transaction. */
export async function recordFailure(
  deps: HubDeps,
  report: FailureReport & { error: NonNullable<FailureReport["error"]> },
): Promise<RunRecord> {
  const now = deps.clock.now();
  const redact = makeRedactor(deps.config.secrets);
  const step = report.step ?? report.job;
  const error: ErrorContext = redact({
    message: report.error.message,
    type: report.error.type,
    step,
    attempts: 1,
    ...(report.error.details ? { details: report.error.details } : {}),
  });
  const input = report.input === undefined ? null : redact(report.input);
  const external: ExternalInfo = { source: report.source, job: report.job, format: report.format };
  if (report.link) external.link = report.link;
  if (report.retry_url) external.retry_url = report.retry_url;
  if (report.replay_url) external.replay_url = report.replay_url;
  const run: RunRecord = {
    id: deps.newId(),
    flow: EXTERNAL_PREFIX + report.source,
    flowVersion: 1,
    status: "failed",
    input,
    output: null,
    error,
    cursor: { phase: "main", index: 0, attempt: 1, primary: error },
    dueAt: null,
    replayOf: null,
    external,
    createdAt: now,
    updatedAt: now,
    finishedAt: now,
  };
  const attempt: AttemptRecord = {
    runId: run.id,
    step,
    attempt: 1,
    phase: "main",
    status: "failed",
    startedAt: now,
    finishedAt: now,
    durationMs: 0,
    output: null,
    error,
  };
  const base = deps.config.MEND_PUBLIC_URL?.replace(/\/$/, "");
  const payload: AlertPayload = {
    run: {
      id: run.id,
      flow: run.flow,
      flow_version: 1,
      status: "failed",
      ...(base ? { url: `${base}/runs/${run.id}` } : {}),
      replay_of: null,
    },
    failed: { error },
    error,
    external: { source: report.source, job: report.job },
  };
  if (input !== null) payload.input = input;
  if (report.link) payload.link = report.link;
  const rows = await createPlanner(deps)(payload, now);
  await deps.runs.commit([
    { op: "insertRun", run, leaseUntil: null },
    { op: "putAttempt", attempt },
    { op: "insertOutbox", rows },
  ]);
  // The alerts are due now: deliver them without waiting for the scheduler's next poll.
  deps.waitUntil(
    deps.dispatcher.tick().catch((err: unknown) => deps.log("error", "outbox tick failed", { error: String(err) })),
  );
  return run;
}

/** Open (failed) runs reported for this source and job, newest first. */
export async function openExternalRuns(deps: Pick<Deps, "db">, source: string, job: string): Promise<RunRecord[]> {
  const rows = await deps.db.db
    .select()
    .from(runs)
    .where(
      and(
        eq(runs.flow, EXTERNAL_PREFIX + source),
        eq(runs.status, "failed"),
        sql`json_extract(${runs.external}, '$.job') = ${job}`,
      ),
    )
    .orderBy(desc(runs.id))
    .all();
  return rows.map(toRun);
}

/**
 * A success report for source + job: every open failed run of it becomes `succeeded`, and its chat
 * alerts are edited to say so (deps.clicks.resolved, in the background). Returns the runs it
 * changed (newest first).
 */
export async function resolveExternal(deps: HubDeps, source: string, job: string): Promise<RunRecord[]> {
  const now = deps.clock.now();
  const resolved: RunRecord[] = [];
  for (const run of await openExternalRuns(deps, source, job)) {
    const output = { resolved: true, resolved_at: new Date(now).toISOString(), resolved_by: "success report" };
    // Only a run still `failed` changes: a concurrent report or a click may have won.
    if (
      await deps.runs.transition(run.id, "failed", { status: "succeeded", output, finishedAt: now, updatedAt: now })
    ) {
      resolved.push({ ...run, status: "succeeded", output, finishedAt: now, updatedAt: now });
    }
  }
  for (const run of resolved) {
    deps.runActions.externalResolved(run);
    const edit = deps.clicks.resolved(run, `${source} reported ${job} succeeded`);
    deps.waitUntil(
      edit.catch((err: unknown) =>
        deps.log("warn", "could not mark the alerts of a resolved run", { run: run.id, error: String(err) }),
      ),
    );
  }
  return resolved;
}
