// The engine's front door: start, resume, retry, replay, cancel and wait for runs.
import { makeRedactor } from "./redact";
import { EngineError } from "./errors";
import type { Flow } from "./flow";
import { validateInput } from "./input";
import { ACTIVE, TERMINAL, type ChildRuns, type Cursor, type EngineDeps, type RunRecord, type Write } from "./ports";
import { restoreFromLedger, type LiveRun } from "./live-run";
import { RunExecution } from "./run";

const START_LEASE_MS = 60_000;
const CHILD_POLL_MS = 60_000;

function aborted(signal: AbortSignal): Promise<undefined> {
  return new Promise((resolve) =>
    signal.aborted ? resolve(undefined) : signal.addEventListener("abort", () => resolve(undefined), { once: true }),
  );
}

export interface StartOptions {
  flow: string;
  input: unknown;
  version?: number;
  replayOf?: string | null;
  /** A child run of a `flow:` step: its fixed id and its parent. */
  id?: string;
  parentRun?: string;
}

export interface RetryOptions {
  /** `latest`: resume on the flow's latest version (its step with the failed step's id). */
  version?: "original" | "latest";
  /** Rerun from this earlier main step; the steps before it keep their results. */
  fromStep?: string;
}

/** The main step a retry resumes at: the failed step's id in `target`, or the earlier `fromStep`. */
function resumeIndex(
  run: RunRecord,
  original: Flow,
  target: { version: number; flow: Flow },
  fromStep?: string,
): number {
  const failed = original.steps[run.cursor.failed_index ?? run.cursor.index]?.id;
  const index = failed === undefined ? -1 : target.flow.steps.findIndex((s) => s.id === failed);
  const where = `version ${target.version} of flow '${run.flow}'`;
  if (index < 0) throw new EngineError("conflict", `step '${failed}' that failed in run ${run.id} is not in ${where}`);
  if (fromStep === undefined) return index;
  const from = target.flow.steps.findIndex((s) => s.id === fromStep);
  if (from < 0) {
    const issue = { path: "from_step", message: `no step '${fromStep}' in the flow` };
    throw new EngineError("invalid", `${where} has no step '${fromStep}'`, [issue]);
  }
  if (from > index) {
    const issue = { path: "from_step", message: `must be '${failed}' or an earlier step` };
    throw new EngineError("invalid", `step '${fromStep}' comes after the failed step '${failed}'`, [issue]);
  }
  return from;
}

/** A run start() has not stored yet: its insert and who waits for it to be committed. */
interface NewRun {
  insert: Write;
  first: NonNullable<LiveRun["firstCommit"]> & { settled: boolean };
}

export class Engine {
  private readonly running = new Map<string, AbortController>();
  private readonly waiters = new Map<string, Set<(run: RunRecord) => void>>();

  // A run's input is stored (and run) with secret values replaced, like everything else in the ledger.
  private readonly redact: <T>(value: T) => T;

  constructor(readonly deps: EngineDeps) {
    this.redact = makeRedactor(deps.secrets);
  }

  get activeCount(): number {
    return this.running.size;
  }

  async loadFlow(name: string, version?: number): Promise<{ version: number; flow: Flow }> {
    const found = await this.deps.store.getFlow(name, version);
    if (!found)
      throw new EngineError(
        "not_found",
        version ? `flow '${name}' has no version ${version}` : `unknown flow '${name}'`,
      );
    return found;
  }

  /** Commits a new run, then starts it in the background. */
  async start(opts: StartOptions): Promise<RunRecord> {
    const { version, flow } = await this.loadFlow(opts.flow, opts.version);
    const issues = validateInput(flow.input, opts.input);
    if (issues.length)
      throw new EngineError("invalid", `input does not match the schema of flow '${flow.name}'`, issues);
    const now = this.deps.clock.now();
    const run: RunRecord = {
      id: opts.id ?? this.deps.newId(),
      flow: flow.name,
      flowVersion: version,
      status: "queued",
      input: this.redact(opts.input),
      output: null,
      error: null,
      cursor: { phase: "main", index: 0, attempt: 0 },
      dueAt: now,
      replayOf: opts.replayOf ?? null,
      parentRun: opts.parentRun ?? null,
      external: null,
      createdAt: now,
      updatedAt: now,
      finishedAt: null,
    };
    const queued = { ...run, cursor: { ...run.cursor } };
    // The insert is committed with the run's first flush (before its first side effect, or with
    // its end): one transaction (one D1 round trip) less per run; the caller still hears only then.
    let first!: NewRun["first"];
    const committed = new Promise<void>((resolve, reject) => {
      first = {
        settled: false,
        resolve: () => ((first.settled = true), resolve()),
        reject: (err) => ((first.settled = true), reject(err)),
      };
    });
    this.spawn(run, flow, true, { insert: { op: "insertRun", run: queued, leaseUntil: now + START_LEASE_MS }, first });
    await committed;
    return { ...queued, cursor: { ...queued.cursor } };
  }

  /**
   * Resumes a failed or recovered run from its failed step (or the earlier `fromStep`); results of
   * the steps before stay. `latest` moves the run to its flow's latest version first. Exactly once
   * per failure: of concurrent calls one wins, the others get a conflict.
   */
  async retry(id: string, opts: RetryOptions = {}): Promise<RunRecord> {
    const run = await this.mustGet(id);
    if (run.status !== "failed" && run.status !== "recovered") {
      throw new EngineError("conflict", `run ${id} is ${run.status}; only failed or recovered runs can be retried`);
    }
    if (run.external)
      throw new EngineError(
        "conflict",
        `run ${id} reports an external failure; its retry goes to the reporting system`,
      );
    const original = await this.loadFlow(run.flow, run.flowVersion);
    const target = opts.version === "latest" ? await this.loadFlow(run.flow) : original;
    const index = resumeIndex(run, original.flow, target, opts.fromStep);
    const now = this.deps.clock.now();
    const cursor: Cursor = { phase: "main", index, attempt: 0 };
    const set = {
      status: "queued" as const,
      flowVersion: target.version,
      cursor,
      error: null,
      output: null,
      finishedAt: null,
      dueAt: now,
      updatedAt: now,
    };
    const claimed = await this.deps.store.transition(id, run.status, { ...set, leaseUntil: now + START_LEASE_MS });
    if (!claimed) throw new EngineError("conflict", `run ${id} is already being retried`);
    const resumed: RunRecord = { ...run, ...set };
    this.spawn(resumed, target.flow, false);
    return resumed;
  }

  async replay(id: string, opts: { original?: boolean; input?: unknown } = {}): Promise<RunRecord> {
    const run = await this.mustGet(id);
    if (run.external)
      throw new EngineError(
        "conflict",
        `run ${id} reports an external failure; its replay goes to the reporting system`,
      );
    return this.start({
      flow: run.flow,
      version: opts.original ? run.flowVersion : undefined,
      input: opts.input !== undefined ? opts.input : run.input,
      replayOf: run.id,
    });
  }

  async cancel(id: string): Promise<RunRecord> {
    await this.mustGet(id);
    const now = this.deps.clock.now();
    const done = await this.deps.store.cancelRun(id, now);
    const run = await this.mustGet(id);
    if (!done) throw new EngineError("conflict", `run ${id} has already ended (${run.status})`);
    this.running.get(id)?.abort();
    this.notify(run);
    this.deps.onRunEnded?.(run);
    return run;
  }

  /** Resolves with the run once it has ended, or undefined after timeoutMs. */
  async waitFor(id: string, timeoutMs: number): Promise<RunRecord | undefined> {
    // The waiter is registered before the store is read, so a run that ends while
    // the read is on its way is not missed.
    return new Promise((resolve, reject) => {
      const set = this.waiters.get(id) ?? new Set();
      this.waiters.set(id, set);
      let settled = false;
      const cleanup = () => {
        settled = true;
        cancelTimer();
        set.delete(done);
        if (set.size === 0 && this.waiters.get(id) === set) this.waiters.delete(id);
      };
      const done = (run: RunRecord | undefined) => {
        if (settled) return;
        cleanup();
        resolve(run);
      };
      const cancelTimer = this.deps.clock.setTimer(timeoutMs, () => done(undefined));
      set.add(done);
      // A run executing here will notify its waiters; only others need a look at the store.
      if (this.running.has(id)) return;
      this.deps.store.getRun(id).then(
        (current) => {
          if (!current || TERMINAL.includes(current.status)) done(current);
        },
        (err: unknown) => {
          if (settled) return;
          cleanup();
          reject(err);
        },
      );
    });
  }

  /** Claims due runs (retries whose backoff passed, woken sleeps, runs a crash left) and advances them. */
  async tick(limit = 32): Promise<number> {
    const room = limit - this.running.size;
    if (room <= 0) return 0;
    const due = await this.deps.store.claimDue(this.deps.clock.now(), START_LEASE_MS, room);
    for (const run of due) {
      if (this.running.has(run.id)) continue;
      const found = await this.deps.store.getFlow(run.flow, run.flowVersion);
      if (!found) {
        this.deps.log("error", "run's flow version is missing", {
          run: run.id,
          flow: run.flow,
          version: run.flowVersion,
        });
        continue;
      }
      this.spawn(run, found.flow, false);
    }
    return due.length;
  }

  /** Resolves once no run is executing in this process (for tests and shutdown). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await new Promise((r) => setTimeout(r, 5));
  }

  private readonly children: ChildRuns = {
    run: async (id, flow, input, parent, signal) => {
      const child = (await this.deps.store.getRun(id)) ?? (await this.start({ flow, input, id, parentRun: parent }));
      for (;;) {
        if (signal.aborted) {
          await this.cancel(child.id).catch(() => undefined);
          throw signal.reason;
        }
        const ended = await Promise.race([this.waitFor(child.id, CHILD_POLL_MS), aborted(signal)]);
        if (ended) return ended;
      }
    },
  };

  private spawn(run: RunRecord, flow: Flow, fresh: boolean, start?: NewRun): void {
    if (this.running.has(run.id)) return;
    const controller = new AbortController();
    this.running.set(run.id, controller);
    const task = this.execute(run, flow, fresh, controller, start)
      .catch((err: unknown) => {
        start?.first.reject(err);
        this.deps.log("error", "run execution failed; it will be resumed by the scheduler", {
          run: run.id,
          error: String((err as Error)?.stack ?? err),
        });
      })
      .finally(() => {
        // Settled already unless the run stopped before any commit (nothing of it was stored).
        if (start && !start.first.settled) start.first.reject(new Error(`run ${run.id} stopped before it was stored`));
        this.release(run.id, controller);
      });
    this.deps.waitUntil(task);
  }

  private release(id: string, controller: AbortController): void {
    if (this.running.get(id) === controller) this.running.delete(id);
  }

  private async execute(
    run: RunRecord,
    flow: Flow,
    fresh: boolean,
    controller: AbortController,
    start?: NewRun,
  ): Promise<void> {
    if (!ACTIVE.includes(run.status)) return;
    const defaults = await this.deps.store.getDefaults();
    const live: LiveRun = {
      run,
      flow,
      defaults,
      results: {},
      nextAttempt: {},
      pending: start ? [start.insert] : [],
      signal: controller.signal,
      firstCommit: start?.first,
      children: this.children,
    };
    if (!fresh) restoreFromLedger(live, await this.deps.store.getAttempts(run.id), this.deps.clock.now());
    if (run.status !== "running") Object.assign(run, { status: "running", dueAt: null });
    const outcome = await new RunExecution(this.deps, live).advance();
    // Released before waiters hear of the end, so waitFor's in-process shortcut cannot miss it.
    this.release(run.id, controller);
    if (outcome.kind === "ended") {
      this.notify(outcome.run);
      this.deps.onRunEnded?.({ ...outcome.run });
    }
  }

  private notify(run: RunRecord): void {
    const set = this.waiters.get(run.id);
    if (set) for (const fn of [...set]) fn({ ...run });
  }

  private async mustGet(id: string): Promise<RunRecord> {
    const run = await this.deps.store.getRun(id);
    if (!run) throw new EngineError("not_found", `unknown run '${id}'`);
    return run;
  }
}
