// MEND_RETENTION_DAYS: ended runs older than the cutoff go, with their attempts, alerts, outbox and
// action rows, one batch per transaction. The victims are chosen by a subquery (no bound id lists:
// D1 allows 100 parameters), and the runs row is deleted last so every statement sees the same batch.
import { inArray, sql } from "drizzle-orm";
import { actions, alerts, outbox, runs, stepAttempts } from "../../db/schema";
import { TERMINAL } from "../engine/ports";
import type { Database } from "./database";

export const PRUNE_BATCH = 200;

/** Deletes one batch of ended runs created and finished before `cutoff`; resolves with how many runs went. */
export async function pruneBatch(d: Database, cutoff: number, limit = PRUNE_BATCH): Promise<number> {
  const ended = sql.join(
    TERMINAL.map((s) => sql`${s}`),
    sql`, `,
  );
  // created_at has an index (runs_created); finished_at <= cutoff follows for every ended run. The unary
  // + keeps SQLite off runs_due (status, …), which would read every ended run and sort them.
  const victims = sql`(select id from runs where created_at < ${cutoff} and finished_at is not null and finished_at < ${cutoff} and +status in (${ended}) order by created_at limit ${limit})`;
  const results = await d.batch([
    { query: d.db.delete(stepAttempts).where(inArray(stepAttempts.runId, victims)) },
    { query: d.db.delete(outbox).where(inArray(outbox.runId, victims)) },
    { query: d.db.delete(alerts).where(inArray(alerts.runId, victims)) },
    { query: d.db.delete(actions).where(inArray(actions.runId, victims)) },
    { query: d.db.delete(runs).where(inArray(runs.id, victims)).returning({ id: runs.id }), returning: true },
  ]);
  return results[4]?.length ?? 0;
}
