// Read-only queries for the history pages: hourly failure rates per flow, and the runs replaying a run.
// Failure rates read the covering index runs_created (created_at, flow, status) one hour at a time,
// the hours one call needs in one batch (one round trip on D1); finished hours are cached briefly
// (30-60 s), so a page never scans the whole day on a busy hub.
import { and, desc, eq, gte, lt, sql } from "drizzle-orm";
import { runs } from "../../db/schema";
import type { Database } from "./database";

export const HOUR_MS = 3_600_000;
const RATE_HOURS = 24;
/** How long a finished hour's counts are reused (runs in it may still change: retries, late finishes). */
const HOUR_TTL_MS = 30_000;
/** Stale hours refreshed per call, so one request on a busy hub never pays for the whole day... */
const REFRESH_PER_CALL = 2;
/** ...unless they are this old (a quiet hub, where a request may pay for it): counts are never older. */
const HOUR_MAX_AGE_MS = 2 * HOUR_TTL_MS;

export interface HourCount {
  /** Start of the hour, epoch ms. */
  hour: number;
  runs: number;
  failed: number;
  recovered: number;
}

export interface FlowRate {
  flow: string;
  runs: number;
  failed: number;
  recovered: number;
  /** RATE_HOURS entries, oldest first; the last one is the current (partial) hour. */
  hours: HourCount[];
}

type Row = { flow: string; n: number; failed: number; recovered: number };

export class RunStats {
  private readonly cache = new Map<number, { at: number; rows: Row[] }>();

  constructor(private readonly d: Database) {}

  private hourQuery(hour: number) {
    return this.d.db
      .select({
        flow: runs.flow,
        n: sql<number>`count(*)`,
        failed: sql<number>`coalesce(sum(${runs.status} = 'failed'), 0)`,
        recovered: sql<number>`coalesce(sum(${runs.status} = 'recovered'), 0)`,
      })
      .from(runs)
      .where(and(gte(runs.createdAt, hour), lt(runs.createdAt, hour + HOUR_MS)))
      .groupBy(runs.flow);
  }

  /** Per-hour counts of these hours, read in one batch (one round trip on D1). */
  private async hourRows(hours: number[]): Promise<Row[][]> {
    return (await this.d.batch(hours.map((h) => ({ query: this.hourQuery(h), returning: true })))) as Row[][];
  }

  /** Per flow with runs in the last RATE_HOURS hours (current hour included): counts per hour. */
  async failureRates(now: number): Promise<FlowRate[]> {
    const current = Math.floor(now / HOUR_MS) * HOUR_MS;
    const first = current - (RATE_HOURS - 1) * HOUR_MS;
    for (const h of this.cache.keys()) if (h < first || h > current) this.cache.delete(h);
    const missing: number[] = [];
    const stale: number[] = [];
    const byHour = new Map<number, Row[]>();
    for (let h = first; h < current; h += HOUR_MS) {
      const hit = this.cache.get(h);
      if (!hit) missing.push(h);
      else {
        if (now - hit.at > HOUR_TTL_MS) stale.push(h);
        byHour.set(h, hit.rows);
      }
    }
    stale.sort((a, b) => this.cache.get(a)!.at - this.cache.get(b)!.at);
    const due = stale.filter((h, i) => i < REFRESH_PER_CALL || now - this.cache.get(h)!.at > HOUR_MAX_AGE_MS);
    const read = [...missing, ...due];
    const fresh = await this.hourRows([...read, current]);
    read.forEach((h, i) => {
      this.cache.set(h, { at: now, rows: fresh[i]! });
      byHour.set(h, fresh[i]!);
    });
    byHour.set(current, fresh[read.length]!);

    const flows = new Map<string, FlowRate>();
    for (let i = 0, h = first; i < RATE_HOURS; i++, h += HOUR_MS) {
      for (const r of byHour.get(h) ?? []) {
        let f = flows.get(r.flow);
        if (!f) {
          f = {
            flow: r.flow,
            runs: 0,
            failed: 0,
            recovered: 0,
            hours: Array.from({ length: RATE_HOURS }, (_, j) => ({
              hour: first + j * HOUR_MS,
              runs: 0,
              failed: 0,
              recovered: 0,
            })),
          };
          flows.set(r.flow, f);
        }
        const cell = f.hours[i]!;
        cell.runs += Number(r.n);
        cell.failed += Number(r.failed);
        cell.recovered += Number(r.recovered);
        f.runs += Number(r.n);
        f.failed += Number(r.failed);
        f.recovered += Number(r.recovered);
      }
    }
    return [...flows.values()].sort((a, b) => a.flow.localeCompare(b.flow));
  }

  /** Runs started as replays of this run, newest first (partial index runs_replay_of). */
  async replaysOf(id: string, limit = 20): Promise<{ id: string; status: string; createdAt: number }[]> {
    return this.d.db
      .select({ id: runs.id, status: runs.status, createdAt: runs.createdAt })
      .from(runs)
      .where(eq(runs.replayOf, id))
      .orderBy(desc(runs.id))
      .limit(limit)
      .all();
  }
}
