// Control flow inside a step: `when`, `parallel` branches and `for_each` loops (SPEC §12).
// Inner steps are recorded in the ledger under their path (`fan[2].call`, `par.a.call`), so a
// resumed run skips what already finished and an error names where it happened.
import { StepError, coerceError, type ErrorContext } from "./errors";
import type { Step, When } from "./flow";
import { mergePolicy, nextDelay } from "./retry";
import { render, renderString, type TemplateScope } from "./template";

export type Outcome = { ok: true; value: unknown } | { ok: false; error: StepError };
export type BlockOutcome =
  | { ok: true; value: unknown }
  | { ok: false; error: ErrorContext; failed: Record<string, unknown> & { error: ErrorContext } };

/** What a block needs from the run executing it (src/engine/run.ts). */
export interface BlockHost {
  readonly signal: AbortSignal;
  /** Results of inner steps restored from the ledger, by path. */
  readonly done: Record<string, unknown>;
  retryLayers(): Parameters<typeof mergePolicy>;
  random(): number;
  /** One attempt of a leaf step, recorded in the ledger under `path`. */
  attempt(step: Step, path: string, scope: TemplateScope, signal: AbortSignal): Promise<Outcome>;
  /** Records a step whose `when` was falsy. */
  markSkipped(step: Step, path: string): void;
  /** Waits in memory (a backoff or a sleep inside a block), keeping the run's lease. */
  wait(ms: number, signal: AbortSignal): Promise<void>;
  /** The error context of a step that failed for good (error object applied, redacted). */
  failure(error: StepError, path: string, attempts: number): ErrorContext;
  failedResult(last: unknown, error: ErrorContext): Record<string, unknown> & { error: ErrorContext };
}

const FALSY_TEXT = new Set(["", "false", "0", "null", "no"]);

/** `when`: a missing path is null; null, false, 0, "" (and their text forms) skip the step. */
export function whenHolds(when: When, scope: TemplateScope): boolean {
  if (typeof when === "boolean") return when;
  if (typeof when === "string") return truthy(renderString(when, scope, "null"));
  const [a, b] = render("equals" in when ? when.equals : when.not_equals, scope, "null") as [unknown, unknown];
  const same = JSON.stringify(a) === JSON.stringify(b);
  return "equals" in when ? same : !same;
}

function truthy(v: unknown): boolean {
  if (typeof v === "string") return !FALSY_TEXT.has(v.trim().toLowerCase());
  return Boolean(v);
}

interface Frame {
  scope: TemplateScope;
  /** Retry layers of the blocks around the step. */
  chain: Step[];
  signal: AbortSignal;
}

export class Blocks {
  constructor(private readonly host: BlockHost) {}

  /** Runs a parallel or for_each step whose own `when` already held. */
  run(
    step: Step,
    path: string,
    scope: TemplateScope,
    chain: Step[] = [],
    signal = this.host.signal,
  ): Promise<BlockOutcome> {
    const frame = { scope, chain: [...chain, step], signal };
    return step.parallel ? this.parallel(step, path, frame) : this.forEach(step, path, frame);
  }

  private async parallel(step: Step, path: string, frame: Frame): Promise<BlockOutcome> {
    const { branches, mode } = step.parallel!;
    const controller = new AbortController();
    const onAbort = () => controller.abort(frame.signal.reason);
    frame.signal.addEventListener("abort", onAbort, { once: true });
    let first: BlockOutcome | undefined;
    try {
      const outcomes = await Promise.all(
        Object.entries(branches).map(async ([name, steps]) => {
          const out = await this.list(steps, `${path}.${name}.`, { ...frame, signal: controller.signal });
          if (!out.ok && !first) {
            first = out;
            if (mode === "fail_fast")
              controller.abort(new StepError(`branch '${name}' of '${step.id}' failed`, "cancelled"));
          }
          return [name, out] as const;
        }),
      );
      if (mode === "all") first = outcomes.map(([, o]) => o).find((o) => !o.ok);
      if (first) return first;
      return {
        ok: true,
        value: Object.fromEntries(outcomes.map(([name, o]) => [name, (o as { value: unknown }).value])),
      };
    } finally {
      frame.signal.removeEventListener("abort", onAbort);
    }
  }

  private async forEach(step: Step, path: string, frame: Frame): Promise<BlockOutcome> {
    const loop = step.for_each!;
    let items: unknown;
    try {
      items = render(loop.items, frame.scope);
      if (!Array.isArray(items)) throw new StepError(`for_each items of '${step.id}' is not a list`, "validation");
      if (items.length > 10_000)
        throw new StepError(`for_each items of '${step.id}' has more than 10000 entries`, "validation");
    } catch (thrown) {
      const error = this.host.failure(coerceError(thrown), path, 1);
      return { ok: false, error, failed: this.host.failedResult(null, error) };
    }
    const list = items;
    const results: unknown[] = new Array(list.length).fill(null);
    const failures: [number, BlockOutcome][] = [];
    let next = 0;
    const worker = async () => {
      while (next < list.length && failures.length === 0) {
        const i = next++;
        const scope = { ...frame.scope, item: list[i], index: i };
        const out = await this.list(loop.steps, `${path}[${i}].`, { ...frame, scope });
        if (out.ok) results[i] = out.value;
        else failures.push([i, out]);
      }
    };
    await Promise.all(Array.from({ length: Math.min(loop.concurrency, list.length) }, worker));
    if (failures.length) return failures.sort((a, b) => a[0] - b[0])[0]![1];
    return { ok: true, value: results };
  }

  /** Runs a list of steps in order; the result is the last one's that ran. */
  private async list(steps: Step[], prefix: string, frame: Frame): Promise<BlockOutcome> {
    const local: Record<string, unknown> = {};
    let last: unknown = null;
    for (const step of steps) {
      const path = prefix + step.id;
      const scope: TemplateScope = { ...frame.scope, steps: { ...(frame.scope.steps as object), ...local } };
      if (Object.hasOwn(this.host.done, path)) {
        local[step.id] = last = this.host.done[path];
        continue;
      }
      if (step.when !== undefined && !whenHolds(step.when, scope)) {
        this.host.markSkipped(step, path);
        local[step.id] = null;
        continue;
      }
      const out =
        step.parallel || step.for_each
          ? await this.run(step, path, scope, frame.chain, frame.signal)
          : await this.leaf(step, path, scope, frame);
      if (!out.ok && !step.continue_on_error) return out;
      local[step.id] = last = out.ok ? out.value : out.failed;
    }
    return { ok: true, value: last };
  }

  private async leaf(step: Step, path: string, scope: TemplateScope, frame: Frame): Promise<BlockOutcome> {
    const policy = mergePolicy(...this.host.retryLayers(), ...frame.chain.map((s) => s.retry), step.retry);
    for (let attempts = 1; ; attempts++) {
      if (step.sleep) {
        await this.host.wait(step.sleep.ms, frame.signal);
      }
      const out = await this.host.attempt(step, path, scope, frame.signal);
      if (out.ok) return out;
      const delay = frame.signal.aborted
        ? undefined
        : nextDelay(policy, attempts, out.error.type, () => this.host.random(), out.error.extra.retryAfterMs);
      if (delay === undefined) {
        const error = this.host.failure(out.error, path, attempts);
        return { ok: false, error, failed: this.host.failedResult(out.error.extra.result ?? null, error) };
      }
      if (delay > 0) await this.host.wait(delay, frame.signal);
    }
  }
}
