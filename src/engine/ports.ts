// What the engine needs from the outside world. Imports nothing outside engine/.
import type { ErrorContext, StepError } from "./errors";
import type { Defaults, Flow, Step } from "./flow";

export interface Clock {
  now(): number;
  /** Calls fn after ms; returns a function that cancels the timer. */
  setTimer(ms: number, fn: () => void): () => void;
}

export type RunStatus = "queued" | "running" | "retrying" | "succeeded" | "recovered" | "failed" | "cancelled";
export const TERMINAL: readonly RunStatus[] = ["succeeded", "recovered", "failed", "cancelled"];
export const ACTIVE: readonly RunStatus[] = ["queued", "running", "retrying"];

export type Phase = "main" | "on_failure";

/** Where a run resumes. Step results are rebuilt from the ledger, not kept here. */
export interface Cursor {
  phase: Phase;
  index: number;
  /** Attempts of the current step finished in this round (reset by a manual retry). */
  attempt: number;
  primary?: ErrorContext;
  failed?: unknown;
  sleep_until?: number;
  /** Main step index a manual retry resumes from. */
  failed_index?: number;
}

export interface RunRecord {
  id: string;
  flow: string;
  flowVersion: number;
  status: RunStatus;
  input: unknown;
  output: unknown;
  error: ErrorContext | null;
  cursor: Cursor;
  dueAt: number | null;
  replayOf: string | null;
  /** The run whose `flow:` step started this child run. */
  parentRun?: string | null;
  external: unknown;
  createdAt: number;
  updatedAt: number;
  finishedAt: number | null;
}

export interface AttemptRecord {
  runId: string;
  step: string;
  attempt: number;
  phase: Phase;
  /** `skipped`: the step's `when` was falsy. */
  status: "running" | "succeeded" | "failed" | "skipped";
  startedAt: number;
  finishedAt: number | null;
  durationMs: number | null;
  output: unknown;
  error: ErrorContext | null;
}

export interface OutboxRecord {
  id: string;
  runId: string;
  handlerId: string | null;
  kind: string;
  payload: AlertPayload;
  status: "pending" | "delivered" | "failed" | "silenced";
  attempts: number;
  nextAttemptAt: number | null;
  lastError: string | null;
  response: unknown;
  createdAt: number;
  deliveredAt: number | null;
}

/** What a handler is given about a failure: the failed step's result and its run. */
export interface AlertPayload {
  run: { id: string; flow: string; flow_version: number; status: RunStatus; url?: string; replay_of?: string | null };
  /** The failed step's result with its error in `error`. */
  failed: Record<string, unknown> & { error: ErrorContext };
  error: ErrorContext;
  /** Set when the flow's error handler ran: its outcome and, if it failed, its error. */
  handler?: { outcome: "recovered" | "failed"; error?: ErrorContext };
  input?: unknown;
  link?: string;
  external?: { source: string; job: string };
}

export type RunSet = Partial<
  Pick<RunRecord, "status" | "flowVersion" | "output" | "error" | "cursor" | "dueAt" | "finishedAt" | "updatedAt">
> & {
  leaseUntil?: number | null;
};

/** Writes the engine commits together, in one transaction. A cancelled run's row is never changed. */
export type Write =
  | { op: "insertRun"; run: RunRecord; leaseUntil: number | null }
  | { op: "updateRun"; id: string; set: RunSet }
  | { op: "putAttempt"; attempt: AttemptRecord }
  | { op: "insertOutbox"; rows: OutboxRecord[] };

export interface RunStore {
  getFlow(name: string, version?: number): Promise<{ version: number; flow: Flow } | undefined>;
  getDefaults(): Promise<Defaults>;
  getRun(id: string): Promise<RunRecord | undefined>;
  getAttempts(runId: string): Promise<AttemptRecord[]>;
  commit(writes: Write[]): Promise<void>;
  /** Updates a run only while it is in status `from`; false when it was not (someone else won). */
  transition(id: string, from: RunStatus, set: RunSet): Promise<boolean>;
  /** Leases due runs (queued, retrying or woken) whose lease is free; returns them. */
  claimDue(now: number, leaseMs: number, limit: number): Promise<RunRecord[]>;
  nextDueAt(): Promise<number | null>;
  /** Moves an active run to cancelled and closes its running attempts; false if it had ended. */
  cancelRun(id: string, now: number): Promise<boolean>;
}

/** Child runs of `flow:` steps (the Engine gives them to each run). */
export interface ChildRuns {
  /** Starts the child with this id unless it exists (a resumed parent), then resolves with it once it ended. */
  run(id: string, flow: string, input: unknown, parent: string, signal: AbortSignal): Promise<RunRecord>;
}

export interface ScriptContext {
  input: unknown;
  steps: Record<string, unknown>;
  error?: ErrorContext;
  failed?: unknown;
  run: { id: string; flow: string; flow_version: number; attempt: number };
  signal: AbortSignal;
}

export type ScriptFn = (args: unknown, ctx: ScriptContext) => Promise<unknown> | unknown;

export interface ScriptRegistry {
  get(name: string): ScriptFn | undefined;
}

/** Chooses who hears about a failure: one outbox row per selected handler. */
export type AlertPlanner = (payload: AlertPayload, now: number) => Promise<OutboxRecord[]>;

/** The answer to one request of an http step. */
export interface HttpAnswer {
  status: number;
  /** Lower-case names; a repeated header's values joined with ", " (as fetch's Headers). */
  headers: Record<string, string>;
  text(): Promise<string>;
}

/** Sends one request of an http step: fetch on Workers and in tests, undici's request() on Node. */
export type HttpSend = (
  url: URL,
  init: { method: string; headers: Headers; body?: string; signal: AbortSignal },
) => Promise<HttpAnswer>;

export function fetchSend(f: typeof fetch): HttpSend {
  return async (url, init) => {
    const res = await f(url, init);
    return { status: res.status, headers: Object.fromEntries(res.headers), text: () => res.text() };
  };
}

export interface EngineDeps {
  clock: Clock;
  random: () => number;
  newId: () => string;
  store: RunStore;
  fetch: typeof fetch;
  /** http steps go through this when set (Node), else through `fetch`. */
  http?: HttpSend;
  scripts: ScriptRegistry;
  planAlerts: AlertPlanner;
  secrets: Record<string, string>;
  /** Keeps background promises alive where the runtime needs it (Workers). */
  waitUntil: (p: Promise<unknown>) => void;
  log: (level: "info" | "warn" | "error", msg: string, fields?: Record<string, unknown>) => void;
  /** Tells the scheduler that a run is due at this time. */
  onDue?: (at: number) => void;
  /** Told after a run's terminal state is committed (succeeded, recovered, failed, cancelled). */
  onRunEnded?: (run: RunRecord) => void;
  /** Takes over the outbox rows of a run that just ended (committed); without it, onDue(now). */
  onAlerts?: (rows: OutboxRecord[]) => void;
  publicUrl?: string;
  /** Flow tests: a step's mocked outcome, instead of running it (src/engine/simulate.ts). */
  mock?: (path: string, step: Step) => { ok: true; value: unknown } | { ok: false; error: StepError } | undefined;
}
