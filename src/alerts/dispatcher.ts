// Delivers outbox rows with retries and backoff; one slow target does not hold up the others.
// Rows for one handler (one channel) go one at a time, oldest first, so messages keep the order
// the failures happened. A rate limit (DeliveryError.rateLimited: HTTP 429, Slack `ratelimited`)
// is not a failed attempt: the row waits Retry-After plus up to 20% jitter (at most 60 s), the rows
// behind it for that handler wait with it, and the platform itself pauses (src/chat/deliver.ts).
import type { Clock, OutboxRecord } from "../engine/ports";
import type { HandlerRepo } from "../store/handlers";
import type { OutboxRepo } from "../store/outbox";
import { DeliveryError, type DeliveryContext, type Sender } from "../handlers/types";

// Svix's schedule: immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
export const DEFAULT_SCHEDULE_MS = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000];
const LEASE_MS = 60_000;
/** The longest a rate limit makes a row wait. */
export const MAX_RATE_LIMIT_WAIT_MS = 60_000;

export interface DispatcherDeps {
  clock: Clock;
  outbox: OutboxRepo;
  handlers: HandlerRepo;
  senders: Record<string, Sender>;
  fetch: typeof fetch;
  log: DeliveryContext["log"];
  schedule?: number[];
  waitUntil: (p: Promise<unknown>) => void;
  onDue?: (at: number) => void;
  random?: () => number;
  /** Told when a row failed for good (health, fallback notices). */
  onFailed?: (row: OutboxRecord, error: string) => Promise<void>;
}

export class Dispatcher {
  private readonly inFlight = new Set<string>();
  /** Per destination (handler): the delivery running now, so the next waits for it. */
  private readonly lanes = new Map<string, Promise<void>>();
  /** Per destination: rate limited until then. */
  private readonly blocked = new Map<string, number>();

  constructor(private readonly deps: DispatcherDeps) {}

  async tick(limit = 16): Promise<number> {
    const rows = await this.deps.outbox.claimDue(this.deps.clock.now(), LEASE_MS, limit);
    this.start(rows);
    return rows.length;
  }

  /**
   * Rows planned for a failure are leased to this process before they are committed, so that
   * deliverNow can send them the moment the run's end is committed: no scheduler tick, no claim
   * (a round trip on D1). If the process dies first, the lease lapses and a tick delivers them.
   */
  lease(rows: OutboxRecord[], now: number): OutboxRecord[] {
    for (const row of rows) if (row.status === "pending") row.nextAttemptAt = now + LEASE_MS;
    return rows;
  }

  /** Delivers committed rows leased by lease(); should this process stop first, the poll (Node) or the cron (Workers) finds them. */
  deliverNow(rows: OutboxRecord[]): void {
    this.start(rows.filter((row) => row.status === "pending"));
  }

  /** Starts rows, one lane per destination: each lane's rows go one after another, after what that lane is already sending. */
  private start(rows: OutboxRecord[]): void {
    const lanes = new Map<string, OutboxRecord[]>();
    for (const row of rows) {
      if (this.inFlight.has(row.id)) continue;
      this.inFlight.add(row.id);
      const lane = row.handlerId ?? row.kind;
      lanes.set(lane, [...(lanes.get(lane) ?? []), row]);
    }
    for (const [key, lane] of lanes) {
      const task = (this.lanes.get(key) ?? Promise.resolve())
        .then(() => this.deliverLane(key, lane))
        .catch((err: unknown) =>
          this.deps.log("error", "outbox delivery crashed", { outbox: lane[0]!.id, error: String(err) }),
        )
        .finally(() => {
          lane.forEach((r) => this.inFlight.delete(r.id));
          if (this.lanes.get(key) === task) this.lanes.delete(key);
        });
      this.lanes.set(key, task);
      this.deps.waitUntil(task);
    }
  }

  /** One destination's rows, in order; after a rate limit the rest wait with the limited row. */
  private async deliverLane(key: string, rows: OutboxRecord[]): Promise<void> {
    for (let i = 0; i < rows.length; i++) {
      const until = this.blocked.get(key) ?? 0;
      const waitUntil = until > this.deps.clock.now() ? until : await this.deliver(rows[i]!);
      if (waitUntil === undefined) continue;
      this.blocked.set(key, waitUntil);
      for (const later of rows.slice(waitUntil === until ? i : i + 1))
        await this.deps.outbox.deferred(
          later.id,
          waitUntil,
          "waiting behind a rate-limited alert to the same destination",
        );
      this.deps.onDue?.(waitUntil);
      return;
    }
  }

  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await new Promise((r) => setTimeout(r, 5));
  }

  /** Delivers one row; returns when the destination may be tried again if it was rate limited. */
  private async deliver(row: OutboxRecord): Promise<number | undefined> {
    const { clock, outbox } = this.deps;
    const attempts = row.attempts + 1;
    const handler = row.handlerId ? await this.deps.handlers.get(row.handlerId) : undefined;
    if (row.handlerId && !handler) {
      await outbox.failedAttempt(row.id, attempts, null, "handler was removed", null);
      return;
    }
    const kind = handler?.kind ?? row.kind;
    const send = this.deps.senders[kind];
    if (!send) {
      await outbox.failedAttempt(row.id, attempts, null, `no sender for handler kind '${kind}' is configured`, null);
      return;
    }
    try {
      let recorded = false;
      const response = await send(handler?.config ?? {}, row.payload, {
        fetch: this.deps.fetch,
        log: this.deps.log,
        deliveryId: row.id,
        delivered: (answer) => ((recorded = true), outbox.deliveredItem(row.id, attempts, clock.now(), answer ?? null)),
      });
      if (!recorded) await outbox.delivered(row.id, attempts, clock.now(), response ?? null);
    } catch (err) {
      const e = err instanceof DeliveryError ? err : new DeliveryError((err as Error)?.message ?? String(err));
      if (e.rateLimited) {
        const jitter = 1 + 0.2 * (this.deps.random ?? Math.random)();
        const at = clock.now() + Math.min(MAX_RATE_LIMIT_WAIT_MS, Math.round((e.retryAfterMs ?? 1000) * jitter));
        await outbox.deferred(row.id, at, e.message);
        this.deps.onDue?.(at);
        return at;
      }
      const schedule = this.deps.schedule ?? DEFAULT_SCHEDULE_MS;
      const wait = e.permanent ? undefined : schedule[attempts - 1];
      const next = wait === undefined ? null : clock.now() + Math.max(wait, e.retryAfterMs ?? 0);
      await outbox.failedAttempt(row.id, attempts, next, e.message, e.response ?? null);
      if (next !== null) this.deps.onDue?.(next);
      this.deps.log("warn", `alert delivery failed (attempt ${attempts})${next === null ? ", giving up" : ""}`, {
        outbox: row.id,
        kind,
        error: e.message,
      });
      if (next === null) await this.deps.onFailed?.(row, e.message);
    }
    return undefined;
  }
}
