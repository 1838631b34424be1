// Runs and their step attempts: the engine's RunStore over drizzle.
import { and, eq, inArray, isNull, lt, lte, or, sql, min, ne } from "drizzle-orm";
import { runs, stepAttempts } from "../../db/schema";
import type { ErrorContext } from "../engine/errors";
import { ACTIVE, type AttemptRecord, type RunRecord, type RunSet, type RunStatus, type Write } from "../engine/ports";
import type { BatchItem, Database, Read } from "./database";
import { GroupCommitter } from "./group-commit";
import { RunList, type RunListQuery } from "./run-list";
import { toRun } from "./run-row";
import {
  builtStatements,
  preparedStatements,
  type FullRunUpdate,
  type RunRow,
  type AttemptRow,
  type RunStatements,
} from "./run-statements";

const FULL_UPDATE_KEYS = [
  "status",
  "output",
  "error",
  "cursor",
  "dueAt",
  "finishedAt",
  "updatedAt",
  "leaseUntil",
] as const;

/** Who acknowledged and who resolved a run (run actions); null until someone did. */
export interface RunMarks {
  ackedBy: string | null;
  ackedAt: number | null;
  resolvedBy: string | null;
  resolvedAt: number | null;
  resolutionNote: string | null;
}

/** A run as stored: the engine's record plus the marks the run actions keep on it. */
export interface StoredRun extends RunRecord {
  marks: RunMarks;
}

/** What a bulk action selects by: flow, status, and a window on the start time (epoch ms). */
export interface RunFilter {
  flow?: string;
  status?: string;
  since?: number;
  until?: number;
}

function toAttempt(a: AttemptRow): AttemptRecord {
  return {
    ...a,
    phase: a.phase as AttemptRecord["phase"],
    status: a.status as AttemptRecord["status"],
    error: (a.error as ErrorContext | null) ?? null,
    output: a.output ?? null,
  };
}

function runValues(set: RunSet): Partial<typeof runs.$inferInsert> {
  const v: Partial<typeof runs.$inferInsert> = {};
  if (set.status !== undefined) v.status = set.status;
  if (set.flowVersion !== undefined) v.flowVersion = set.flowVersion;
  if (set.output !== undefined) v.output = set.output;
  if (set.error !== undefined) v.error = set.error;
  if (set.cursor !== undefined) v.cursor = JSON.stringify(set.cursor);
  if (set.dueAt !== undefined) v.dueAt = set.dueAt;
  if (set.finishedAt !== undefined) v.finishedAt = set.finishedAt;
  if (set.updatedAt !== undefined) v.updatedAt = set.updatedAt;
  if (set.leaseUntil !== undefined) v.leaseUntil = set.leaseUntil;
  return v;
}

export class RunRepo {
  private readonly committer: GroupCommitter;

  private readonly statements: RunStatements;

  private readonly list: RunList;

  constructor(private readonly d: Database) {
    this.committer = new GroupCommitter(d);
    this.list = new RunList(d);
    this.statements = d.client ? preparedStatements(d.client) : builtStatements(d.db);
  }

  private get db() {
    return this.d.db;
  }

  async getRun(id: string): Promise<StoredRun | undefined> {
    const row = await this.statements.getRun(id);
    return row ? toRun(row) : undefined;
  }

  /** getRun as a read that can share a batch with others (one D1 round trip). */
  getRunRead(id: string): Read<StoredRun | undefined> {
    return {
      item: { query: this.db.select().from(runs).where(eq(runs.id, id)), returning: true },
      parse: (rows) => (rows[0] ? toRun(rows[0] as RunRow) : undefined),
    };
  }

  async getAttempts(runId: string): Promise<AttemptRecord[]> {
    return (await this.statements.getAttempts(runId)).map(toAttempt);
  }

  writeItems(writes: Write[]): BatchItem[] {
    const st = this.statements;
    const items: BatchItem[] = [];
    for (const w of writes) {
      if (w.op === "insertRun") {
        const r = w.run;
        items.push({
          query: st.insertRun({
            id: r.id,
            flow: r.flow,
            flowVersion: r.flowVersion,
            status: r.status,
            input: r.input,
            output: r.output,
            error: r.error,
            cursor: JSON.stringify(r.cursor),
            dueAt: r.dueAt,
            leaseUntil: w.leaseUntil,
            replayOf: r.replayOf,
            parentRun: r.parentRun ?? null,
            external: r.external,
            createdAt: r.createdAt,
            updatedAt: r.updatedAt,
            finishedAt: r.finishedAt,
          }),
        });
      } else if (w.op === "updateRun") {
        const v = runValues(w.set);
        const full = FULL_UPDATE_KEYS.every((k) => k in v);
        items.push({
          query: full
            ? st.updateRun({ id: w.id, ...(v as Omit<FullRunUpdate, "id">) })
            : this.db
                .update(runs)
                .set(v)
                .where(and(eq(runs.id, w.id), ne(runs.status, "cancelled"))),
        });
      } else if (w.op === "putAttempt") {
        items.push({ query: st.putAttempt({ ...w.attempt }) });
      } else {
        // One statement per row: D1 binds at most 100 parameters per statement (12 per row here).
        for (const o of w.rows)
          items.push({
            query: st.insertOutbox({ ...o, payload: JSON.stringify(o.payload), response: o.response ?? null }),
          });
      }
    }
    return items;
  }

  /** Commits the writes in one transaction, shared with other commits of the same tick. */
  async commit(writes: Write[]): Promise<void> {
    await this.committer.commit(this.writeItems(writes));
  }

  async transition(id: string, from: RunStatus, set: RunSet): Promise<boolean> {
    const [rows] = await this.d.batch([
      {
        query: this.db
          .update(runs)
          .set(runValues(set))
          .where(and(eq(runs.id, id), eq(runs.status, from)))
          .returning({ id: runs.id }),
        returning: true,
      },
    ]);
    return (rows?.length ?? 0) > 0;
  }

  async claimDue(now: number, leaseMs: number, limit: number): Promise<RunRecord[]> {
    const due = this.db
      .select({ id: runs.id })
      .from(runs)
      .where(
        and(
          inArray(runs.status, [...ACTIVE]),
          lte(runs.dueAt, now),
          or(isNull(runs.leaseUntil), lt(runs.leaseUntil, now)),
        ),
      )
      .orderBy(runs.dueAt)
      .limit(limit);
    const [rows] = await this.d.batch([
      {
        query: this.db
          .update(runs)
          .set({ leaseUntil: now + leaseMs })
          .where(inArray(runs.id, due))
          .returning(),
        returning: true,
      },
    ]);
    return (rows as RunRow[]).map(toRun);
  }

  async nextDueAt(): Promise<number | null> {
    const row = await this.db
      .select({ at: min(runs.dueAt) })
      .from(runs)
      .where(and(inArray(runs.status, [...ACTIVE]), isNull(runs.leaseUntil)))
      .get();
    return row?.at ?? null;
  }

  async cancelRun(id: string, now: number): Promise<boolean> {
    const error: ErrorContext = { message: "the run was cancelled", type: "cancelled" };
    const [changed] = await this.d.batch([
      {
        query: this.db
          .update(runs)
          .set({
            status: "cancelled",
            error: { ...error },
            finishedAt: now,
            updatedAt: now,
            dueAt: null,
            leaseUntil: null,
          })
          .where(and(eq(runs.id, id), inArray(runs.status, [...ACTIVE])))
          .returning({ id: runs.id }),
        returning: true,
      },
      {
        query: this.db
          .update(stepAttempts)
          .set({ status: "failed", finishedAt: now, error: { ...error } })
          .where(
            and(
              eq(stepAttempts.runId, id),
              eq(stepAttempts.status, "running"),
              sql`exists (select 1 from runs where id = ${id} and status = 'cancelled' and finished_at = ${now})`,
            ),
          ),
      },
    ]);
    return (changed?.length ?? 0) > 0;
  }

  /** A single process owns a SQLite file: leases left by a killed process are void at start. */
  async releaseLeases(): Promise<void> {
    await this.db
      .update(runs)
      .set({ leaseUntil: null })
      .where(inArray(runs.status, [...ACTIVE]))
      .run();
  }

  /** Newest first, by flow and status: the API's list (the pages' RunList without its search and window). */
  async listRuns(
    q: Pick<RunListQuery, "flow" | "status" | "limit" | "cursor">,
  ): Promise<{ runs: StoredRun[]; next: string | null }> {
    return this.list.list(q);
  }

  /** Marks the run acknowledged unless it was already; answers the marks as they stand after. */
  async ack(id: string, by: string, now: number): Promise<RunMarks | undefined> {
    await this.db
      .update(runs)
      .set({ ackedBy: by, ackedAt: now })
      .where(and(eq(runs.id, id), isNull(runs.ackedAt)))
      .run();
    return (await this.getRun(id))?.marks;
  }

  /** Marks the run resolved (its status stays) unless it was already; answers the marks after. */
  async resolve(id: string, by: string, note: string | null, now: number): Promise<RunMarks | undefined> {
    await this.db
      .update(runs)
      .set({ resolvedBy: by, resolvedAt: now, resolutionNote: note })
      .where(and(eq(runs.id, id), isNull(runs.resolvedAt)))
      .run();
    return (await this.getRun(id))?.marks;
  }

  /** Ids of runs matching the filter, newest first, at most `limit`. */
  async selectIds(f: RunFilter, limit: number): Promise<string[]> {
    return this.list.ids({ ...f, limit });
  }

  /**
   * Opens a callback ledger row (step `step`, status running) with the next attempt number, in one
   * statement: concurrent callers get distinct numbers, and none while another call of the same
   * step started after `busySince` is still running. Answers the attempt number, or undefined.
   */
  async beginCallback(
    runId: string,
    step: string,
    now: number,
    busySince: number,
    output: unknown,
  ): Promise<number | undefined> {
    const a = stepAttempts;
    const rows = await this.db.all<{ attempt: number }>(sql`
      insert into ${a} (run_id, step, attempt, phase, status, started_at, output)
      select ${runId}, ${step}, (select coalesce(max(${a.attempt}), 0) + 1 from ${a} where ${a.runId} = ${runId} and ${a.step} = ${step}),
        'main', 'running', ${now}, ${JSON.stringify(output)}
      where not exists (
        select 1 from ${a} where ${a.runId} = ${runId} and ${a.step} = ${step} and ${a.status} = 'running' and ${a.startedAt} > ${busySince}
      )
      returning attempt`);
    return rows[0]?.attempt;
  }
}
