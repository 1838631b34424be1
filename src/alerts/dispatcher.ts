// Delivers outbox rows with retries and backoff; one slow target does not hold up the others.
import type { Clock, OutboxRecord } from "../engine/ports";
import type { HandlerRepo } from "../store/handlers";
import type { OutboxRepo } from "../store/outbox";
import { DeliveryError, type DeliveryContext, type Sender } from "../handlers/types";

// Svix's schedule: immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
export const DEFAULT_SCHEDULE_MS = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000];
const LEASE_MS = 60_000;

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
}

export class Dispatcher {
  private readonly inFlight = new Set<string>();

  constructor(private readonly deps: DispatcherDeps) {}

  async tick(limit = 16): Promise<number> {
    const rows = await this.deps.outbox.claimDue(this.deps.clock.now(), LEASE_MS, limit);
    for (const row of rows) this.start(row);
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
    for (const row of rows) if (row.status === "pending") this.start(row);
  }

  private start(row: OutboxRecord): void {
    if (this.inFlight.has(row.id)) return;
    this.inFlight.add(row.id);
    const task = this.deliver(row)
      .catch((err: unknown) => this.deps.log("error", "outbox delivery crashed", { outbox: row.id, error: String(err) }))
      .finally(() => this.inFlight.delete(row.id));
    this.deps.waitUntil(task);
  }

  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await new Promise((r) => setTimeout(r, 5));
  }

  private async deliver(row: OutboxRecord): Promise<void> {
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
      const response = await send(handler?.config ?? {}, row.payload, { fetch: this.deps.fetch, log: this.deps.log, deliveryId: row.id });
      await outbox.delivered(row.id, attempts, clock.now(), response ?? null);
    } catch (err) {
      const e = err instanceof DeliveryError ? err : new DeliveryError((err as Error)?.message ?? String(err));
      const schedule = this.deps.schedule ?? DEFAULT_SCHEDULE_MS;
      const wait = e.permanent ? undefined : schedule[attempts - 1];
      const next = wait === undefined ? null : clock.now() + Math.max(wait, e.retryAfterMs ?? 0);
      await outbox.failedAttempt(row.id, attempts, next, e.message, e.response ?? null);
      if (next !== null) this.deps.onDue?.(next);
      this.deps.log("warn", `alert delivery failed (attempt ${attempts})${next === null ? ", giving up" : ""}`, { outbox: row.id, kind, error: e.message });
    }
  }
}
