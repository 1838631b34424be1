// Idempotency-Key claims of run actions (table `action_claims`): the first request with a key
// inserts the row and acts; every later one with the same scope and key reads its answer.
import { and, eq, isNull, lt, or } from "drizzle-orm";
import { actionClaims } from "../../db/schema";
import type { Database } from "./database";

export type Claim = { claimed: true } | { claimed: false; answer: unknown | null };

export class ActionClaimRepo {
  constructor(private readonly d: Database) {}

  /**
   * Claims (scope, key) unless a live claim holds it; one transaction, so of concurrent callers
   * exactly one gets `claimed: true`. Dropped on the way: claims older than `expiredBefore`, and
   * unanswered ones older than `abandonedBefore` (their process died while acting).
   */
  async claim(scope: string, key: string, now: number, expiredBefore: number, abandonedBefore: number): Promise<Claim> {
    const { db } = this.d;
    const c = actionClaims;
    const [, inserted, current] = await this.d.batch([
      {
        query: db
          .delete(c)
          .where(or(lt(c.createdAt, expiredBefore), and(isNull(c.answer), lt(c.createdAt, abandonedBefore)))),
      },
      {
        query: db
          .insert(actionClaims)
          .values({ scope, key, answer: null, createdAt: now })
          .onConflictDoNothing()
          .returning({ key: actionClaims.key }),
        returning: true,
      },
      {
        query: db
          .select({ answer: actionClaims.answer })
          .from(actionClaims)
          .where(and(eq(actionClaims.scope, scope), eq(actionClaims.key, key))),
        returning: true,
      },
    ]);
    if ((inserted?.length ?? 0) > 0) return { claimed: true };
    return { claimed: false, answer: (current?.[0] as { answer: unknown } | undefined)?.answer ?? null };
  }

  async answer(scope: string, key: string, answer: unknown): Promise<void> {
    await this.d.db
      .update(actionClaims)
      .set({ answer })
      .where(and(eq(actionClaims.scope, scope), eq(actionClaims.key, key)))
      .run();
  }

  /** Gives the key back (the action threw before it could answer), so a repeat may act. */
  async release(scope: string, key: string): Promise<void> {
    await this.d.db
      .delete(actionClaims)
      .where(and(eq(actionClaims.scope, scope), eq(actionClaims.key, key)))
      .run();
  }
}
