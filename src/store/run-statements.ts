// The run ledger's hot statements. On better-sqlite3 they are plain SQL prepared
// once from the schema's column names (SQLite compiles them once, and no query
// builder or parameter mapping runs per call). D1 batches need drizzle's built
// queries, so there the same shapes are built per call.
import { and, eq, getTableColumns, getTableName, ne, sql } from "drizzle-orm";
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

const RUN_KEYS: (keyof RunInsert & string)[] = [
  "id",
  "flow",
  "flowVersion",
  "status",
  "input",
  "output",
  "error",
  "cursor",
  "dueAt",
  "leaseUntil",
  "replayOf",
  "parentRun",
  "external",
  "createdAt",
  "updatedAt",
  "finishedAt",
];
const ATTEMPT_KEYS: (keyof AttemptInsert & string)[] = [
  "runId",
  "step",
  "attempt",
  "phase",
  "status",
  "startedAt",
  "finishedAt",
  "durationMs",
  "output",
  "error",
];
const OUTBOX_KEYS: (keyof OutboxInsert & string)[] = [
  "id",
  "runId",
  "handlerId",
  "kind",
  "payload",
  "status",
  "attempts",
  "nextAttemptAt",
  "lastError",
  "response",
  "createdAt",
  "deliveredAt",
];

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
  return db
    .update(runs)
    .set(set as never)
    .where(and(eq(runs.id, id as never), ne(runs.status, "cancelled")));
}

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
    getAttempts: async (runId) =>
      db.select().from(stepAttempts).where(eq(stepAttempts.runId, runId)).orderBy(sql`rowid`).all(),
  };
}

/** better-sqlite3's statements, as far as the hot path uses them. */
export interface SqliteClient {
  prepare(sql: string): Statement;
}
type Statement = {
  run(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  get(...params: unknown[]): unknown;
};
type Table = typeof runs | typeof stepAttempts | typeof outbox;

/** Column name and JSON mode of each drizzle key of a table (db/schema.ts). */
function columnsOf(table: Table): Map<string, { name: string; json: boolean }> {
  return new Map(
    Object.entries(getTableColumns(table)).map(([key, col]) => [
      key,
      { name: col.name, json: col.columnType === "SQLiteTextJson" },
    ]),
  );
}

/** A statement and how to turn a drizzle-keyed record into its positional parameters (JSON columns as text). */
function statement(client: SqliteClient, table: Table, keys: string[], sqlOf: (columns: string[]) => string) {
  const cols = columnsOf(table);
  const json = keys.map((k) => cols.get(k)!.json);
  const stmt = client.prepare(sqlOf(keys.map((k) => `"${cols.get(k)!.name}"`)));
  return (v: Record<string, unknown>): BatchItem["query"] => {
    const params = keys.map((k, i) => {
      const x = v[k];
      return x === undefined || x === null ? null : json[i] ? JSON.stringify(x) : x;
    });
    return { run: () => stmt.run(...params), all: () => stmt.all(...params) };
  };
}

/** A select of every column under its drizzle key, with JSON columns parsed. */
function selectAll(client: SqliteClient, table: Table, where: string) {
  const cols = [...columnsOf(table)];
  const stmt = client.prepare(
    `SELECT ${cols.map(([key, c]) => `"${c.name}" AS "${key}"`).join(", ")} FROM "${getTableName(table)}" ${where}`,
  );
  const json = cols.filter(([, c]) => c.json).map(([key]) => key);
  const parse = (row: Record<string, unknown>) => {
    for (const k of json) if (typeof row[k] === "string") row[k] = JSON.parse(row[k]);
    return row;
  };
  return {
    get: (...p: unknown[]) => {
      const row = stmt.get(...p) as Record<string, unknown> | undefined;
      return row && parse(row);
    },
    all: (...p: unknown[]) => (stmt.all(...p) as Record<string, unknown>[]).map(parse),
  };
}

const insertInto = (table: Table) => (cols: string[]) =>
  `INSERT INTO "${getTableName(table)}" (${cols.join(", ")}) VALUES (${cols.map(() => "?").join(", ")})`;
const UPDATE_KEYS = ["status", "output", "error", "cursor", "dueAt", "finishedAt", "updatedAt", "leaseUntil", "id"];

/**
 * better-sqlite3: the same statements in plain SQL, prepared once, with positional parameters:
 * drizzle's per-call parameter mapping was a tenth of a run's CPU in the bench profile.
 */
export function preparedStatements(client: SqliteClient): RunStatements {
  const insertRun = statement(client, runs, RUN_KEYS, insertInto(runs));
  const updateRun = statement(
    client,
    runs,
    UPDATE_KEYS,
    (c) =>
      `UPDATE "runs" SET ${c
        .slice(0, -1)
        .map((n) => `${n} = ?`)
        .join(", ")} WHERE ${c.at(-1)} = ? AND "status" <> 'cancelled'`,
  );
  const putAttempt = statement(
    client,
    stepAttempts,
    ATTEMPT_KEYS,
    (c) =>
      `${insertInto(stepAttempts)(c)} ON CONFLICT ("run_id", "step", "attempt") DO UPDATE SET "status" = excluded."status", ` +
      `"finished_at" = excluded."finished_at", "duration_ms" = excluded."duration_ms", "output" = excluded."output", "error" = excluded."error"`,
  );
  const insertOutbox = statement(client, outbox, OUTBOX_KEYS, insertInto(outbox));
  const getRun = selectAll(client, runs, `WHERE "id" = ?`);
  const getAttempts = selectAll(client, stepAttempts, `WHERE "run_id" = ? ORDER BY rowid`);
  return {
    insertRun: (v) => insertRun(v as Record<string, unknown>),
    updateRun: (v) => updateRun(v as unknown as Record<string, unknown>),
    putAttempt: (v) => putAttempt(v as Record<string, unknown>),
    insertOutbox: (v) => insertOutbox(v as Record<string, unknown>),
    getRun: async (id) => getRun.get(id) as RunRow | undefined,
    getAttempts: async (runId) => getAttempts.all(runId) as AttemptRow[],
  };
}
