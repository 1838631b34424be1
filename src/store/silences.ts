// Silences: matchers (flow glob, step, error type) that keep alerts from being sent until ends_at.
import { asc, eq, gt } from "drizzle-orm";
import { silences } from "../../db/schema";
import { globToRegExp } from "../alerts/match";
import type { ErrorContext } from "../engine/errors";
import type { Database } from "./database";

export interface SilenceRecord {
  id: string;
  flow: string | null;
  step: string | null;
  error_type: string | null;
  ends_at: string;
  created_by: string | null;
  comment: string | null;
  created_at: string;
}

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
});

export function silenceMatches(s: SilenceRecord, flow: string, error: ErrorContext): boolean {
  if (s.flow && !globToRegExp(s.flow).test(flow)) return false;
  if (s.step && s.step !== error.step) return false;
  if (s.error_type && s.error_type !== error.type) return false;
  return true;
}

export class SilenceRepo {
  constructor(private readonly d: Database) {}

  async create(s: { id: string; flow?: string | null; step?: string | null; errorType?: string | null; endsAt: number; createdBy?: string | null; comment?: string | null }, now: number): Promise<SilenceRecord> {
    const row = { id: s.id, flow: s.flow ?? null, step: s.step ?? null, errorType: s.errorType ?? null, endsAt: s.endsAt, createdBy: s.createdBy ?? null, comment: s.comment ?? null, createdAt: now };
    await this.d.db.insert(silences).values(row).run();
    return toSilence(row);
  }

  /** Silences that have not ended at `now`. */
  async active(now: number): Promise<SilenceRecord[]> {
    return (await this.d.db.select().from(silences).where(gt(silences.endsAt, now)).orderBy(asc(silences.createdAt)).all()).map(toSilence);
  }

  async remove(id: string): Promise<boolean> {
    const rows = await this.d.db.delete(silences).where(eq(silences.id, id)).returning({ id: silences.id }).all();
    return rows.length > 0;
  }

  async matching(now: number, flow: string, error: ErrorContext): Promise<SilenceRecord | undefined> {
    return (await this.active(now)).find((s) => silenceMatches(s, flow, error));
  }
}
