// Silences: matchers (flow glob, step, error type) that keep alerts from being sent until ends_at.
import { and, asc, eq, gt, inArray } from "drizzle-orm";
import { silences } from "../../db/schema";
import { compileGlob } from "../alerts/glob";
import type { ErrorContext } from "../engine/errors";
import type { Database, Read } from "./database";

export interface SilenceRecord {
  id: string;
  flow: string | null;
  step: string | null;
  error_type: string | null;
  ends_at: string;
  created_by: string | null;
  comment: string | null;
  created_at: string;
  /** Mute until resolved: the run whose resolve ends this silence. */
  until_resolved?: string;
  /** The run it was muted from (a run's Mute), absent for flow-wide and API silences. */
  run_id?: string;
}

/** ends_at of a silence that lasts until its run is resolved (9999-12-31T23:59:59Z). */
export const UNTIL_RESOLVED_ENDS_AT = 253_402_300_799_000;

type Row = typeof silences.$inferSelect;

const toSilence = (r: Row): SilenceRecord => ({
  id: r.id,
  flow: r.flow,
  step: r.step,
  error_type: r.errorType,
  ends_at: new Date(r.endsAt).toISOString(),
  created_by: r.createdBy,
  comment: r.comment,
  created_at: new Date(r.createdAt).toISOString(),
  ...(r.untilResolved ? { until_resolved: r.untilResolved } : {}),
  ...(r.runId ? { run_id: r.runId } : {}),
});

export function silenceMatches(s: SilenceRecord, flow: string, error: ErrorContext): boolean {
  if (s.flow && !compileGlob(s.flow).test(flow)) return false;
  if (s.step && s.step !== error.step) return false;
  if (s.error_type && s.error_type !== error.type) return false;
  return true;
}

export class SilenceRepo {
  /** Silences active when last read: every failure asks, so they are read once; every change here drops them. */
  private cache: { at: number; rows: SilenceRecord[] } | undefined;

  constructor(private readonly d: Database) {}

  async create(
    s: {
      id: string;
      flow?: string | null;
      step?: string | null;
      errorType?: string | null;
      endsAt: number;
      createdBy?: string | null;
      comment?: string | null;
      untilResolved?: string | null;
      runId?: string | null;
    },
    now: number,
  ): Promise<SilenceRecord> {
    const row = {
      id: s.id,
      flow: s.flow ?? null,
      step: s.step ?? null,
      errorType: s.errorType ?? null,
      endsAt: s.endsAt,
      createdBy: s.createdBy ?? null,
      comment: s.comment ?? null,
      createdAt: now,
      untilResolved: s.untilResolved ?? null,
      runId: s.runId ?? null,
    };
    await this.d.db.insert(silences).values(row).run();
    this.cache = undefined;
    return toSilence(row);
  }

  /** Silences that have not ended at `now`. */
  async active(now: number): Promise<SilenceRecord[]> {
    if (!this.cache || now < this.cache.at) this.keep(now, (await this.query(now).all()) as Row[]);
    return this.cache!.rows.filter((s) => Date.parse(s.ends_at) > now);
  }

  /** The read of active() while it is not cached, to ride along in another batch. */
  rider(now: number): Read<void> | undefined {
    if (this.cache && now >= this.cache.at) return undefined;
    return { item: { query: this.query(now), returning: true }, parse: (rows) => this.keep(now, rows as Row[]) };
  }

  private query(now: number) {
    return this.d.db.select().from(silences).where(gt(silences.endsAt, now)).orderBy(asc(silences.createdAt));
  }

  private keep(now: number, rows: Row[]): void {
    this.cache = { at: now, rows: rows.map(toSilence) };
  }

  async remove(id: string): Promise<boolean> {
    const rows = await this.d.db.delete(silences).where(eq(silences.id, id)).returning({ id: silences.id }).all();
    this.cache = undefined;
    return rows.length > 0;
  }

  /** Ends the given silences now (they stay in the table, no longer active). */
  async end(ids: string[], now: number): Promise<void> {
    if (ids.length === 0) return;
    await this.d.db
      .update(silences)
      .set({ endsAt: now })
      .where(and(inArray(silences.id, ids), gt(silences.endsAt, now)))
      .run();
    this.cache = undefined;
  }

  /** Ends the "until resolved" silences of a run; answers their ids. */
  async endUntilResolved(runId: string, now: number): Promise<string[]> {
    const rows = await this.d.db
      .update(silences)
      .set({ endsAt: now })
      .where(and(eq(silences.untilResolved, runId), gt(silences.endsAt, now)))
      .returning({ id: silences.id })
      .all();
    this.cache = undefined;
    return rows.map((r) => r.id);
  }

  async matching(now: number, flow: string, error: ErrorContext): Promise<SilenceRecord | undefined> {
    return (await this.active(now)).find((s) => silenceMatches(s, flow, error));
  }
}
