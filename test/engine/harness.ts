// Builds an Engine on fakes: a FakeClock, the MemoryStore, a scripted fetch,
// a script registry, a recording alert planner, a fixed random and secrets.
// Nothing here touches the network or sleeps for real.
import { Engine } from "../../src/engine/engine";
import { parseFlow, type Defaults } from "../../src/engine/flow";
import type {
  AlertPayload,
  AttemptRecord,
  EngineDeps,
  OutboxRecord,
  RunRecord,
  ScriptFn,
} from "../../src/engine/ports";
import { FakeClock, settleMicrotasks } from "../fakes/fake-clock";
import { MemoryStore } from "../fakes/memory-store";

export interface RecordedRequest {
  url: string;
  method: string;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  body: string | undefined;
  signal: AbortSignal | undefined;
}

export type Reply = (req: RecordedRequest) => Response | Promise<Response>;

/** A JSON (or text) response, built fresh for each call. */
export function reply(status: number, body?: unknown, headers: Record<string, string> = {}): Reply {
  return () => {
    if (body === undefined) return new Response(status === 204 || status === 304 ? null : "", { status, headers });
    if (typeof body === "string")
      return new Response(body, { status, headers: { "content-type": "text/plain", ...headers } });
    return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
  };
}

/** A request that never answers; like real fetch it rejects with the signal's reason when aborted. */
export const hang: Reply = (req) =>
  new Promise<Response>((_, reject) => {
    const signal = req.signal;
    if (!signal) return;
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });

/** A connection failure shaped like undici's: TypeError "fetch failed" with a cause code. */
export function refused(code = "ECONNREFUSED"): Reply {
  return () => {
    throw new TypeError("fetch failed", { cause: Object.assign(new Error(`connect ${code}`), { code }) });
  };
}

export class FakeFetch {
  readonly requests: RecordedRequest[] = [];
  private readonly queue: Reply[] = [];
  /** Answers once the queue is empty; undefined makes an unscripted call fail the test loudly. */
  fallback: Reply | undefined;
  readonly unexpected: RecordedRequest[] = [];

  /** Queues replies, used one per request in order. */
  reply(...replies: Reply[]): this {
    this.queue.push(...replies);
    return this;
  }

  readonly fetch = (async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = input instanceof Request ? input.url : String(input);
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((v, k) => (headers[k] = v));
    const req: RecordedRequest = {
      url,
      method: init?.method ?? "GET",
      headers,
      body: typeof init?.body === "string" ? init.body : undefined,
      signal: init?.signal ?? undefined,
    };
    this.requests.push(req);
    const next = this.queue.shift() ?? this.fallback;
    if (!next) {
      this.unexpected.push(req);
      throw new Error(`unscripted request ${req.method} ${req.url}`);
    }
    return next(req);
  }) as typeof fetch;
}

export interface HarnessOptions {
  flows?: unknown[];
  defaults?: Defaults;
  secrets?: Record<string, string>;
  scripts?: Record<string, ScriptFn>;
  random?: () => number;
  publicUrl?: string;
}

export type Harness = ReturnType<typeof makeHarness>;

export function makeHarness(opts: HarnessOptions = {}) {
  const clock = new FakeClock();
  const store = new MemoryStore();
  const http = new FakeFetch();
  const alerts: AlertPayload[] = [];
  const logs: { level: string; msg: string; fields?: Record<string, unknown> }[] = [];
  const tasks = new Set<Promise<unknown>>();
  /** Times the engine told the scheduler work is due (onDue). */
  const dues: number[] = [];
  const scripts: Record<string, ScriptFn> = { ...opts.scripts };
  let ids = 0;
  let outboxIds = 0;
  if (opts.defaults) store.setDefaults(opts.defaults);

  const deps: EngineDeps = {
    clock,
    random: opts.random ?? (() => 0.5),
    newId: () => `run${String(++ids).padStart(4, "0")}`,
    store,
    fetch: http.fetch,
    scripts: { get: (name) => (Object.hasOwn(scripts, name) ? scripts[name] : undefined) },
    planAlerts: async (payload, now): Promise<OutboxRecord[]> => {
      alerts.push(JSON.parse(JSON.stringify(payload)) as AlertPayload);
      return [
        {
          id: `ob${++outboxIds}`,
          runId: payload.run.id,
          handlerId: null,
          kind: "log",
          payload,
          status: "pending",
          attempts: 0,
          nextAttemptAt: now,
          lastError: null,
          response: null,
          createdAt: now,
          deliveredAt: null,
        },
      ];
    },
    secrets: opts.secrets ?? {},
    waitUntil: (p) => {
      tasks.add(p);
      void p.finally(() => tasks.delete(p));
    },
    log: (level, msg, fields) => logs.push({ level, msg, fields }),
    publicUrl: opts.publicUrl,
    onDue: (at) => dues.push(at),
  };
  const engine = new Engine(deps);

  function addFlow(raw: unknown): number {
    const parsed = parseFlow(raw);
    if (!parsed.ok) throw new Error("test flow is invalid: " + JSON.stringify(parsed.issues));
    return store.putFlow(parsed.value);
  }
  for (const f of opts.flows ?? []) addFlow(f);

  /** Lets background work finish; stops early once nothing is in flight (work blocked on a timer stays). */
  async function settle(): Promise<void> {
    for (let i = 0; i < 50; i++) {
      await settleMicrotasks(2);
      if (tasks.size === 0) return;
    }
  }

  async function run(id: string): Promise<RunRecord> {
    const r = await store.getRun(id);
    if (!r) throw new Error(`no run ${id}`);
    return r;
  }

  return {
    clock,
    store,
    http,
    alerts,
    dues,
    logs,
    scripts,
    engine,
    deps,
    addFlow,
    settle,
    run,
    /** Starts a run and lets it go as far as it can without time passing. */
    async start(flow: string, input: unknown = {}): Promise<RunRecord> {
      const started = await engine.start({ flow, input });
      await settle();
      return run(started.id);
    },
    /** Moves time on, then lets the scheduler claim what is due (as the real scheduler tick does). */
    async advance(ms: number): Promise<number> {
      await clock.advance(ms);
      const claimed = await engine.tick();
      await settle();
      return claimed;
    },
    attempts(id: string): Promise<AttemptRecord[]> {
      return store.getAttempts(id);
    },
    async attemptsOf(id: string, step: string): Promise<AttemptRecord[]> {
      return (await store.getAttempts(id)).filter((a) => a.step === step);
    },
  };
}

/** A minimal valid flow with the given steps and extra top-level fields. */
export function flow(name: string, steps: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name, steps, ...extra };
}

export const URL_A = "http://api.test/a";
export const URL_B = "http://api.test/b";
