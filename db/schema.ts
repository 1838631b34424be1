// One schema for every SQLite driver (better-sqlite3 on Node, D1 on Workers).
// Times are epoch milliseconds; JSON columns hold already-redacted values.
import { sql } from "drizzle-orm";
import { sqliteTable, text, integer, primaryKey, index } from "drizzle-orm/sqlite-core";

const json = (name: string) => text(name, { mode: "json" }).$type<unknown>();

export const flows = sqliteTable("flows", {
  name: text("name").primaryKey(),
  latestVersion: integer("latest_version").notNull(),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

export const flowVersions = sqliteTable(
  "flow_versions",
  {
    name: text("name").notNull(),
    version: integer("version").notNull(),
    definition: text("definition").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.name, t.version] })],
);

export const settings = sqliteTable("settings", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
});

export const runs = sqliteTable(
  "runs",
  {
    id: text("id").primaryKey(),
    flow: text("flow").notNull(),
    flowVersion: integer("flow_version").notNull(),
    status: text("status").notNull(),
    input: json("input"),
    output: json("output"),
    error: json("error"),
    // Where the engine resumes: phase, step index, attempts used, results so far.
    cursor: text("cursor").notNull(),
    dueAt: integer("due_at"),
    leaseUntil: integer("lease_until"),
    replayOf: text("replay_of"),
    // The run whose `flow:` step started this one (SPEC section 12).
    parentRun: text("parent_run"),
    external: json("external"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    finishedAt: integer("finished_at"),
    // Who acknowledged / resolved the run (src/runs/actions.ts); resolving leaves `status` alone.
    ackedBy: text("acked_by"),
    ackedAt: integer("acked_at"),
    resolvedBy: text("resolved_by"),
    resolvedAt: integer("resolved_at"),
    resolutionNote: text("resolution_note"),
  },
  (t) => [
    index("runs_due").on(t.status, t.dueAt),
    index("runs_flow").on(t.flow, t.id),
    index("runs_status").on(t.status, t.id),
    // Pages: a flow and a status together, newest first (a rare pair would read one index far otherwise).
    index("runs_flow_status").on(t.flow, t.status, t.id),
    // Pages: the per-flow failure rate of the last 24 hours (covering), and "replayed by" links.
    index("runs_created").on(t.createdAt, t.flow, t.status),
    index("runs_replay_of").on(t.replayOf).where(sql`replay_of is not null`),
    // resolve_on_success (src/chat/fixed.ts): a flow's latest success without scanning its failures.
    index("runs_succeeded").on(t.flow, t.finishedAt).where(sql`status = 'succeeded'`),
  ],
);

export const stepAttempts = sqliteTable(
  "step_attempts",
  {
    runId: text("run_id").notNull(),
    step: text("step").notNull(),
    attempt: integer("attempt").notNull(),
    phase: text("phase").notNull(),
    status: text("status").notNull(),
    startedAt: integer("started_at").notNull(),
    finishedAt: integer("finished_at"),
    durationMs: integer("duration_ms"),
    output: json("output"),
    error: json("error"),
  },
  (t) => [primaryKey({ columns: [t.runId, t.step, t.attempt] })],
);

export const handlers = sqliteTable("handlers", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  kind: text("kind").notNull(),
  config: text("config").notNull(),
  match: json("match"),
  enabled: integer("enabled", { mode: "boolean" }).notNull(),
  /** Told when another handler's alerts cannot be delivered (src/alerts/health.ts). */
  fallback: integer("fallback", { mode: "boolean" }).notNull().default(false),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

export const outbox = sqliteTable(
  "outbox",
  {
    id: text("id").primaryKey(),
    runId: text("run_id").notNull(),
    handlerId: text("handler_id"),
    kind: text("kind").notNull(),
    payload: text("payload").notNull(),
    status: text("status").notNull(),
    attempts: integer("attempts").notNull(),
    nextAttemptAt: integer("next_attempt_at"),
    lastError: text("last_error"),
    response: json("response"),
    createdAt: integer("created_at").notNull(),
    deliveredAt: integer("delivered_at"),
  },
  (t) => [
    index("outbox_due").on(t.status, t.nextAttemptAt),
    index("outbox_run").on(t.runId),
    index("outbox_handler").on(t.handlerId, t.createdAt),
  ],
);

// A chat message that can be edited later (grouping, click outcomes).
export const alerts = sqliteTable(
  "alerts",
  {
    id: text("id").primaryKey(),
    handlerId: text("handler_id"),
    kind: text("kind").notNull(),
    runId: text("run_id").notNull(),
    groupKey: text("group_key").notNull(),
    count: integer("count").notNull(),
    ref: json("ref"),
    state: json("state"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    index("alerts_group").on(t.handlerId, t.groupKey, t.createdAt),
    index("alerts_run").on(t.runId),
    index("alerts_kind_time").on(t.kind, t.createdAt),
    // The scheduler's polls read only the few alerts these hold, never every alert's state JSON: messages
    // following a retry/replay (AlertRepo.following, every second) and open posted alerts (laterSuccesses).
    // A query uses them when its WHERE repeats the index's WHERE term for term.
    index("alerts_following").on(t.updatedAt).where(sql`json_extract(${t.state}, '$.activity.phase') = 'running'`),
    index("alerts_open")
      .on(t.createdAt)
      .where(
        sql`${t.ref} is not null and coalesce(json_extract(${t.state}, '$.closed'), 0) = 0 and coalesce(json_extract(${t.state}, '$.keep_open'), 0) = 0`,
      ),
    // The few messages that say "Muted … until <time>" (AlertRepo.mutesEnded, nextMuteEnd): redrawn when it passes.
    index("alerts_muted").on(t.updatedAt).where(sql`json_extract(${t.state}, '$.facts.muted.until') is not null`),
  ],
);

export const silences = sqliteTable("silences", {
  id: text("id").primaryKey(),
  flow: text("flow"),
  step: text("step"),
  errorType: text("error_type"),
  endsAt: integer("ends_at").notNull(),
  createdBy: text("created_by"),
  comment: text("comment"),
  createdAt: integer("created_at").notNull(),
  // Set for "mute until resolved": resolving this run ends the silence.
  untilResolved: text("until_resolved"),
  // The run it was muted from (a chat Mute…, the run page's Mute); null for flow-wide and API silences.
  runId: text("run_id"),
});

// Idempotency of chat clicks and API actions: one row per (action key).
export const actions = sqliteTable(
  "actions",
  {
    key: text("key").primaryKey(),
    runId: text("run_id").notNull(),
    result: json("result"),
    createdAt: integer("created_at").notNull(),
  },
  // Retention deletes a run's rows by run_id.
  (t) => [index("actions_run").on(t.runId)],
);

// Idempotency-Key claims of run actions (src/runs/claims.ts): one row per (scope, key) for 24 h.
// `answer` is null while the first request is acting, then the answer every repeat gets.
export const actionClaims = sqliteTable(
  "action_claims",
  {
    scope: text("scope").notNull(),
    key: text("key").notNull(),
    answer: json("answer"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.scope, t.key] }), index("action_claims_created").on(t.createdAt)],
);

// On-call escalation of a chat alert (src/chat/escalation.ts): due at failure + escalate.after_minutes,
// leased by pushing due_at forward (like the outbox), done once posted or once nobody needs paging.
export const escalations = sqliteTable(
  "escalations",
  {
    alertId: text("alert_id").primaryKey(),
    kind: text("kind").notNull(),
    dueAt: integer("due_at").notNull(),
    mention: json("mention").notNull(),
    attempts: integer("attempts").notNull().default(0),
    // null while pending; then "escalated" or why not ("acked", "resolved", "fixed", "gone", "failed: …").
    outcome: text("outcome"),
    doneAt: integer("done_at"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("escalations_due").on(t.doneAt, t.dueAt)],
);
