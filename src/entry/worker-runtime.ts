// The Workers side of mend: builds the same services as the Node entry from a Worker's `env`
// bindings, per invocation (no module-level env, database or deps), and drives retries, sleeps
// and the outbox with one Durable Object alarm (the Ticker). See docs/workers.md.
//
// Who runs what:
//   - A request runs the runs it starts (POST /hooks, retry/replay clicks) in ctx.waitUntil, and
//     wakes its own scheduler for work due within HOLD_MAX_MS of the request's start (a retry
//     after 200 ms, the alert of a run that just failed), so `?wait=true` sees a retried run end
//     like it does on Node — and no invocation outlives waitUntil's 30 s by its own timers.
//   - Everything due is also told to the Ticker (`onDue`): it keeps one alarm at the earliest due
//     time (a little later for work the request will do itself), and its alarm() runs the same
//     scheduler ticks against D1 — backoffs longer than a request lives, outbox retries, runs a
//     killed isolate left behind once their lease lapses, click follow-ups.
//   - A Cron Trigger pokes the Ticker every minute as a safety net, like the Node scheduler's poll.
import { and, inArray, isNotNull, min } from "drizzle-orm";
import type { Hono } from "hono";
import { runs as runsTable } from "../../db/schema";
import { createApp } from "../app";
import type { Deps, Log } from "../deps";
import { ACTIVE, TERMINAL, type Clock, type RunRecord } from "../engine/ports";
import { ConfigError, parseEnv, type Config } from "../env";
import { consoleLog, consoleLogAt, createServices } from "../services";
import { TextMetrics } from "../metrics";
import { Retention } from "../retention";
import { openD1, type D1Binding } from "../store/d1";
import type { Scheduler } from "../scheduler";

// ---- the slice of the Workers runtime types used here (no @cloudflare/workers-types in the Node build)

export interface ExecutionContextLike {
  waitUntil(promise: Promise<unknown>): void;
}

export interface DurableObjectStubLike {
  fetch(input: string, init?: RequestInit): Promise<Response>;
}

export interface DurableObjectNamespaceLike {
  idFromName(name: string): unknown;
  get(id: unknown): DurableObjectStubLike;
}

export interface DurableObjectStateLike {
  storage: {
    getAlarm(): Promise<number | null>;
    setAlarm(scheduledTime: number): Promise<void>;
  };
  blockConcurrencyWhile?<T>(fn: () => Promise<T>): Promise<T>;
}

/** The Worker's bindings (wrangler.toml) plus its vars and secrets (strings: the same names as on Node). */
export interface WorkerEnv {
  DB: D1Binding;
  TICKER: DurableObjectNamespaceLike;
  [name: string]: unknown;
}

// ---- tuning

/**
 * Work due within this long of a request's start is done by that invocation (kept alive by
 * waitUntil, which Workers cut 30 s after the response), so whatever it picks up still has 20 s
 * or more to finish; later work is the Ticker's. MEND_WORKER_HOLD_MS (a Workers-only variable)
 * lowers it; tests use it to send backoffs through the Ticker.
 */
const HOLD_MAX_MS = 10_000;

function holdMs(env: WorkerEnv): number {
  const v = Number(env.MEND_WORKER_HOLD_MS);
  return typeof env.MEND_WORKER_HOLD_MS === "string" && env.MEND_WORKER_HOLD_MS !== "" && Number.isFinite(v) && v >= 0
    ? Math.min(v, HOLD_MAX_MS)
    : HOLD_MAX_MS;
}
/** The Ticker comes this much later for work a request is doing itself, so the two rarely race. */
const TICKER_GRACE_MS = 3_000;
/** One alarm pass runs the scheduler for at most this long, then re-arms. */
const PASS_MAX_MS = 60_000;
/** While a clicked run is followed, the Ticker looks again this often. */
const FOLLOW_POLL_MS = 15_000;
/** MEND_RETENTION_DAYS on Workers: at most this many batches of deletes per Ticker pass. */
const RETENTION_BATCHES_PER_PASS = 4;
/** How often a waiting `?wait=true` checks D1 for a run another isolate is running. */
const WAIT_POLL_MS = 500;

// ---- config

/** D1 holds at most 1,000,000 bytes per row: without MEND_MAX_BODY, bodies stop below that (413). */
export const WORKERS_DEFAULT_MAX_BODY = 900_000;

const configs = new WeakMap<object, Config | ConfigError>();
// Services are built per invocation; the /metrics counters live as long as the isolate (per env object).
const metricsByEnv = new WeakMap<object, TextMetrics>();

function metricsOf(env: WorkerEnv): TextMetrics {
  let m = metricsByEnv.get(env);
  if (!m) metricsByEnv.set(env, (m = new TextMetrics()));
  return m;
}

/** The env's string values as the environment, parsed once per env object (never at import). */
export function configOf(env: WorkerEnv): Config {
  let c = configs.get(env);
  if (!c) {
    const raw: Record<string, string> = {};
    for (const [k, v] of Object.entries(env)) if (typeof v === "string") raw[k] = v;
    if (!raw.MEND_MAX_BODY) raw.MEND_MAX_BODY = String(WORKERS_DEFAULT_MAX_BODY);
    try {
      c = parseEnv(raw);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      c = err;
    }
    configs.set(env, c);
  }
  if (c instanceof ConfigError) throw c;
  return c;
}

// ---- time

/**
 * Timers for Workers: a timer that fires by `holdUntil` (epoch ms) keeps the invocation alive
 * (waitUntil) until it fires or is cancelled; a later one does not (it dies with the invocation,
 * and the Ticker covers what it was for).
 */
export function workerClock(waitUntil: (p: Promise<unknown>) => void, holdUntil: number): Clock {
  return {
    now: () => Date.now(),
    setTimer(ms, fn) {
      let release = () => undefined as void;
      const t = setTimeout(() => {
        try {
          fn();
        } finally {
          release();
        }
      }, ms);
      if (Date.now() + ms <= holdUntil) waitUntil(new Promise<void>((resolve) => (release = resolve)));
      return () => {
        clearTimeout(t);
        release();
      };
    },
  };
}

// ---- the Ticker's address

const TICKER_NAME = "ticker";

function tickerStub(env: WorkerEnv): DurableObjectStubLike {
  return env.TICKER.get(env.TICKER.idFromName(TICKER_NAME));
}

/** Asks the Ticker for an alarm at `at` (it keeps the earliest). */
async function wakeTicker(env: WorkerEnv, at: number): Promise<void> {
  const res = await tickerStub(env).fetch(`https://ticker/wake?at=${Math.floor(at)}`, { method: "POST" });
  await res.body?.cancel().catch(() => undefined);
  if (!res.ok) throw new Error(`ticker answered HTTP ${res.status}`);
}

// ---- services

interface WorkerServices {
  deps: Deps;
  scheduler: Scheduler;
  app: ReturnType<typeof createApp>;
}

async function buildWorker(
  env: WorkerEnv,
  o: { waitUntil: (p: Promise<unknown>) => void; holdUntil: number; onDue?: (at: number) => void; log?: Log },
): Promise<WorkerServices> {
  const config = configOf(env);
  const log = o.log ?? consoleLogAt(config.MEND_LOG_LEVEL);
  const waitUntil = (p: Promise<unknown>) =>
    o.waitUntil(
      p.catch((err: unknown) =>
        log("error", "background task failed", { error: String((err as Error)?.stack ?? err) }),
      ),
    );
  const { deps, scheduler } = createServices({
    config,
    db: openD1(env.DB),
    clock: workerClock(waitUntil, o.holdUntil),
    log,
    waitUntil,
    onDue: o.onDue,
    metrics: metricsOf(env),
  });
  followAcrossIsolates(deps);
  // Chat without Node: every platform over fetch (Slack's fetch bot runs the same interactions as Bolt).
  const chatRoutes: [string, Hono | undefined][] = [];
  for (const { platform, conn } of deps.chat.platforms) chatRoutes.push([platform.kind, await conn.routes?.(deps)]);
  const app = createApp(deps, (a) => {
    for (const [kind, routes] of chatRoutes) if (routes) a.route(`/${kind}`, routes);
  });
  return { deps, scheduler, app };
}

/**
 * On Node one process runs every run, so engine.waitFor hears every end in memory. Here a run can
 * end in another isolate (the Ticker, another request): waitFor also looks at D1 now and then.
 */
function followAcrossIsolates(deps: Deps): void {
  const engine = deps.engine;
  const inMemory = engine.waitFor.bind(engine);
  engine.waitFor = (id: string, timeoutMs: number) =>
    new Promise<RunRecord | undefined>((resolve, reject) => {
      let done = false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const finish = (run: RunRecord | undefined) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve(run);
      };
      inMemory(id, timeoutMs).then(finish, (err: unknown) => {
        done = true;
        clearTimeout(timer);
        reject(err);
      });
      const poll = () => {
        timer = setTimeout(() => {
          deps.runs.getRun(id).then(
            (run) => {
              if (done) return;
              if (run && TERMINAL.includes(run.status)) finish(run);
              else poll();
            },
            () => !done && poll(),
          );
        }, WAIT_POLL_MS);
      };
      poll();
    });
}

// ---- the fetch handler

export async function handleFetch(request: Request, env: WorkerEnv, ctx: ExecutionContextLike): Promise<Response> {
  let services: WorkerServices;
  try {
    let armedAt = Infinity;
    const holdUntil = Date.now() + holdMs(env);
    const onDue = (at: number) => {
      // Work due soon is this invocation's; the Ticker comes a little later in case it cannot.
      const when = at <= holdUntil ? at + TICKER_GRACE_MS : at;
      // The Ticker re-reads what is due from D1 on every alarm, so only an earlier time matters.
      if (when >= armedAt) return;
      armedAt = when;
      ctx.waitUntil(
        wakeTicker(env, when).catch((err: unknown) =>
          consoleLog("error", "could not arm the ticker", { error: String(err) }),
        ),
      );
    };
    services = await buildWorker(env, { waitUntil: (p) => ctx.waitUntil(p), holdUntil, onDue });
  } catch (err) {
    const message =
      err instanceof ConfigError
        ? `configuration: ${err.message}`
        : `cannot start: ${(err as Error)?.message ?? String(err)}`;
    consoleLog("error", message);
    return Response.json({ error: message }, { status: 500 });
  }
  return services.app.fetch(request);
}

/** Cron Trigger: the safety net (leases a killed invocation left, anything a lost wake missed). */
export async function handleScheduled(env: WorkerEnv, ctx: ExecutionContextLike): Promise<void> {
  ctx.waitUntil(wakeTicker(env, Date.now()));
}

// ---- the Ticker (Durable Object)

/** When the Ticker should wake next: the earliest due run, outbox row, escalation, mute end, lapsing lease or follow-up. */
async function nextWake(deps: Deps, now: number): Promise<number | null> {
  const [run, outbox, escalation, muteEnd, lease, following] = await Promise.all([
    deps.runs.nextDueAt(),
    deps.outbox.nextDueAt(),
    deps.escalator.nextDueAt(),
    deps.updates.nextDueAt(),
    deps.db.db
      .select({ at: min(runsTable.leaseUntil) })
      .from(runsTable)
      .where(and(inArray(runsTable.status, [...ACTIVE]), isNotNull(runsTable.leaseUntil)))
      .get(),
    deps.alerts.following(1),
  ]);
  const due = [
    run,
    outbox,
    escalation,
    muteEnd,
    lease?.at ?? null,
    following.length > 0 ? now + FOLLOW_POLL_MS : null,
  ].filter((x): x is number => typeof x === "number");
  return due.length ? Math.min(...due) : null;
}

export class TickerObject {
  constructor(
    private readonly state: DurableObjectStateLike,
    private readonly env: WorkerEnv,
  ) {}

  private async arm(at: number): Promise<void> {
    const current = await this.state.storage.getAlarm();
    if (current === null || at < current) await this.state.storage.setAlarm(Math.max(at, Date.now()));
  }

  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (request.method !== "POST" || url.pathname !== "/wake")
      return Response.json({ error: "not found" }, { status: 404 });
    const at = Number(url.searchParams.get("at"));
    if (!Number.isFinite(at)) return Response.json({ error: "at must be epoch milliseconds" }, { status: 400 });
    await this.arm(at);
    return new Response(null, { status: 204 });
  }

  /** One pass: the scheduler's ticks against D1, then wait for what they started; re-arm. */
  async alarm(): Promise<void> {
    const started = Date.now();
    const pending = new Set<Promise<unknown>>();
    const track = (p: Promise<unknown>) => {
      const q = p.catch(() => undefined).finally(() => pending.delete(q));
      pending.add(q);
    };
    let services: WorkerServices;
    try {
      services = await buildWorker(this.env, { waitUntil: track, holdUntil: started + PASS_MAX_MS });
    } catch (err) {
      consoleLog("error", "ticker cannot start", { error: String((err as Error)?.message ?? err) });
      return;
    }
    const { deps, scheduler } = services;
    try {
      await scheduler.run();
      // MEND_RETENTION_DAYS: a few batches per pass (the cron wakes the Ticker every minute).
      await new Retention({
        db: deps.db,
        clock: deps.clock,
        log: deps.log,
        days: deps.config.MEND_RETENTION_DAYS,
      }).prune(RETENTION_BATCHES_PER_PASS);
      while (pending.size > 0 && Date.now() - started < PASS_MAX_MS) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const left = new Promise((r) => (timer = setTimeout(r, Math.max(1, PASS_MAX_MS - (Date.now() - started)))));
        await Promise.race([Promise.allSettled([...pending]), left]);
        clearTimeout(timer);
      }
      // Runs that ended during the pass: report them to clicks that follow them.
      await deps.updates.tick();
    } catch (err) {
      consoleLog("error", "ticker pass failed", { error: String((err as Error)?.stack ?? err) });
    } finally {
      scheduler.stop();
      const next = await nextWake(deps, Date.now()).catch(() => Date.now() + 60_000);
      if (next !== null) await this.arm(next);
      deps.log("info", "ticker pass", {
        ms: Date.now() - started,
        next: next === null ? null : new Date(next).toISOString(),
      });
    }
  }
}
