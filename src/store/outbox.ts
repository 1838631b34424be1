// The outbox: one row per notification, delivered with retries by the dispatcher.
import { and, asc, eq, inArray, lte, min } from "drizzle-orm";
import { outbox } from "../../db/schema";
import type { AlertPayload, OutboxRecord } from "../engine/ports";
import type { Database } from "./database";

type Row = typeof outbox.$inferSelect;

function toRecord(r: Row): OutboxRecord {
  return { ...r, payload: JSON.parse(r.payload) as AlertPayload, status: r.status as OutboxRecord["status"], response: r.response ?? null };
}

export class OutboxRepo {
  constructor(private readonly d: Database) {}

  /**
   * Leases due pending rows by pushing their due time forward; returns them oldest first (ids are
   * ULIDs: the order the failures happened), so one channel gets its messages in that order.
   */
  async claimDue(now: number, leaseMs: number, limit: number): Promise<OutboxRecord[]> {
    const due = this.d.db
      .select({ id: outbox.id })
      .from(outbox)
      .where(and(eq(outbox.status, "pending"), lte(outbox.nextAttemptAt, now)))
      .orderBy(asc(outbox.id))
      .limit(limit);
    const [rows] = await this.d.batch([
      { query: this.d.db.update(outbox).set({ nextAttemptAt: now + leaseMs }).where(inArray(outbox.id, due)).returning(), returning: true },
    ]);
    return (rows as Row[]).map(toRecord).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** Puts a row back to wait until `at` without counting an attempt (a rate limit). */
  async deferred(id: string, at: number, reason: string): Promise<void> {
    await this.d.db.update(outbox).set({ nextAttemptAt: at, lastError: reason }).where(and(eq(outbox.id, id), eq(outbox.status, "pending"))).run();
  }

  async nextDueAt(): Promise<number | null> {
    const row = await this.d.db.select({ at: min(outbox.nextAttemptAt) }).from(outbox).where(eq(outbox.status, "pending")).get();
    return row?.at ?? null;
  }

  async delivered(id: string, attempts: number, now: number, response: unknown): Promise<void> {
    await this.d.db.update(outbox).set({ status: "delivered", attempts, deliveredAt: now, nextAttemptAt: null, lastError: null, response }).where(eq(outbox.id, id)).run();
  }

  async failedAttempt(id: string, attempts: number, nextAttemptAt: number | null, error: string, response: unknown): Promise<void> {
    await this.d.db
      .update(outbox)
      .set({ status: nextAttemptAt === null ? "failed" : "pending", attempts, nextAttemptAt, lastError: error, response })
      .where(eq(outbox.id, id))
      .run();
  }

  async forRun(runId: string): Promise<OutboxRecord[]> {
    return (await this.d.db.select().from(outbox).where(eq(outbox.runId, runId)).orderBy(asc(outbox.createdAt)).all()).map(toRecord);
  }
}
