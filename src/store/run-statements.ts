// The run ledger's hot statements. On a synchronous driver (better-sqlite3) they
// are prepared once with placeholders: drizzle then skips rebuilding the SQL
// and SQLite skips recompiling it on every call. D1 batches need freshly built
// queries, so there the same shapes are built per call.
import { and, eq, ne, sql } from "drizzle-orm";
import { outbox, runs, stepAttempts } from "../../db/schema";
import type { AnyDb, BatchItem } from "./database";

type RunInsert = typeof runs.$inferInsert;
type AttemptInsert = typeof stepAttempts.$inferInsert;
type OutboxInsert = typeof outbox.$inferInsert;
export type RunRow = typeof runs.$inferSelect;
export type AttemptRow = typeof stepAttempts.$inferSelect;

/** Every field the engine's flush writes; an update with all of them takes the prepared path. */
export interface FullRunUpdate {
  id: string;
  status: string;
  output: unknown;
  error: unknown;
  cursor: string;
  dueAt: number | null;
  finishedAt: number | null;
  updatedAt: number;
  leaseUntil: number | null;
}

const p = <K extends string>(name: K) => sql.placeholder(name);

function placeholders<T extends object>(keys: (keyof T & string)[]): Record<string, ReturnType<typeof p>> {
  return Object.fromEntries(keys.map((k) => [k, p(k)]));
}

const RUN_KEYS: (keyof RunInsert & string)[] = ["id", "flow", "flowVersion", "status", "input", "output", "error", "cursor", "dueAt", "leaseUntil", "replayOf", "parentRun", "external", "createdAt", "updatedAt", "finishedAt"];
const ATTEMPT_KEYS: (keyof AttemptInsert & string)[] = ["runId", "step", "attempt", "phase", "status", "startedAt", "finishedAt", "durationMs", "output", "error"];
const OUTBOX_KEYS: (keyof OutboxInsert & string)[] = ["id", "runId", "handlerId", "kind", "payload", "status", "attempts", "nextAttemptAt", "lastError", "response", "createdAt", "deliveredAt"];

// A retried attempt row keeps its start and takes the finish of the new write.
const attemptUpsert = {
  target: [stepAttempts.runId, stepAttempts.step, stepAttempts.attempt],
  set: {
    status: sql`excluded.status`,
    finishedAt: sql`excluded.finished_at`,
    durationMs: sql`excluded.duration_ms`,
    output: sql`excluded.output`,
    error: sql`excluded.error`,
  },
};

function fullUpdate(db: AnyDb, v: FullRunUpdate | Record<string, unknown>) {
  const { id, ...set } = v as FullRunUpdate;
  return db.update(runs).set(set as never).where(and(eq(runs.id, id as never), ne(runs.status, "cancelled")));
}

interface Runnable {
  run(values?: Record<string, unknown>): unknown;
  all(values?: Record<string, unknown>): unknown;
  get(values?: Record<string, unknown>): unknown;
}

const bind = (stmt: Runnable, values: Record<string, unknown>): BatchItem["query"] => ({
  run: () => stmt.run(values),
  all: () => stmt.all(values),
});

export interface RunStatements {
  insertRun(v: RunInsert): BatchItem["query"];
  updateRun(v: FullRunUpdate): BatchItem["query"];
  putAttempt(v: AttemptInsert): BatchItem["query"];
  insertOutbox(v: OutboxInsert): BatchItem["query"];
  getRun(id: string): Promise<RunRow | undefined>;
  getAttempts(runId: string): Promise<AttemptRow[]>;
}

export function builtStatements(db: AnyDb): RunStatements {
  return {
    insertRun: (v) => db.insert(runs).values(v),
    updateRun: (v) => fullUpdate(db, v),
    putAttempt: (v) => db.insert(stepAttempts).values(v).onConflictDoUpdate(attemptUpsert),
    insertOutbox: (v) => db.insert(outbox).values(v),
    getRun: async (id) => db.select().from(runs).where(eq(runs.id, id)).get(),
    getAttempts: async (runId) => db.select().from(stepAttempts).where(eq(stepAttempts.runId, runId)).orderBy(sql`rowid`).all(),
  };
}

export function preparedStatements(db: AnyDb): RunStatements {
  const prep = <T>(q: { prepare(): T }) => q.prepare() as unknown as Runnable;
  const insertRun = prep(db.insert(runs).values(placeholders<RunInsert>(RUN_KEYS) as never));
  const updateRun = prep(fullUpdate(db, { ...placeholders<FullRunUpdate>(["status", "output", "error", "cursor", "dueAt", "finishedAt", "updatedAt", "leaseUntil"]), id: p("id") }));
  const putAttempt = prep(db.insert(stepAttempts).values(placeholders<AttemptInsert>(ATTEMPT_KEYS) as never).onConflictDoUpdate(attemptUpsert));
  const insertOutbox = prep(db.insert(outbox).values(placeholders<OutboxInsert>(OUTBOX_KEYS) as never));
  const getRun = prep(db.select().from(runs).where(eq(runs.id, p("id") as never)));
  const getAttempts = prep(db.select().from(stepAttempts).where(eq(stepAttempts.runId, p("runId") as never)).orderBy(sql`rowid`));
  const withAll = <T extends object>(keys: string[], v: T) => Object.fromEntries(keys.map((k) => [k, (v as Record<string, unknown>)[k] ?? null]));
  return {
    insertRun: (v) => bind(insertRun, withAll(RUN_KEYS, v)),
    updateRun: (v) => bind(updateRun, { ...v }),
    putAttempt: (v) => bind(putAttempt, withAll(ATTEMPT_KEYS, v)),
    insertOutbox: (v) => bind(insertOutbox, withAll(OUTBOX_KEYS, v)),
    getRun: async (id) => getRun.get({ id }) as RunRow | undefined,
    getAttempts: async (runId) => getAttempts.all({ runId }) as AttemptRow[],
  };
}
