// Idempotency-Key: the same key in the same scope within 24 h acts once and answers the first
// answer again. Claimed durably (table action_claims) before acting, so concurrent requests in
// any process act once; requests racing in this process also wait for the first one's answer.
import type { ActionClaimRepo } from "../store/action-claims";

export const KEY_TTL_MS = 24 * 3_600_000;
/** An unanswered claim this old was left by a process that died while acting: it no longer holds. */
export const ABANDONED_MS = 2 * 60_000;

/** What is kept under a key: enough to answer again. */
export interface StoredAnswer {
  ok: boolean;
  httpStatus: number;
  body: Record<string, unknown>;
  summary: string;
}

export type Keyed<T> = { first: true; answer: T } | { first: false; answer: StoredAnswer };

export class IdempotentActions {
  private readonly inflight = new Map<string, Promise<StoredAnswer>>();

  constructor(
    private readonly claims: ActionClaimRepo,
    private readonly now: () => number,
  ) {}

  /** Runs `act` once per (scope, key); repeats get what `keep` stored of its answer (`first: false`). */
  async once<T>(
    scope: string,
    key: string,
    act: () => Promise<T>,
    keep: (answer: T) => StoredAnswer,
  ): Promise<Keyed<T>> {
    const id = `${scope}\u0000${key}`;
    const running = this.inflight.get(id);
    if (running) return { first: false, answer: await running };
    let settle!: (a: StoredAnswer | PromiseLike<StoredAnswer>) => void;
    const shared = new Promise<StoredAnswer>((resolve) => (settle = resolve));
    shared.catch(() => undefined);
    // Registered before the first await: a request racing in this process joins this one.
    this.inflight.set(id, shared);
    try {
      const now = this.now();
      const claim = await this.claims.claim(scope, key, now, now - KEY_TTL_MS, now - ABANDONED_MS);
      if (!claim.claimed) {
        const answer = (claim.answer as StoredAnswer | null) ?? inProgress();
        settle(answer);
        return { first: false, answer };
      }
      let answer: T;
      try {
        answer = await act();
      } catch (err) {
        await this.claims.release(scope, key);
        throw err;
      }
      const stored = keep(answer);
      await this.claims.answer(scope, key, stored);
      settle(stored);
      return { first: true, answer };
    } catch (err) {
      settle(Promise.reject(err));
      throw err;
    } finally {
      this.inflight.delete(id);
    }
  }
}

function inProgress(): StoredAnswer {
  const error = "a request with this Idempotency-Key is still being processed; send it again in a moment";
  return { ok: false, httpStatus: 409, body: { error }, summary: error };
}
