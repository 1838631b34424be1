// Everything the app and the engine are given; built by an entry, never a module singleton.
import type { Dispatcher } from "./alerts/dispatcher";
import type { Engine } from "./engine/engine";
import type { Clock } from "./engine/ports";
import type { Config } from "./env";
import type { FlowRepo } from "./store/flows";
import type { HandlerRepo } from "./store/handlers";
import type { OutboxRepo } from "./store/outbox";
import type { RunRepo } from "./store/runs";
import type { SilenceRepo } from "./store/silences";
import type { Database } from "./store/database";
import type { AlertRepo } from "./store/alerts";
import type { ChatAlerts } from "./chat/deliver";
import type { ClickService } from "./chat/clicks";
import type { Escalator } from "./chat/escalation";
import type { MessageUpdates } from "./chat/updates";
import type { Sender } from "./handlers/types";
import type { RunActions } from "./runs/actions";
import type { Metrics } from "./metrics";

export type LogLevel = "debug" | "info" | "warn" | "error";
export type Log = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => void;

export interface Deps {
  config: Config;
  clock: Clock;
  random: () => number;
  newId: () => string;
  db: Database;
  runs: RunRepo;
  flows: FlowRepo;
  handlers: HandlerRepo;
  outbox: OutboxRepo;
  silences: SilenceRepo;
  engine: Engine;
  dispatcher: Dispatcher;
  fetch: typeof fetch;
  /** Handler senders by kind (`log`, `webhook`, …), as the outbox uses them. */
  senders: Record<string, Sender>;
  /** Outbound calls to handler and callback URLs: checked (after DNS) before each request and redirect. */
  outbound: { fetch: typeof fetch; check(url: string): Promise<string | undefined> };
  waitUntil: (p: Promise<unknown>) => void;
  log: Log;
  /** Chat alerts on every platform: editable messages and their grouping (src/chat/deliver.ts). */
  alerts: AlertRepo;
  chat: ChatAlerts;
  /** Clicks and /mend from any chat platform, over runActions (src/chat/clicks.ts). */
  clicks: ClickService;
  /** On-call escalation of chat alerts (src/chat/escalation.ts): a Scheduler part. */
  escalator: Escalator;
  /** Edits every message about a run when it changes, and tells its thread (src/chat/updates.ts). */
  updates: MessageUpdates;
  /** Every action on a run (retry, replay, cancel, ack, resolve, mute, unmute, bulk): src/runs/actions.ts. */
  runActions: RunActions;
  /** Counters and the request histogram behind GET /metrics. */
  metrics: Metrics;
}
