// Retry / Replay of an external failure: mend POSTs { type, run_id, source, job, input, requested_by }
// to the run's retry_url / replay_url, signed per Standard Webhooks with MEND_WEBHOOK_SECRET, and
// records the callee's answer in the run's ledger (a step attempt `retry_callback` / `replay_callback`).
// Called only by the run actions service (src/runs/actions.ts), whichever entrance asked.
import type { Deps } from "../deps";
import type { ErrorContext, ErrorType } from "../engine/errors";
import type { AttemptRecord, RunRecord } from "../engine/ports";
import { fetchFailure, readAnswer } from "../handlers/webhook";
import { UrlRefusedError } from "../net/url-safety";
import { externalOf } from "./external";
import { isWebhookSecret, signedHeaders } from "./signing";

export type CallbackAction = "retry" | "replay";
export const CALLBACK_TIMEOUT_MS = 10_000;
/** A callback row still `running` this long after its timeout was left by a dead process. */
const IN_FLIGHT_MARGIN_MS = 5_000;

/** What the callee answered, as recorded and returned. */
export interface CallbackAnswer {
  run_id: string;
  action: CallbackAction;
  url: string;
  /** The webhook-id the request carried. */
  message_id: string;
  ok: boolean;
  /** The callee's HTTP status; null when no answer came (network error, timeout, refused URL). */
  status: number | null;
  body: unknown;
  error?: string;
  /** The ledger row: step `${action}_callback`, this attempt number. */
  step: string;
  attempt: number;
  requested_by: string;
}

/**
 * Why a callback could not be made or failed. `status` is the HTTP answer fitting it:
 * 409 (no URL, not failed, no secret), 400 (URL refused), 502 (callee failed or unreachable).
 * `answer` is set when the callee was called (and the answer recorded).
 */
export class CallbackError extends Error {
  override readonly name = "CallbackError";
  constructor(
    readonly status: 400 | 409 | 502,
    message: string,
    readonly answer?: CallbackAnswer,
    readonly field?: string,
  ) {
    super(message);
  }
}

type CallbackDeps = Pick<Deps, "config" | "clock" | "newId" | "runs" | "outbound">;

export async function requestCallback(
  deps: CallbackDeps,
  run: RunRecord,
  action: CallbackAction,
  requestedBy: string,
  opts: { input?: unknown } = {},
): Promise<CallbackAnswer> {
  const ext = externalOf(run);
  if (!ext) throw new CallbackError(409, `run ${run.id} is not an external failure; mend runs its retry itself`);
  const field = action === "retry" ? "retry_url" : "replay_url";
  const url = ext[field];
  if (!url)
    throw new CallbackError(
      409,
      `run ${run.id} was reported without a ${field}, so mend has nowhere to send the ${action}`,
    );
  if (action === "retry" && run.status !== "failed")
    throw new CallbackError(409, `run ${run.id} is ${run.status}; only failed runs can be retried`);
  const secret = deps.config.MEND_WEBHOOK_SECRET;
  if (!isWebhookSecret(secret))
    throw new CallbackError(
      409,
      `MEND_WEBHOOK_SECRET is not set; mend signs ${action} callbacks with it (whsec_…), so it cannot call ${field}`,
    );

  const body = JSON.stringify({
    type: action,
    run_id: run.id,
    source: ext.source,
    job: ext.job,
    input: opts.input !== undefined ? opts.input : run.input,
    requested_by: requestedBy,
  });
  const messageId = `msg_${deps.newId()}`;
  const step = `${action}_callback`;
  const started = deps.clock.now();
  // The ledger row is opened before the call, numbered in the same statement: concurrent requests
  // never share (and overwrite) a row, and while one call is in flight the others are refused.
  const sent = { url, message_id: messageId, requested_by: requestedBy, status: null, body: null };
  const attempt = await deps.runs.beginCallback(
    run.id,
    step,
    started,
    started - CALLBACK_TIMEOUT_MS - IN_FLIGHT_MARGIN_MS,
    sent,
  );
  if (attempt === undefined)
    throw new CallbackError(
      409,
      `a ${action} callback for run ${run.id} is already on its way to ${field}; wait for its answer`,
    );
  const answer: CallbackAnswer = {
    run_id: run.id,
    action,
    url,
    message_id: messageId,
    ok: false,
    status: null,
    body: null,
    step,
    attempt,
    requested_by: requestedBy,
  };
  let failure: { type: ErrorType; code: 400 | 502 } | undefined;
  try {
    const res = await deps.outbound.fetch(url, {
      method: "POST",
      headers: signedHeaders(secret, messageId, body),
      body,
      signal: AbortSignal.timeout(CALLBACK_TIMEOUT_MS),
    });
    answer.status = res.status;
    answer.body = await readAnswer(res);
    answer.ok = res.ok;
    if (!res.ok) {
      answer.error = `${field} answered ${res.status}`;
      failure = { type: "http_status", code: 502 };
    }
  } catch (err) {
    if (err instanceof UrlRefusedError) {
      answer.error = `${field} refused: ${err.reason}`;
      failure = { type: "validation", code: 400 };
    } else {
      const { timeout, reason } = fetchFailure(err);
      answer.error = timeout
        ? `${field} did not answer within ${CALLBACK_TIMEOUT_MS / 1000} s`
        : `${field} could not be reached: ${reason}`;
      failure = { type: timeout ? "timeout" : "network", code: 502 };
    }
  }

  const finished = deps.clock.now();
  const error: ErrorContext | null = failure
    ? {
        message: answer.error!,
        type: failure.type,
        step,
        attempts: attempt,
        ...(answer.status !== null ? { status: answer.status } : {}),
      }
    : null;
  const row: AttemptRecord = {
    runId: run.id,
    step,
    attempt,
    phase: "main",
    status: failure ? "failed" : "succeeded",
    startedAt: started,
    finishedAt: finished,
    durationMs: finished - started,
    output: { url, message_id: messageId, requested_by: requestedBy, status: answer.status, body: answer.body },
    error,
  };
  await deps.runs.commit([
    { op: "putAttempt", attempt: row },
    { op: "updateRun", id: run.id, set: { updatedAt: finished } },
  ]);
  if (failure)
    throw new CallbackError(
      failure.code,
      `${action} callback failed: ${answer.error}`,
      answer,
      failure.code === 400 ? field : undefined,
    );
  return answer;
}
