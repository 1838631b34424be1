// The outbox: one row per notification, delivered with retries by the dispatcher.
import { and, asc, desc, eq, gt, inArray, isNotNull, lte, max, min, or, sql } from "drizzle-orm";
import { outbox } from "../../db/schema";
import type { AlertPayload, OutboxRecord } from "../engine/ports";
import type { BatchItem, Database } from "./database";

type Row = typeof outbox.$inferSelect;

/** GET /api/handlers `health` (plus `failing`: how many alerts failed since the last delivery). */
export interface DeliveryHealth {
  pending: number;
  last_success_at: string | null;
  last_error: string | null;
  failing_since: string | null;
  failing: number;
}

function toRecord(r: Row): OutboxRecord {
  return {
    ...r,
    payload: JSON.parse(r.payload) as AlertPayload,
    status: r.status as OutboxRecord["status"],
    response: r.response ?? null,
  };
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
      {
        query: this.d.db
          .update(outbox)
          .set({ nextAttemptAt: now + leaseMs })
          .where(inArray(outbox.id, due))
          .returning(),
        returning: true,
      },
    ]);
    return (rows as Row[]).map(toRecord).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** Puts a row back to wait until `at` without counting an attempt (a rate limit). */
  async deferred(id: string, at: number, reason: string): Promise<void> {
    await this.d.db
      .update(outbox)
      .set({ nextAttemptAt: at, lastError: reason })
      .where(and(eq(outbox.id, id), eq(outbox.status, "pending")))
      .run();
  }

  async nextDueAt(): Promise<number | null> {
    const row = await this.d.db
      .select({ at: min(outbox.nextAttemptAt) })
      .from(outbox)
      .where(eq(outbox.status, "pending"))
      .get();
    return row?.at ?? null;
  }

  async delivered(id: string, attempts: number, now: number, response: unknown): Promise<void> {
    await this.deliveredItem(id, attempts, now, response).query.run();
  }

  /** delivered() as a write to commit with others (a chat alert's row and its delivery, one transaction). */
  deliveredItem(id: string, attempts: number, now: number, response: unknown): BatchItem {
    const set = { status: "delivered", attempts, deliveredAt: now, nextAttemptAt: null, lastError: null, response };
    return { query: this.d.db.update(outbox).set(set).where(eq(outbox.id, id)) };
  }

  async failedAttempt(
    id: string,
    attempts: number,
    nextAttemptAt: number | null,
    error: string,
    response: unknown,
  ): Promise<void> {
    await this.d.db
      .update(outbox)
      .set({
        status: nextAttemptAt === null ? "failed" : "pending",
        attempts,
        nextAttemptAt,
        lastError: error,
        response,
      })
      .where(eq(outbox.id, id))
      .run();
  }

  /**
   * Each handler's delivery health: rows waiting, the last delivery, the last error, and since when
   * its deliveries fail (the oldest failed attempt since the last delivery; null while they work).
   */
  async health(handlerIds: string[]): Promise<Map<string, DeliveryHealth>> {
    const out = new Map<string, DeliveryHealth>();
    for (const id of handlerIds) {
      const agg = await this.d.db
        .select({
          pending: sql<number>`coalesce(sum(${outbox.status} = 'pending'), 0)`,
          lastSuccess: max(outbox.deliveredAt),
        })
        .from(outbox)
        .where(eq(outbox.handlerId, id))
        .get();
      const since = agg?.lastSuccess ?? 0;
      const failing = await this.d.db
        .select({ createdAt: outbox.createdAt, lastError: outbox.lastError })
        .from(outbox)
        .where(
          and(
            eq(outbox.handlerId, id),
            gt(outbox.createdAt, since),
            or(eq(outbox.status, "failed"), and(eq(outbox.status, "pending"), gt(outbox.attempts, 0))),
          ),
        )
        .orderBy(asc(outbox.createdAt))
        .limit(1000)
        .all();
      const lastError = await this.d.db
        .select({ lastError: outbox.lastError })
        .from(outbox)
        .where(and(eq(outbox.handlerId, id), isNotNull(outbox.lastError)))
        .orderBy(desc(outbox.createdAt))
        .limit(1)
        .get();
      out.set(id, {
        pending: Number(agg?.pending ?? 0),
        last_success_at: agg?.lastSuccess ? new Date(agg.lastSuccess).toISOString() : null,
        last_error: lastError?.lastError ?? null,
        failing_since: failing.length ? new Date(failing[0]!.createdAt).toISOString() : null,
        failing: failing.length,
      });
    }
    return out;
  }

  async forRun(runId: string): Promise<OutboxRecord[]> {
    return (
      await this.d.db.select().from(outbox).where(eq(outbox.runId, runId)).orderBy(asc(outbox.createdAt)).all()
    ).map(toRecord);
  }
}
