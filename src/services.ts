// Builds the deps from a database and a runtime's primitives; both entries call it.
import { monotonicFactory } from "ulid";
import { Dispatcher } from "./alerts/dispatcher";
import { deliveryNotice } from "./alerts/notice";
import { createPlanner } from "./alerts/plan";
import type { Deps, Log, LogLevel } from "./deps";
import { Engine } from "./engine/engine";
import type { Clock, HttpSend, RunRecord, ScriptFn } from "./engine/ports";
import type { Config } from "./env";
import { sendLog } from "./handlers/log";
import { sendWebhook } from "./handlers/webhook";
import { guardedFetch, registrationRefusal, type Lookup } from "./net/url-safety";
import type { Sender } from "./handlers/types";
import { Scheduler } from "./scheduler";
import { createRegistry, senderScript } from "./scripts";
import type { Database } from "./store/database";
import { FlowRepo } from "./store/flows";
import { HandlerRepo } from "./store/handlers";
import { OutboxRepo } from "./store/outbox";
import { RunRepo } from "./store/runs";
import { SilenceRepo } from "./store/silences";
import { AlertRepo } from "./store/alerts";
import { ChatAlerts } from "./chat/deliver";
import { ClickService } from "./chat/clicks";
import { Escalator } from "./chat/escalation";
import { FixedAlerts } from "./chat/fixed";
import { EscalationRepo } from "./store/escalations";
import { factsOfRun } from "./chat/facts";
import { MessageUpdates } from "./chat/updates";
import { PLATFORMS } from "./chat/platforms";
import type { AnyChatPlatform } from "./chat/platform";
import { RunActions } from "./runs/actions";
import { ActionClaimRepo } from "./store/action-claims";
import { RunCounter, TextMetrics, type Metrics } from "./metrics";
import { stepFetch } from "./net/step-fetch";

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer: (ms, fn) => {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  },
};

/** A uniform [0, 1) source for ulid: crypto.getRandomValues 4 KiB at a time, one byte per call. */
function pooledRandom(): () => number {
  const pool = new Uint8Array(4096);
  let next = pool.length;
  return () => {
    if (next === pool.length) {
      crypto.getRandomValues(pool);
      next = 0;
    }
    return pool[next++]! / 256;
  };
}

export interface ServiceOptions {
  config: Config;
  db: Database;
  fetch?: typeof fetch;
  /** The http steps' transport (Node: undici's request on a keep-alive pool); without it they use `fetch`. */
  http?: HttpSend;
  clock?: Clock;
  random?: () => number;
  log?: Log;
  waitUntil?: (p: Promise<unknown>) => void;
  senders?: Record<string, Sender>;
  userScripts?: Record<string, ScriptFn>;
  outboxSchedule?: number[];
  pollMs?: number;
  /** DNS for outbound URL checks (node:dns on Node); without it only literal addresses are checked. */
  lookup?: Lookup;
  /** The chat platforms (default: PLATFORMS, src/chat/platforms.ts). */
  platforms?: readonly AnyChatPlatform[];
  /** Each chat platform's Node-only module by kind (src/chat/<kind>/node.ts), loaded by the Node entry; without it platforms use fetch. */
  chatNode?: Record<string, unknown>;
  /** Told whenever work is due at `at`, besides the in-process scheduler (Workers arm a Durable Object alarm). */
  onDue?: (at: number) => void;
  /** prom-client on Node; TextMetrics (same names, per isolate) otherwise. */
  metrics?: Metrics;
}

/** Senders that count their deliveries in mend_alert_deliveries_total. */
function countedSenders(senders: Record<string, Sender>, metrics: Metrics): Record<string, Sender> {
  const out: Record<string, Sender> = {};
  for (const [kind, send] of Object.entries(senders)) {
    out[kind] = async (config, payload, ctx) => {
      try {
        const response = await send(config, payload, ctx);
        metrics.alertDelivery(kind, "delivered");
        return response;
      } catch (err) {
        metrics.alertDelivery(kind, "failed");
        throw err;
      }
    };
  }
  return out;
}

export function consoleLog(level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
  const line = JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields });
  if (level === "error") console.error(line);
  else console.log(line);
}

const LEVELS: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** consoleLog without the lines under `min` (MEND_LOG_LEVEL where pino is not used: Workers). */
export function consoleLogAt(min: LogLevel): Log {
  return (level, msg, fields) => {
    if (LEVELS[level] >= LEVELS[min]) consoleLog(level, msg, fields);
  };
}

export function createServices(o: ServiceOptions): { deps: Deps; scheduler: Scheduler } {
  const clock = o.clock ?? systemClock;
  const log = o.log ?? consoleLog;
  const fetchFn = o.fetch ?? ((...args: Parameters<typeof fetch>) => fetch(...args));
  const waitUntil = o.waitUntil ?? ((p: Promise<unknown>) => void p.catch(() => undefined));
  const random = o.random ?? Math.random;
  // Created once, with random bytes drawn in blocks: ulid's own source asks crypto once per character.
  const newId = monotonicFactory(pooledRandom());
  const runs = new RunRepo(o.db);
  const handlers = new HandlerRepo(o.db);
  const outbox = new OutboxRepo(o.db);
  const silences = new SilenceRepo(o.db);
  // A run's flow read also fetches what its failure would read to plan alerts, when not cached
  // (on Workers every request starts cold: one D1 round trip instead of three).
  const flows = new FlowRepo(o.db, () => [handlers.rider(), silences.rider(clock.now())]);
  const senders: Record<string, Sender> = { log: sendLog, webhook: sendWebhook, ...o.senders };
  // Handler senders and callbacks call out through this: URL checked after DNS, redirects re-checked.
  const urlPolicy = { blockPrivate: o.config.MEND_BLOCK_PRIVATE_URLS, lookup: o.lookup };
  const outbound = {
    fetch: guardedFetch(fetchFn, urlPolicy),
    check: (url: string) => registrationRefusal(url, urlPolicy),
  };
  // Chat alerts (Slack, Discord): editable messages, grouping inside MEND_GROUP_WINDOW_S, clicks.
  const alerts = new AlertRepo(o.db);
  const platforms = (o.platforms ?? PLATFORMS).map((platform: AnyChatPlatform) => ({
    platform,
    conn: platform.connect({ config: o.config, log, clock, apiFetch: fetchFn, node: o.chatNode?.[platform.kind] }),
  }));
  const facts = (run: RunRecord) => factsOfRun({ flows, silences, now: () => clock.now() }, run);
  const chat = new ChatAlerts({
    alerts,
    clock,
    newId,
    log,
    windowMs: o.config.MEND_GROUP_WINDOW_S * 1000,
    publicUrl: o.config.MEND_PUBLIC_URL,
    env: o.config.MEND_ENV,
    platforms,
    fetch: outbound.fetch,
    // Mute… until resolved also ends when the alert is fixed: no button is left to resolve it from.
    onClosed: async (a) => {
      for (const run of new Set([a.state.target_run, a.runId, ...(a.state.runs ?? [])]))
        await silences.endUntilResolved(run, clock.now());
    },
    runRead: (id) => runs.getRunRead(id),
    facts,
  });
  let scheduler: Scheduler | undefined;
  const onDue = (at: number) => {
    scheduler?.wake(at);
    o.onDue?.(at);
  };
  // On-call escalation of new alerts whose handler has `escalate` (due time in the database).
  const escalator = new Escalator({ repo: new EscalationRepo(o.db), chat, runs, clock, log, onDue });
  // Each platform is a handler kind and a `script:` (its webhook_url works alone; a channel needs the bot token).
  // resolve_on_success: a later success of the flow marks its open alerts fixed.
  const fixed = new FixedAlerts({ chat, clock, log });
  for (const { platform: p } of platforms)
    if (!Object.hasOwn(senders, p.kind)) senders[p.kind] = escalator.wrap(p.kind, fixed.wrap(chat.sender(p.kind)));
  const scripts: Record<string, ScriptFn> = {};
  for (const [kind, send] of Object.entries(senders))
    scripts[kind] = senderScript(send, { fetch: outbound.fetch, log }, o.config.MEND_PUBLIC_URL);

  let runActions: RunActions | undefined;
  let updates: MessageUpdates | undefined;
  const metrics = o.metrics ?? new TextMetrics();
  // Ended runs and finished attempts are counted from what the engine commits.
  const counter = new RunCounter(metrics);
  const planner = createPlanner({ flows, handlers, silences, newId });
  const engine = new Engine({
    clock,
    random,
    newId,
    store: {
      getFlow: (name, version) => flows.get(name, version),
      getDefaults: () => flows.getDefaults(),
      getRun: async (id) => {
        const run = await runs.getRun(id);
        if (run) counter.remember(run.id, run.flow);
        return run;
      },
      getAttempts: (id) => runs.getAttempts(id),
      commit: async (w) => {
        await runs.commit(w);
        counter.count(w);
      },
      transition: (id, from, set) => runs.transition(id, from, set),
      claimDue: async (now, lease, limit) => {
        const claimed = await runs.claimDue(now, lease, limit);
        for (const run of claimed) counter.remember(run.id, run.flow);
        return claimed;
      },
      nextDueAt: () => runs.nextDueAt(),
      cancelRun: async (id, now) => {
        const cancelled = await runs.cancelRun(id, now);
        if (cancelled) counter.ended(id, "cancelled");
        return cancelled;
      },
    },
    // http steps: metadata addresses always refused, private ranges under MEND_BLOCK_PRIVATE_URLS, MEND_MAX_RESPONSE.
    fetch: stepFetch(fetchFn, { blockPrivate: o.config.MEND_BLOCK_PRIVATE_URLS }, o.config.MEND_MAX_RESPONSE),
    // Node: the same policy and cap on undici's request() (src/net/node-http.ts), without fetch's objects.
    http: o.http,
    scripts: createRegistry(scripts, o.userScripts),
    planAlerts: async (payload, now) => dispatcher.lease(await planner(payload, now), now),
    secrets: o.config.secrets,
    waitUntil,
    log,
    onDue,
    onRunEnded: (run) => {
      updates?.ended(run);
      runActions?.runEnded(run);
    },
    onAlerts: (rows) => dispatcher.deliverNow(rows),
    publicUrl: o.config.MEND_PUBLIC_URL,
  });
  const dispatcher = new Dispatcher({
    clock,
    outbox,
    handlers,
    senders: countedSenders(senders, metrics),
    fetch: outbound.fetch,
    log,
    schedule: o.outboxSchedule,
    waitUntil,
    onDue,
    random,
    onFailed: (row, error) => deliveryNotice({ handlers, outbox, runs, clock, newId, log, onDue }, row, error),
  });
  runActions = new RunActions(
    { engine, runs, flows, silences, clock, newId, log, waitUntil, config: o.config, outbound },
    new ActionClaimRepo(o.db),
  );
  // Chat: clicks and /mend act through the service; every change it reports edits the messages about the run.
  const clicks = new ClickService({ engine, runs, runActions, chat, clock, log, waitUntil });
  updates = new MessageUpdates({ chat, runs, facts, clock, log });
  runActions.onChange((change) => updates!.onChange(change));
  scheduler = new Scheduler(
    clock,
    [
      { tick: () => engine.tick(), nextDueAt: () => runs.nextDueAt() },
      { tick: () => dispatcher.tick(), nextDueAt: () => outbox.nextDueAt() },
      { tick: () => updates!.tick(), nextDueAt: () => updates!.nextDueAt() },
      { tick: () => escalator.tick(), nextDueAt: () => escalator.nextDueAt() },
      { tick: () => fixed.tick(), nextDueAt: () => fixed.nextDueAt() },
    ],
    log,
    o.pollMs,
    waitUntil,
  );
  const deps: Deps = {
    config: o.config,
    clock,
    random,
    newId,
    db: o.db,
    runs,
    flows,
    handlers,
    outbox,
    silences,
    engine,
    dispatcher,
    fetch: fetchFn,
    senders,
    outbound,
    waitUntil,
    log,
    alerts,
    chat,
    clicks,
    updates: updates!,
    runActions,
    metrics,
    escalator,
  };
  return { deps, scheduler };
}
