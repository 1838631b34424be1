// Flow tests with mocks (SPEC §12, Mashin's `assuming`): a run on an in-memory store and a
// virtual clock. Nothing is stored, alerted or called: a step without a mock that would call
// out (http, script) fails with `validation`, unless `live` lets it call for real.
import { Engine } from "./engine";
import { StepError, isErrorType, type ErrorType } from "./errors";
import type { Step } from "./flow";
import { MemoryStore } from "./memory-store";
import {
  TERMINAL,
  type AttemptRecord,
  type Clock,
  type EngineDeps,
  type OutboxRecord,
  type RunRecord,
  type RunStore,
} from "./ports";

export type Mock = { output: unknown } | { error: { message: string; type?: string; status?: number } };

export interface SimulateRequest {
  flow: string;
  input: unknown;
  mocks?: Record<string, Mock>;
  live?: boolean;
}

export interface SimulateResult {
  run: RunRecord;
  attempts: AttemptRecord[];
  /** The outbox rows the failure would have written. */
  alerts: OutboxRecord[];
  /** Notifying scripts (slack, discord, webhook, log) whose step ran, mocked or live. */
  notified: { step: string; script: string }[];
}

const NOTIFYING = new Set(["slack", "discord", "webhook", "log"]);
const MAX_VIRTUAL_MS = 30 * 24 * 3600 * 1000;
const LIVE_WAIT_MS = 30_000;

/** A clock whose time moves only when the simulation says so. */
class VirtualClock implements Clock {
  private timers: { at: number; fn: () => void }[] = [];
  constructor(private t: number) {}
  now = () => this.t;
  setTimer = (ms: number, fn: () => void) => {
    const timer = { at: this.t + ms, fn };
    this.timers.push(timer);
    return () => void (this.timers = this.timers.filter((x) => x !== timer));
  };
  next(): number | undefined {
    return this.timers.length ? Math.min(...this.timers.map((x) => x.at)) : undefined;
  }
  moveTo(at: number): void {
    this.t = Math.max(this.t, at);
    const due = this.timers.filter((x) => x.at <= this.t);
    this.timers = this.timers.filter((x) => x.at > this.t);
    for (const x of due) x.fn();
  }
}

class SimStore extends MemoryStore {
  constructor(private readonly real: RunStore) {
    super();
  }
  override getFlow(name: string, version?: number) {
    return this.real.getFlow(name, version);
  }
  override getDefaults() {
    return this.real.getDefaults();
  }
}

function mockFor(mocks: Record<string, Mock>, live: boolean, notified: SimulateResult["notified"]) {
  return (path: string, step: Step) => {
    const mock = mocks[path] ?? mocks[step.id];
    if (step.script && NOTIFYING.has(step.script.name) && (mock || live))
      notified.push({ step: path, script: step.script.name });
    if (mock && "error" in mock) {
      const type: ErrorType = isErrorType(mock.error.type) ? mock.error.type : "runtime";
      return { ok: false as const, error: new StepError(mock.error.message, type, { status: mock.error.status }) };
    }
    if (mock) return { ok: true as const, value: mock.output };
    if (!live && (step.http || step.script))
      return {
        ok: false as const,
        error: new StepError(`no mock for step '${path}' (add mocks.${step.id}, or live: true)`, "validation"),
      };
    return undefined;
  };
}

const tick = () => new Promise<void>((r) => setTimeout(r, 0));

export async function simulate(base: EngineDeps, req: SimulateRequest): Promise<SimulateResult> {
  const live = req.live === true;
  const store = new SimStore(base.store);
  const clock = live ? base.clock : new VirtualClock(base.clock.now());
  const alerts: OutboxRecord[] = [];
  const notified: SimulateResult["notified"] = [];
  const deps: EngineDeps = {
    ...base,
    clock,
    store,
    fetch: live
      ? base.fetch
      : () => Promise.reject(new StepError("flow tests call nothing unless live: true", "validation")),
    planAlerts: async (payload, now) => {
      const rows = await base.planAlerts(payload, now);
      alerts.push(...rows);
      return [];
    },
    waitUntil: (p) => void p.catch(() => undefined),
    onDue: undefined,
    onRunEnded: undefined,
    mock: mockFor(req.mocks ?? {}, live, notified),
  };
  const engine = new Engine(deps);
  const started = await engine.start({ flow: req.flow, input: req.input });
  let run = live ? await engine.waitFor(started.id, LIVE_WAIT_MS) : undefined;
  if (clock instanceof VirtualClock) {
    const end = clock.now() + MAX_VIRTUAL_MS;
    // Everything is mocked, so the run moves on within a few turns unless it waits for time.
    for (let idle = 0; idle < 100; ) {
      for (let j = 0; j < 3; j++) await tick();
      run = await store.getRun(started.id);
      if (run && TERMINAL.includes(run.status)) break;
      const due = [clock.next(), (await store.nextDueAt()) ?? undefined].filter((x): x is number => x !== undefined);
      if (due.length === 0) {
        idle++;
        continue;
      }
      idle = 0;
      const at = Math.min(...due);
      if (at > end) break;
      clock.moveTo(at);
      await engine.tick();
    }
  }
  run ??= await store.getRun(started.id);
  if (run && !TERMINAL.includes(run.status)) await engine.cancel(run.id).catch(() => undefined);
  const final = (await store.getRun(started.id))!;
  return { run: final, attempts: await store.getAttempts(final.id), alerts, notified };
}
