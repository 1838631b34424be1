// A run being executed, and what rebuilds it from the ledger after a crash or for a retry.
import type { ErrorContext } from "./errors";
import { stepKind, type Defaults, type Flow, type Step } from "./flow";
import type { AttemptRecord, ChildRuns, RunRecord, Write } from "./ports";
import { stepChain } from "./error-object";
import { jsonLargerThan } from "./size";

export const DEFAULT_TIMEOUT_MS = 30_000;
export const LEASE_MARGIN_MS = 30_000;

export type Advance = { kind: "ended"; run: RunRecord } | { kind: "waiting"; dueAt: number } | { kind: "cancelled" };

export interface LiveRun {
  run: RunRecord;
  flow: Flow;
  defaults: Defaults;
  results: Record<string, unknown>;
  nextAttempt: Record<string, number>;
  pending: Write[];
  signal: AbortSignal;
  /** Results of steps inside blocks, by path (`fan[2].call`), restored from the ledger. */
  nested?: Record<string, unknown>;
  /** Top-level steps whose `when` was falsy: they do not count as the run's last result. */
  skipped?: Set<string>;
  children?: ChildRuns;
  /** The current step's attempt at `path` was interrupted this many times in a row: it is not resumed again. */
  interrupted?: { path: string; times: number };
  /** A new run: told when its first commit (its insert with the first flush) is done or failed. */
  firstCommit?: { resolve(): void; reject(err: unknown): void };
}

export function isSideEffect(step: Step): boolean {
  const kind = stepKind(step);
  return kind === "http" || kind === "script" || kind === "flow";
}

/** A child run is bounded only by its own step's timeout_ms: the parent's per-step default is for calls. */
const CHILD_TIMEOUT_MS = 600_000;

export function stepTimeout(live: LiveRun, step: Step): number {
  if (step.flow) return step.timeout_ms ?? CHILD_TIMEOUT_MS;
  return (
    step.http?.timeout_ms ?? step.timeout_ms ?? live.flow.timeout_ms ?? live.defaults.timeout_ms ?? DEFAULT_TIMEOUT_MS
  );
}

/**
 * A child run's id is fixed by its parent, step path and attempt, so a resumed parent finds it again.
 * A long path is hashed: run ids end up in chat button ids (Discord allows 100 characters).
 */
export function childId(parent: string, path: string, attempt: number): string {
  const plain = path.replace(/[^A-Za-z0-9_-]/g, "_");
  return `${parent}-${plain.length <= 24 ? plain : fnv1a(path)}-${attempt}`;
}

function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(36);
}

const INTERRUPTED = "interrupted: the server stopped during this attempt";
/** A step whose attempt the process died in this many times in a row (an OOM crash loop) fails instead. */
export const MAX_INTERRUPTIONS = 2;

/** Rebuilds results and attempt numbers from the ledger; closes attempts a crash interrupted. */
export function restoreFromLedger(live: LiveRun, attempts: AttemptRecord[], now: number): void {
  const latest = new Map<string, AttemptRecord>();
  const closed = new Set<AttemptRecord>();
  const current = currentStep(live);
  const reattach: AttemptRecord[] = [];
  for (const a of attempts) {
    live.nextAttempt[a.step] = Math.max(live.nextAttempt[a.step] ?? 1, a.attempt + 1);
    if (a.status === "running") {
      const sleeping = live.run.cursor.sleep_until !== undefined && current?.id === a.step;
      if (sleeping) continue;
      // A child run goes on by itself: the resumed step waits for the same child.
      if (stepChain(live.flow, a.step).at(-1)?.flow) {
        reattach.push(a);
        continue;
      }
      const error: ErrorContext = { message: INTERRUPTED, type: "runtime", step: a.step };
      live.pending.push({
        op: "putAttempt",
        attempt: { ...a, status: "failed", finishedAt: now, durationMs: now - a.startedAt, error },
      });
      closed.add(a);
      continue;
    }
    const prev = latest.get(a.step);
    if (!prev || prev.attempt < a.attempt) latest.set(a.step, a);
  }
  for (const a of reattach) live.nextAttempt[a.step] = a.attempt;
  for (const a of closed) {
    if (stepChain(live.flow, a.step)[0] !== current) continue;
    const times = interruptedInARow(attempts.filter((b) => b.step === a.step));
    if (times >= MAX_INTERRUPTIONS && times > (live.interrupted?.times ?? 0))
      live.interrupted = { path: a.step, times };
  }
  for (const [path, a] of latest) {
    if (a.status === "skipped" && !isNested(path)) (live.skipped ??= new Set()).add(path);
    if (a.status === "succeeded" && isNested(path)) (live.nested ??= {})[path] = a.output;
  }
  const c = live.run.cursor;
  const failedStep = c.phase === "on_failure" ? live.flow.steps[c.failed_index ?? -1] : undefined;
  if (failedStep) live.results[failedStep.id] = c.failed;
  const all = [...live.flow.steps, ...(live.flow.on_failure ?? [])];
  for (const step of all) {
    const a = latest.get(step.id);
    if (!a) continue;
    if (a.status === "succeeded") live.results[step.id] = a.output;
    else if (a.status === "skipped") live.results[step.id] = null;
    else if (step.continue_on_error && a.error) live.results[step.id] = failedResult(a.output, a.error);
  }
}

/** How many of a path's latest attempts were cut short by the process stopping (open now, or closed as such). */
function interruptedInARow(attempts: AttemptRecord[]): number {
  let times = 0;
  for (const a of [...attempts].sort((x, y) => y.attempt - x.attempt)) {
    if (a.status !== "running" && a.error?.message !== INTERRUPTED) break;
    times++;
  }
  return times;
}

export const isNested = (path: string) => path.includes(".") || path.includes("[");

function currentStep(live: LiveRun): Step | undefined {
  const c = live.run.cursor;
  return (c.phase === "main" ? live.flow.steps : (live.flow.on_failure ?? []))[c.index];
}

const NOTIFYING_SCRIPTS = new Set(["slack", "discord", "webhook", "log"]);

/** A step that only tells people: a built-in notifying script, or one marked `notify: true`. */
export function isNotifyStep(step: Step): boolean {
  return step.notify ?? (step.script !== undefined && NOTIFYING_SCRIPTS.has(step.script.name));
}

/** How much of a failed answer's body `failed` carries into handlers, alerts and webhook deliveries. */
export const FAILED_BODY_LIMIT = 16 * 1024;

/** A body past FAILED_BODY_LIMIT becomes its first FAILED_BODY_LIMIT characters of JSON text. */
function cutBody(body: unknown): unknown {
  if (!jsonLargerThan(body, FAILED_BODY_LIMIT)) return body;
  const text = typeof body === "string" ? body : JSON.stringify(body);
  return `${text.slice(0, FAILED_BODY_LIMIT)}…truncated (${text.length} characters)…`;
}

export function failedResult(last: unknown, error: ErrorContext): Record<string, unknown> & { error: ErrorContext } {
  const base =
    last !== null && typeof last === "object" && !Array.isArray(last) ? (last as Record<string, unknown>) : {};
  return { ...base, ...("body" in base ? { body: cutBody(base.body) } : {}), error };
}
