// Prunes ended runs older than MEND_RETENTION_DAYS in batches, yielding between them so requests and
// runs keep flowing. Node runs it on a timer (src/entry/server.ts); Workers in each Ticker pass.
import type { Clock } from "./engine/ports";
import type { Log } from "./deps";
import type { Database } from "./store/database";
import { PRUNE_BATCH, pruneBatch } from "./store/retention";

export const DAY_MS = 86_400_000;
export const PRUNE_EVERY_MS = 10 * 60_000;

export interface RetentionDeps {
  db: Database;
  clock: Clock;
  log: Log;
  /** MEND_RETENTION_DAYS; 0 keeps everything. */
  days: number;
}

/** Between batches the pruner waits at least as long as the batch took: it never holds the database
 * (and the event loop on Node) more than half the time, so requests keep their latency while it runs. */
const breathe = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(5, ms)));

export class Retention {
  private running: Promise<number> | undefined;
  private stopped = false;

  constructor(
    private readonly deps: RetentionDeps,
    private readonly batch = PRUNE_BATCH,
  ) {}

  /** Deletes up to `maxBatches` batches (all that are due by default); one pass at a time. */
  prune(maxBatches = Infinity): Promise<number> {
    if (this.deps.days <= 0) return Promise.resolve(0);
    this.running ??= this.pass(maxBatches).finally(() => (this.running = undefined));
    return this.running;
  }

  /** Stops after the batch in progress (the database is about to close). */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running?.catch(() => undefined);
  }

  private async pass(maxBatches: number): Promise<number> {
    const cutoff = this.deps.clock.now() - this.deps.days * DAY_MS;
    let total = 0;
    for (let i = 0; i < maxBatches; i++) {
      const started = performance.now();
      const n = await pruneBatch(this.deps.db, cutoff, this.batch);
      total += n;
      if (n < this.batch || this.stopped) break;
      await breathe(performance.now() - started);
    }
    if (total > 0)
      this.deps.log("info", "retention: deleted ended runs", { runs: total, older_than_days: this.deps.days });
    return total;
  }
}
