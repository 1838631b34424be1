// POST /api/runs/bulk: retry or replay up to 1000 runs, named or selected by a filter; each run is
// acted on once per request (duplicates dropped), and each answer says what happened to it.
import type { RunFilter, RunRepo } from "../store/runs";
import type { ActionOutcome, ActionRequest, Actor } from "./outcome";

export const BULK_MAX = 1000;

export interface BulkRequest {
  action: "retry" | "replay";
  runIds?: string[];
  filter?: RunFilter;
  version?: "original" | "latest";
  by: Actor;
  idempotencyKey?: string;
}

export type BulkOutcome =
  | {
      ok: true;
      httpStatus: 202;
      body: { accepted: { run_id: string; new_run_id?: string }[]; skipped: { run_id: string; reason: string }[] };
      summary: string;
      replayed?: boolean;
    }
  | { ok: false; httpStatus: 400; error: string; summary: string; body: Record<string, unknown>; replayed?: boolean };

const refuse = (error: string, path: string): BulkOutcome => ({
  ok: false,
  httpStatus: 400,
  error,
  summary: error,
  body: { error, issues: [{ path, message: error }] },
});

export async function bulkAct(
  runs: Pick<RunRepo, "selectIds">,
  act: (r: ActionRequest) => Promise<ActionOutcome>,
  req: BulkRequest,
): Promise<BulkOutcome> {
  if ((req.runIds === undefined) === (req.filter === undefined))
    return refuse("give exactly one of run_ids or filter", "run_ids");
  let ids: string[];
  if (req.runIds) {
    ids = [...new Set(req.runIds)];
    if (ids.length > BULK_MAX) return refuse(`at most ${BULK_MAX} runs per request (got ${ids.length})`, "run_ids");
  } else {
    ids = await runs.selectIds(req.filter!, BULK_MAX + 1);
    if (ids.length > BULK_MAX)
      return refuse(`the filter matches more than ${BULK_MAX} runs; narrow it (flow, status, since, until)`, "filter");
  }
  const accepted: { run_id: string; new_run_id?: string }[] = [];
  const skipped: { run_id: string; reason: string }[] = [];
  for (const runId of ids) {
    const o = await act({ action: req.action, runId, by: req.by, version: req.version });
    if (!o.ok) skipped.push({ run_id: runId, reason: o.error });
    else if (req.action === "replay" && o.started) accepted.push({ run_id: runId, new_run_id: o.started.id });
    else accepted.push({ run_id: runId });
  }
  const summary = `Bulk ${req.action}: ${accepted.length} accepted, ${skipped.length} skipped`;
  return { ok: true, httpStatus: 202, body: { accepted, skipped }, summary };
}
