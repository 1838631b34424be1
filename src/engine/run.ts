// The run/step state machine: advances one run until it ends or must wait.
// A failed step is data (StepError → ErrorContext), never an escaping throw.
import { StepError, coerceError, toContext, type ErrorContext } from "./errors";
import { isBlock, type Step } from "./flow";
import {
  fetchSend,
  type AlertPayload,
  type AttemptRecord,
  type Cursor,
  type EngineDeps,
  type HttpSend,
  type OutboxRecord,
  type RunRecord,
  type RunStatus,
} from "./ports";
import { Blocks, whenHolds, type BlockHost, type BlockOutcome, type Outcome } from "./blocks";
import { decorateError, layerErrorObject } from "./error-object";
import { makeRedactor } from "./redact";
import { mergePolicy, nextDelay } from "./retry";
import { coerceAbort, runAttempt, type AttemptEnv } from "./steps";
import type { TemplateScope } from "./template";
import {
  LEASE_MARGIN_MS,
  childId,
  failedResult,
  isNested,
  isNotifyStep,
  isSideEffect,
  stepTimeout,
  type Advance,
  type LiveRun,
} from "./live-run";

export class RunExecution {
  private readonly redact: <T>(v: T) => T;
  private readonly http: HttpSend;

  constructor(
    private readonly deps: EngineDeps,
    private readonly live: LiveRun,
    private readonly detached = false,
  ) {
    this.redact = makeRedactor(deps.secrets);
    this.http = deps.http ?? fetchSend(deps.fetch);
  }

  private get cursor(): Cursor {
    return this.live.run.cursor;
  }

  private scope(attemptNo: number): TemplateScope {
    const c = this.cursor;
    const scope: TemplateScope = {
      input: this.live.run.input,
      steps: this.live.results,
      run: {
        id: this.live.run.id,
        flow: this.live.run.flow,
        flow_version: this.live.run.flowVersion,
        attempt: attemptNo,
      },
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
    const first = this.live.firstCommit;
    this.live.firstCommit = undefined;
    try {
      await this.deps.store.commit(writes);
    } catch (err) {
      first?.reject(err);
      throw err;
    }
    first?.resolve();
  }

  async advance(): Promise<Advance> {
    const { flow } = this.live;
    for (;;) {
      if (this.live.signal.aborted) return { kind: "cancelled" };
      const c = this.cursor;
      const steps = c.phase === "main" ? flow.steps : (flow.on_failure ?? []);
      const step = steps[c.index];
      if (!step)
        return c.phase === "main" ? this.finish("succeeded", this.lastResult(steps)) : this.finishHandled(steps);
      if (step.when !== undefined && !whenHolds(step.when, this.scope(c.attempt + 1))) {
        this.markSkipped(step.id);
        this.moveOn();
        continue;
      }
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
      const outcome = this.live.interrupted
        ? this.interruptedOutcome(step)
        : isBlock(step)
          ? await this.block(step)
          : await this.attempt(step);
      if (outcome.ok) {
        this.live.results[step.id] = outcome.value;
        this.moveOn();
        continue;
      }
      if (this.live.signal.aborted) return { kind: "cancelled" };
      let ctx: ErrorContext;
      let failed: AlertPayload["failed"];
      // A block failed for good already: its inner steps had their retries.
      if ("failed" in outcome) ({ error: ctx, failed } = outcome);
      else {
        const err = outcome.error;
        c.attempt += 1;
        const policy = mergePolicy(this.live.defaults.retry, flow.retry, step.retry);
        const delay = nextDelay(policy, c.attempt, err.type, this.deps.random, err.extra.retryAfterMs);
        if (delay === 0) continue;
        if (delay !== undefined) return this.waitUntil("retrying", this.deps.clock.now() + delay);
        ctx = this.failureContext(toContext(err, step.id, c.attempt));
        failed = failedResult(this.redact(err.extra.result), ctx);
      }
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

  /** The process died in this step's attempt again and again: fail it (no retry) rather than crash once more. */
  private interruptedOutcome(step: Step): BlockOutcome {
    const { path, times } = this.live.interrupted!;
    this.live.interrupted = undefined;
    const err = new StepError(
      `step ${path} was interrupted ${times} times in a row (the process stopped while it ran); not resumed again`,
      "runtime",
    );
    const ctx = this.failureContext(toContext(err, step.id, Math.max(1, this.cursor.attempt + 1)));
    return { ok: false, error: ctx, failed: failedResult(null, ctx) };
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
      if (!s.async && !this.live.skipped?.has(s.id) && Object.hasOwn(this.live.results, s.id))
        return this.live.results[s.id];
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
    let alerts: OutboxRecord[] = [];
    if (status !== "succeeded") {
      const primary = c.primary ?? error!;
      const payload: AlertPayload = {
        run: {
          id: this.live.run.id,
          flow: this.live.run.flow,
          flow_version: this.live.run.flowVersion,
          status,
          replay_of: this.live.run.replayOf,
        },
        failed:
          (c.phase === "on_failure" ? (c.failed as AlertPayload["failed"]) : failed) ?? failedResult(null, primary),
        error: primary,
        input: this.redact(this.live.run.input),
      };
      if (this.deps.publicUrl) payload.run.url = `${this.deps.publicUrl.replace(/\/$/, "")}/runs/${this.live.run.id}`;
      if (c.phase === "on_failure" && !notified)
        payload.handler = status === "recovered" ? { outcome: "recovered" } : { outcome: "failed", error: error! };
      alerts = await this.deps.planAlerts(payload, now);
      if (alerts.length) this.live.pending.push({ op: "insertOutbox", rows: alerts });
    }
    await this.flush(null);
    if (status !== "succeeded") {
      if (this.deps.onAlerts) this.deps.onAlerts(alerts);
      else this.deps.onDue?.(now);
    }
    return { kind: "ended", run: this.live.run };
  }

  /** A step whose `when` was falsy: ledger status `skipped`, result null. */
  private markSkipped(path: string): void {
    const now = this.deps.clock.now();
    const row = this.attemptRow(path, this.nextAttemptNo(path), now, "skipped");
    this.live.pending.push({ op: "putAttempt", attempt: { ...row, finishedAt: now, durationMs: 0 } });
    if (isNested(path)) return;
    this.live.results[path] = null;
    (this.live.skipped ??= new Set()).add(path);
  }

  /** A parallel or for_each step: its inner steps are recorded by path, the block's result as its own row. */
  private async block(step: Step): Promise<BlockOutcome> {
    const startedAt = this.deps.clock.now();
    const host: BlockHost = {
      signal: this.live.signal,
      done: (this.live.nested ??= {}),
      retryLayers: () => [this.live.defaults.retry, this.live.flow.retry],
      random: () => this.deps.random(),
      attempt: (s, path, scope, signal) => this.attempt(s, path, scope, signal),
      markSkipped: (_s, path) => this.markSkipped(path),
      wait: (ms, signal) => this.holdFor(ms, signal),
      failure: (err, path, attempts) => this.failureContext(toContext(err, path, attempts)),
      failedResult: (last, error) => failedResult(this.redact(last), error),
    };
    const out = await new Blocks(host).run(step, step.id, this.scope(1));
    const now = this.deps.clock.now();
    const row = {
      ...this.attemptRow(step.id, this.nextAttemptNo(step.id), startedAt, "succeeded"),
      finishedAt: now,
      durationMs: now - startedAt,
    };
    if (out.ok) row.output = this.redact(out.value);
    else Object.assign(row, { status: "failed", output: out.failed, error: out.error });
    this.live.pending.push({ op: "putAttempt", attempt: row });
    return out;
  }

  /** Waits in memory inside a block (a backoff, a sleep); the run's lease covers the wait. */
  private async holdFor(ms: number, signal: AbortSignal): Promise<void> {
    if (!this.detached) await this.flush(this.deps.clock.now() + ms + LEASE_MARGIN_MS);
    await new Promise<void>((resolve) => {
      const cancel = this.deps.clock.setTimer(ms, done);
      function done() {
        cancel();
        signal.removeEventListener("abort", done);
        resolve();
      }
      signal.addEventListener("abort", done, { once: true });
    });
  }

  /** A durable sleep: the run waits as a row with a due time, like a retry. */
  private async sleepStep(step: Step): Promise<Advance | undefined> {
    const c = this.cursor;
    const now = this.deps.clock.now();
    if (c.sleep_until === undefined) {
      const attempt = this.nextAttemptNo(step.id);
      c.sleep_until = now + step.sleep!.ms;
      this.live.pending.push({ op: "putAttempt", attempt: this.attemptRow(step.id, attempt, now, "running") });
      return this.waitUntil("running", c.sleep_until);
    }
    if (now < c.sleep_until) return this.waitUntil("running", c.sleep_until);
    const attempt = (this.live.nextAttempt[step.id] ?? 2) - 1;
    const started = c.sleep_until - step.sleep!.ms;
    this.live.pending.push({
      op: "putAttempt",
      attempt: {
        ...this.attemptRow(step.id, attempt, started, "succeeded"),
        finishedAt: now,
        durationMs: now - started,
        output: null,
      },
    });
    this.live.results[step.id] = null;
    delete c.sleep_until;
    this.setRun("running", { dueAt: null });
    this.moveOn();
    return undefined;
  }

  private nextAttemptNo(path: string): number {
    const n = this.live.nextAttempt[path] ?? 1;
    this.live.nextAttempt[path] = n + 1;
    return n;
  }

  private attemptRow(path: string, attempt: number, startedAt: number, status: AttemptRecord["status"]): AttemptRecord {
    return {
      runId: this.live.run.id,
      step: path,
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

  private async attempt(
    step: Step,
    path = step.id,
    scope?: TemplateScope,
    signal = this.live.signal,
  ): Promise<Outcome> {
    const attemptNo = this.nextAttemptNo(path);
    const startedAt = this.deps.clock.now();
    const row = this.attemptRow(path, attemptNo, startedAt, "running");
    const timeout = stepTimeout(this.live, step);
    if (isSideEffect(step)) {
      this.live.pending.push({ op: "putAttempt", attempt: row });
      if (this.detached) await this.deps.store.commit(this.live.pending.splice(0));
      else {
        this.setRun("running", { dueAt: null });
        await this.flush(startedAt + timeout + LEASE_MARGIN_MS);
      }
    }
    const result = await this.execute(step, attemptNo, timeout, signal, path, scope);
    const finishedAt = this.deps.clock.now();
    const done: AttemptRecord = { ...row, finishedAt, durationMs: finishedAt - startedAt };
    if (result.ok) {
      done.status = "succeeded";
      done.output = this.redact(result.value);
    } else {
      done.status = "failed";
      done.output = this.redact(result.error.extra.result ?? null);
      done.error = this.redact(toContext(result.error, path, path === step.id ? this.cursor.attempt + 1 : attemptNo));
    }
    this.live.pending.push({ op: "putAttempt", attempt: done });
    // Inside a block, other branches may keep the run busy: a finished side effect is kept at once.
    if (path !== step.id && isSideEffect(step)) await this.deps.store.commit(this.live.pending.splice(0));
    return result;
  }

  private attemptEnv(
    step: Step,
    attemptNo: number,
    signal: AbortSignal,
    path: string,
    given?: TemplateScope,
  ): AttemptEnv {
    const scope = given ?? this.scope(attemptNo);
    return {
      http: this.http,
      scripts: this.deps.scripts,
      signal,
      scope,
      scriptContext: {
        input: scope.input,
        steps: scope.steps as Record<string, unknown>,
        error: this.cursor.primary,
        failed: this.cursor.failed,
        run: {
          id: this.live.run.id,
          flow: this.live.run.flow,
          flow_version: this.live.run.flowVersion,
          attempt: attemptNo,
        },
      },
      idempotencyKey: `${this.live.run.id}:${path}`,
      now: () => this.deps.clock.now(),
      runChild:
        step.flow && this.live.children
          ? (flow, input, sig) =>
              this.live.children!.run(childId(this.live.run.id, path, attemptNo), flow, input, this.live.run.id, sig)
          : undefined,
    };
  }

  private async execute(
    step: Step,
    attemptNo: number,
    timeout: number,
    parent: AbortSignal,
    path: string,
    scope?: TemplateScope,
  ): Promise<Outcome> {
    const mocked = this.deps.mock?.(path, step);
    if (mocked) return mocked;
    if (!isSideEffect(step)) {
      // Pure steps finish synchronously: no timer or abort could fire during them.
      try {
        return { ok: true, value: await runAttempt(step, this.attemptEnv(step, attemptNo, parent, path, scope)) };
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
      return {
        ok: true,
        value: await runAttempt(step, this.attemptEnv(step, attemptNo, controller.signal, path, scope)),
      };
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
    const child = new RunExecution(
      this.deps,
      { ...this.live, run, results: { ...this.live.results }, pending: [], firstCommit: undefined },
      true,
    );
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
      const delay = nextDelay(
        policy,
        this.cursor.attempt,
        outcome.error.type,
        this.deps.random,
        outcome.error.extra.retryAfterMs,
      );
      if (delay === undefined) {
        this.deps.log("warn", "async step failed", {
          run: this.live.run.id,
          step: step.id,
          error: this.redact(outcome.error.message),
        });
        return;
      }
      if (delay > 0) await new Promise<void>((resolve) => this.deps.clock.setTimer(delay, resolve));
    }
  }
}
