// Escalations of chat alerts (table `escalations`): one row per alert whose handler has `escalate`.
//
//   schedule(row)              insert once per alert (a redelivered first post changes nothing)
//   claimDue(now, lease, n)    due pending rows, leased by pushing due_at forward (a crash mid-post
//                              lets another tick take the row after the lease)
//   done(alertId, outcome, now) "escalated", or why nobody was paged (acked, resolved, fixed, …)
//   retryAt(alertId, at)       a failed post waits and goes again
//   nextDueAt()                the earliest pending due time (the scheduler's timer, the Ticker's alarm)
import { and, asc, eq, inArray, isNull, lte, min } from "drizzle-orm";
import { escalations } from "../../db/schema";
import type { Database } from "./database";

export interface EscalationRecord {
  alertId: string;
  kind: string;
  dueAt: number;
  mention: string[];
  attempts: number;
  outcome: string | null;
  doneAt: number | null;
  createdAt: number;
}

type Row = typeof escalations.$inferSelect;

const toRecord = (r: Row): EscalationRecord => ({ ...r, mention: (r.mention as string[] | null) ?? [] });

export class EscalationRepo {
  constructor(private readonly d: Database) {}

  async schedule(e: { alertId: string; kind: string; dueAt: number; mention: string[] }, now: number): Promise<void> {
    await this.d.db
      .insert(escalations)
      .values({ ...e, attempts: 0, createdAt: now })
      .onConflictDoNothing()
      .run();
  }

  async claimDue(now: number, leaseMs: number, limit: number): Promise<EscalationRecord[]> {
    const due = this.d.db
      .select({ id: escalations.alertId })
      .from(escalations)
      .where(and(isNull(escalations.doneAt), lte(escalations.dueAt, now)))
      .orderBy(asc(escalations.dueAt))
      .limit(limit);
    const [rows] = await this.d.batch([
      {
        query: this.d.db
          .update(escalations)
          .set({ dueAt: now + leaseMs })
          .where(and(inArray(escalations.alertId, due), isNull(escalations.doneAt), lte(escalations.dueAt, now)))
          .returning(),
        returning: true,
      },
    ]);
    return (rows as Row[]).map(toRecord);
  }

  async done(alertId: string, outcome: string, now: number): Promise<void> {
    await this.d.db.update(escalations).set({ outcome, doneAt: now }).where(eq(escalations.alertId, alertId)).run();
  }

  async retryAt(alertId: string, at: number, attempts: number, error: string): Promise<void> {
    await this.d.db
      .update(escalations)
      .set({ dueAt: at, attempts, outcome: `failed: ${error}`.slice(0, 500) })
      .where(eq(escalations.alertId, alertId))
      .run();
  }

  async get(alertId: string): Promise<EscalationRecord | undefined> {
    const row = await this.d.db.select().from(escalations).where(eq(escalations.alertId, alertId)).get();
    return row ? toRecord(row) : undefined;
  }

  async nextDueAt(): Promise<number | null> {
    const row = await this.d.db
      .select({ at: min(escalations.dueAt) })
      .from(escalations)
      .where(isNull(escalations.doneAt))
      .get();
    return row?.at ?? null;
  }
}
