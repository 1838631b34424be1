// The run/step state machine: advances one run until it ends or must wait.
// A failed step is data (StepError → ErrorContext), never an escaping throw.
import { StepError, coerceError, toContext, type ErrorContext } from "./errors";
import { stepKind, type Defaults, type Flow, type Step } from "./flow";
import type { AlertPayload, AttemptRecord, Cursor, EngineDeps, RunRecord, RunStatus, Write } from "./ports";
import { decorateError, layerErrorObject } from "./error-object";
import { makeRedactor } from "./redact";
import { mergePolicy, nextDelay } from "./retry";
import { coerceAbort, runAttempt, type AttemptEnv } from "./steps";
import type { TemplateScope } from "./template";

export const DEFAULT_TIMEOUT_MS = 30_000;
const LEASE_MARGIN_MS = 30_000;

export type Advance =
  | { kind: "ended"; run: RunRecord }
  | { kind: "waiting"; dueAt: number }
  | { kind: "cancelled" };

export interface LiveRun {
  run: RunRecord;
  flow: Flow;
  defaults: Defaults;
  results: Record<string, unknown>;
  nextAttempt: Record<string, number>;
  pending: Write[];
  signal: AbortSignal;
}

export function isSideEffect(step: Step): boolean {
  const kind = stepKind(step);
  return kind === "http" || kind === "script";
}

export function stepTimeout(live: LiveRun, step: Step): number {
  return step.http?.timeout_ms ?? step.timeout_ms ?? live.flow.timeout_ms ?? live.defaults.timeout_ms ?? DEFAULT_TIMEOUT_MS;
}

/** Rebuilds results and attempt numbers from the ledger; closes attempts a crash interrupted. */
export function restoreFromLedger(live: LiveRun, attempts: AttemptRecord[], now: number): void {
  const latest = new Map<string, AttemptRecord>();
  const current = currentStep(live);
  for (const a of attempts) {
    live.nextAttempt[a.step] = Math.max(live.nextAttempt[a.step] ?? 1, a.attempt + 1);
    if (a.status === "running") {
      const sleeping = live.run.cursor.sleep_until !== undefined && current?.id === a.step;
      if (sleeping) continue;
      const error: ErrorContext = { message: "interrupted: the server stopped during this attempt", type: "runtime", step: a.step };
      live.pending.push({ op: "putAttempt", attempt: { ...a, status: "failed", finishedAt: now, durationMs: now - a.startedAt, error } });
      continue;
    }
    const prev = latest.get(a.step);
    if (!prev || prev.attempt < a.attempt) latest.set(a.step, a);
  }
  const c = live.run.cursor;
  const failedStep = c.phase === "on_failure" ? live.flow.steps[c.failed_index ?? -1] : undefined;
  if (failedStep) live.results[failedStep.id] = c.failed;
  const all = [...live.flow.steps, ...(live.flow.on_failure ?? [])];
  for (const step of all) {
    const a = latest.get(step.id);
    if (!a) continue;
    if (a.status === "succeeded") live.results[step.id] = a.output;
    else if (step.continue_on_error && a.error) live.results[step.id] = failedResult(a.output, a.error);
  }
}

function currentStep(live: LiveRun): Step | undefined {
  const c = live.run.cursor;
  return (c.phase === "main" ? live.flow.steps : live.flow.on_failure ?? [])[c.index];
}

const NOTIFYING_SCRIPTS = new Set(["slack", "discord", "webhook", "log"]);

/** A step that only tells people: a built-in notifying script, or one marked `notify: true`. */
export function isNotifyStep(step: Step): boolean {
  return step.notify ?? (step.script !== undefined && NOTIFYING_SCRIPTS.has(step.script.name));
}

export function failedResult(last: unknown, error: ErrorContext): Record<string, unknown> & { error: ErrorContext } {
  const base = last !== null && typeof last === "object" && !Array.isArray(last) ? (last as Record<string, unknown>) : {};
  return { ...base, error };
}

export class RunExecution {
  private readonly redact: <T>(v: T) => T;

  constructor(
    private readonly deps: EngineDeps,
    private readonly live: LiveRun,
    private readonly detached = false,
  ) {
    this.redact = makeRedactor(deps.secrets);
  }

  private get cursor(): Cursor {
    return this.live.run.cursor;
  }

  private scope(attemptNo: number): TemplateScope {
    const c = this.cursor;
    const scope: TemplateScope = {
      input: this.live.run.input,
      steps: this.live.results,
      run: { id: this.live.run.id, flow: this.live.run.flow, flow_version: this.live.run.flowVersion, attempt: attemptNo },
      secrets: this.deps.secrets,
    };
    if (c.primary) scope.error = c.primary;
    if (c.failed !== undefined) scope.failed = c.failed;
    return scope;
  }

  private setRun(status: RunStatus, extra: Partial<RunRecord> = {}): void {
    Object.assign(this.live.run, { status, updatedAt: this.deps.clock.now() }, extra);
  }

  private async flush(leaseUntil: number | null): Promise<void> {
    const r = this.live.run;
    // An active run always has a due time, so the scheduler finds it once its lease lapses.
    if (r.dueAt === null && r.finishedAt === null) r.dueAt = this.deps.clock.now();
    const writes = this.live.pending.splice(0);
    writes.push({
      op: "updateRun",
      id: r.id,
      set: {
        status: r.status,
        cursor: r.cursor,
        dueAt: r.dueAt,
        output: r.output,
        error: r.error,
        finishedAt: r.finishedAt,
        updatedAt: r.updatedAt,
        leaseUntil,
      },
    });
    await this.deps.store.commit(writes);
  }

  async advance(): Promise<Advance> {
    const { flow } = this.live;
    for (;;) {
      if (this.live.signal.aborted) return { kind: "cancelled" };
      const c = this.cursor;
      const steps = c.phase === "main" ? flow.steps : flow.on_failure ?? [];
      const step = steps[c.index];
      if (!step) return c.phase === "main" ? this.finish("succeeded", this.lastResult(steps)) : this.finishHandled(steps);
      if (step.async) {
        this.startDetached(step);
        this.moveOn();
        continue;
      }
      if (step.sleep && step.sleep.ms > 0) {
        const waited = await this.sleepStep(step);
        if (waited) return waited;
        continue;
      }
      const outcome = await this.attempt(step);
      if (outcome.ok) {
        this.live.results[step.id] = outcome.value;
        this.moveOn();
        continue;
      }
      if (this.live.signal.aborted) return { kind: "cancelled" };
      const err = outcome.error;
      c.attempt += 1;
      const policy = mergePolicy(this.live.defaults.retry, flow.retry, step.retry);
      const delay = nextDelay(policy, c.attempt, err.type, this.deps.random, err.extra.retryAfterMs);
      if (delay === 0) continue;
      if (delay !== undefined) return this.waitUntil("retrying", this.deps.clock.now() + delay);
      const ctx = this.failureContext(toContext(err, step.id, c.attempt));
      const failed = failedResult(this.redact(err.extra.result), ctx);
      if (step.continue_on_error) {
        this.live.results[step.id] = failed;
        this.moveOn();
        continue;
      }
      if (c.phase === "main" && flow.on_failure?.length) {
        Object.assign(c, { phase: "on_failure", index: 0, attempt: 0, primary: ctx, failed, failed_index: c.index });
        this.live.results[step.id] = failed;
        continue;
      }
      if (c.phase === "main") Object.assign(c, { failed_index: c.index, failed });
      return this.finish("failed", null, ctx, failed);
    }
  }

  /** The error context as stored and shown: the error object's params and schema applied, secrets redacted. */
  private failureContext(ctx: ErrorContext): ErrorContext {
    const obj = layerErrorObject(this.live.defaults, this.live.flow, ctx.step);
    const decorated = obj.params || obj.schema ? decorateError(obj, ctx, this.scope(this.cursor.attempt)) : ctx;
    return this.redact(decorated);
  }

  /** on_failure ran to its end: recovered, unless its steps only told people (SPEC section 12). */
  private finishHandled(steps: Step[]): Promise<Advance> {
    const outcome = this.live.flow.on_failure_outcome ?? (steps.every(isNotifyStep) ? "failed" : "recovered");
    if (outcome === "recovered") return this.finish("recovered", this.lastResult(steps));
    return this.finish("failed", null, undefined, undefined, true);
  }

  /** The run waits as a row due at `dueAt` (a retry's backoff, a sleep); the scheduler resumes it. */
  private async waitUntil(status: "retrying" | "running", dueAt: number): Promise<Advance> {
    this.setRun(status, { dueAt });
    await this.flush(null);
    this.deps.onDue?.(dueAt);
    return { kind: "waiting", dueAt };
  }

  private moveOn(): void {
    const c = this.cursor;
    c.index += 1;
    c.attempt = 0;
  }

  private lastResult(steps: Step[]): unknown {
    for (let i = steps.length - 1; i >= 0; i--) {
      const s = steps[i]!;
      if (!s.async && Object.hasOwn(this.live.results, s.id)) return this.live.results[s.id];
    }
    return null;
  }

  private async finish(
    status: "succeeded" | "recovered" | "failed",
    output: unknown,
    error?: ErrorContext,
    failed?: AlertPayload["failed"],
    notified = false,
  ): Promise<Advance> {
    const c = this.cursor;
    const now = this.deps.clock.now();
    const runError = status === "succeeded" ? null : (error ?? c.primary ?? null);
    this.setRun(status, { output: this.redact(output), error: runError, finishedAt: now, dueAt: null });
    if (status !== "succeeded") {
      const primary = c.primary ?? error!;
      const payload: AlertPayload = {
        run: { id: this.live.run.id, flow: this.live.run.flow, flow_version: this.live.run.flowVersion, status, replay_of: this.live.run.replayOf },
        failed: (c.phase === "on_failure" ? (c.failed as AlertPayload["failed"]) : failed) ?? failedResult(null, primary),
        error: primary,
        input: this.redact(this.live.run.input),
      };
      if (this.deps.publicUrl) payload.run.url = `${this.deps.publicUrl.replace(/\/$/, "")}/runs/${this.live.run.id}`;
      if (c.phase === "on_failure" && !notified) payload.handler = status === "recovered" ? { outcome: "recovered" } : { outcome: "failed", error: error! };
      const rows = await this.deps.planAlerts(payload, now);
      if (rows.length) this.live.pending.push({ op: "insertOutbox", rows });
    }
    await this.flush(null);
    if (status !== "succeeded") this.deps.onDue?.(now);
    return { kind: "ended", run: this.live.run };
  }

  /** A durable sleep: the run waits as a row with a due time, like a retry. */
  private async sleepStep(step: Step): Promise<Advance | undefined> {
    const c = this.cursor;
    const now = this.deps.clock.now();
    if (c.sleep_until === undefined) {
      const attempt = this.nextAttemptNo(step);
      c.sleep_until = now + step.sleep!.ms;
      this.live.pending.push({ op: "putAttempt", attempt: this.attemptRow(step, attempt, now, "running") });
      return this.waitUntil("running", c.sleep_until);
    }
    if (now < c.sleep_until) return this.waitUntil("running", c.sleep_until);
    const attempt = (this.live.nextAttempt[step.id] ?? 2) - 1;
    const started = c.sleep_until - step.sleep!.ms;
    this.live.pending.push({ op: "putAttempt", attempt: { ...this.attemptRow(step, attempt, started, "succeeded"), finishedAt: now, durationMs: now - started, output: null } });
    this.live.results[step.id] = null;
    delete c.sleep_until;
    this.setRun("running", { dueAt: null });
    this.moveOn();
    return undefined;
  }

  private nextAttemptNo(step: Step): number {
    const n = this.live.nextAttempt[step.id] ?? 1;
    this.live.nextAttempt[step.id] = n + 1;
    return n;
  }

  private attemptRow(step: Step, attempt: number, startedAt: number, status: AttemptRecord["status"]): AttemptRecord {
    return {
      runId: this.live.run.id,
      step: step.id,
      attempt,
      phase: this.cursor.phase,
      status,
      startedAt,
      finishedAt: null,
      durationMs: null,
      output: null,
      error: null,
    };
  }

  private async attempt(step: Step): Promise<{ ok: true; value: unknown } | { ok: false; error: StepError }> {
    const attemptNo = this.nextAttemptNo(step);
    const startedAt = this.deps.clock.now();
    const row = this.attemptRow(step, attemptNo, startedAt, "running");
    const timeout = stepTimeout(this.live, step);
    if (isSideEffect(step)) {
      this.live.pending.push({ op: "putAttempt", attempt: row });
      if (this.detached) await this.deps.store.commit(this.live.pending.splice(0));
      else {
        this.setRun("running", { dueAt: null });
        await this.flush(startedAt + timeout + LEASE_MARGIN_MS);
      }
    }
    const result = await this.execute(step, attemptNo, timeout, this.live.signal);
    const finishedAt = this.deps.clock.now();
    const done: AttemptRecord = { ...row, finishedAt, durationMs: finishedAt - startedAt };
    if (result.ok) {
      done.status = "succeeded";
      done.output = this.redact(result.value);
    } else {
      done.status = "failed";
      done.output = this.redact(result.error.extra.result ?? null);
      done.error = this.redact(toContext(result.error, step.id, this.cursor.attempt + 1));
    }
    this.live.pending.push({ op: "putAttempt", attempt: done });
    return result;
  }

  private attemptEnv(step: Step, attemptNo: number, signal: AbortSignal): AttemptEnv {
    const scope = this.scope(attemptNo);
    return {
      fetch: this.deps.fetch,
      scripts: this.deps.scripts,
      signal,
      scope,
      scriptContext: {
        input: scope.input,
        steps: this.live.results,
        error: this.cursor.primary,
        failed: this.cursor.failed,
        run: { id: this.live.run.id, flow: this.live.run.flow, flow_version: this.live.run.flowVersion, attempt: attemptNo },
      },
      idempotencyKey: `${this.live.run.id}:${step.id}`,
      now: () => this.deps.clock.now(),
    };
  }

  private async execute(step: Step, attemptNo: number, timeout: number, parent: AbortSignal): Promise<{ ok: true; value: unknown } | { ok: false; error: StepError }> {
    if (!isSideEffect(step)) {
      // Pure steps finish synchronously: no timer or abort could fire during them.
      try {
        return { ok: true, value: await runAttempt(step, this.attemptEnv(step, attemptNo, parent)) };
      } catch (thrown) {
        return { ok: false, error: coerceError(thrown) };
      }
    }
    const controller = new AbortController();
    const onParentAbort = () => controller.abort(parent.reason);
    parent.addEventListener("abort", onParentAbort, { once: true });
    const cancelTimer = this.deps.clock.setTimer(timeout, () =>
      controller.abort(new StepError(`step '${step.id}' timed out after ${timeout} ms`, "timeout")),
    );
    try {
      return { ok: true, value: await runAttempt(step, this.attemptEnv(step, attemptNo, controller.signal)) };
    } catch (thrown) {
      return { ok: false, error: controller.signal.aborted ? coerceAbort(controller.signal) : coerceError(thrown) };
    } finally {
      cancelTimer();
      parent.removeEventListener("abort", onParentAbort);
    }
  }

  /** Fire and forget: attempts are recorded, waits are in memory, failures never touch the run. */
  private startDetached(step: Step): void {
    const run = { ...this.live.run, cursor: { ...this.cursor, attempt: 0 } };
    const child = new RunExecution(this.deps, { ...this.live, run, results: { ...this.live.results }, pending: [] }, true);
    const task = child.detachedLoop(step).catch((err: unknown) => {
      this.deps.log("warn", "async step crashed", { run: this.live.run.id, step: step.id, error: String(err) });
    });
    this.deps.waitUntil(task);
  }

  private async detachedLoop(step: Step): Promise<void> {
    const policy = mergePolicy(this.live.defaults.retry, this.live.flow.retry, step.retry);
    for (;;) {
      const outcome = await this.attempt(step);
      await this.deps.store.commit(this.live.pending.splice(0));
      if (outcome.ok) return;
      this.cursor.attempt += 1;
      const delay = nextDelay(policy, this.cursor.attempt, outcome.error.type, this.deps.random, outcome.error.extra.retryAfterMs);
      if (delay === undefined) {
        this.deps.log("warn", "async step failed", { run: this.live.run.id, step: step.id, error: this.redact(outcome.error.message) });
        return;
      }
      if (delay > 0) await new Promise<void>((resolve) => this.deps.clock.setTimer(delay, resolve));
    }
  }
}
