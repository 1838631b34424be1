// The runs list of the pages: newest first, filtered by flow, status, start time, and `q` (a run id
// prefix, else words of the input through the FTS5 index runs_fts). Every shape reads an index:
// - by id (ULIDs sort by time): the primary key, or runs_flow / runs_status (x, id);
// - since/until: turned into an id range by one runs_created lookup each, so a window far in the
//   past seeks instead of scanning newer runs; the exact created_at test then runs on those rows only;
// - text: runs_fts streams its matches newest first (rowid order is insertion order), joined by rowid;
//   since/until also bound the rowid, so FTS5 seeks to the window instead of reading newer matches.
import { and, desc, eq, gte, inArray, lt, sql, type SQL } from "drizzle-orm";
import { runs } from "../../db/schema";
import type { Database } from "./database";
import { toRun } from "./run-row";
import type { StoredRun } from "./runs";

export interface RunListQuery {
  flow?: string;
  status?: string;
  /** A run id prefix, or words of the input. */
  q?: string;
  /** Start time bounds, epoch ms: since inclusive, until exclusive. */
  since?: number;
  until?: number;
  /** From the previous page: a run id, or `t.<rowid>` when the page was a text search. */
  cursor?: string;
  limit: number;
}

/** A run's id and its creation time may disagree by the clock's jitter; the id range allows this much. */
const ID_TIME_SLACK_MS = 60_000;
const ID_PREFIX = /^[0-9A-HJKMNP-TV-Z]{4,26}$/;
const TEXT_CURSOR = /^t\.(\d{1,15})$/;

/**
 * The words of `q` as an FTS5 query: every word must appear, whole. Not as prefixes: FTS5 merges a
 * prefix's matches in memory, a full doclist for a common word (150 ms at 1M runs), where a whole
 * word streams newest first and stops at the page's end.
 */
export function ftsQuery(q: string): string | undefined {
  const words = q.match(/[\p{L}\p{N}]+/gu)?.slice(0, 12);
  return words ? words.map((w) => `"${w}"`).join(" ") : undefined;
}

/**
 * A rowid bound for runs_fts. better-sqlite3 binds every JS number as a REAL, and FTS5 only seeks on an
 * INTEGER rowid bound: given a REAL it reads every match and leaves the test to SQLite (75 ms for a word
 * in every run at 1M runs, for an empty window or a deep page).
 */
function rowid(n: number): SQL {
  return sql`cast(${n} as integer)`;
}

export class RunList {
  constructor(private readonly d: Database) {}

  private get db() {
    return this.d.db;
  }

  /** Filters shared by both shapes; created_at is compared with a unary + so no index is picked for it. */
  private filters(q: RunListQuery): SQL[] {
    const c: SQL[] = [];
    if (q.flow) c.push(eq(runs.flow, q.flow));
    if (q.status) c.push(eq(runs.status, q.status));
    if (q.since !== undefined) {
      c.push(sql`+${runs.createdAt} >= ${q.since}`);
      c.push(
        sql`${runs.id} >= coalesce((select id from runs where created_at >= ${q.since - ID_TIME_SLACK_MS} order by created_at limit 1), '~')`,
      );
    }
    if (q.until !== undefined) {
      c.push(sql`+${runs.createdAt} < ${q.until}`);
      c.push(
        sql`${runs.id} <= coalesce((select id from runs where created_at < ${q.until + ID_TIME_SLACK_MS} order by created_at desc limit 1), '')`,
      );
    }
    return c;
  }

  /**
   * since/until as bounds on runs_fts's rowid, which FTS5 seeks to: without them a window far in the past
   * streams every newer match first (1 s for a word in every run at 1M runs). Rowids grow with insertion,
   * so with the same clock slack as the id bounds they never cut off a run inside the window.
   */
  private rowidBounds(q: RunListQuery): SQL[] {
    const c: SQL[] = [];
    if (q.since !== undefined)
      c.push(
        sql`runs_fts.rowid >= coalesce((select rowid from runs where created_at >= ${q.since - ID_TIME_SLACK_MS} order by created_at limit 1), ${rowid(Number.MAX_SAFE_INTEGER)})`,
      );
    if (q.until !== undefined)
      c.push(
        sql`runs_fts.rowid <= coalesce((select rowid from runs where created_at < ${q.until + ID_TIME_SLACK_MS} order by created_at desc limit 1), ${rowid(0)})`,
      );
    return c;
  }

  async list(q: RunListQuery): Promise<{ runs: StoredRun[]; next: string | null }> {
    const text = q.q?.trim();
    const textCursor = q.cursor ? TEXT_CURSOR.exec(q.cursor) : null;
    if (text && !textCursor) {
      const prefix = text.toUpperCase();
      if (ID_PREFIX.test(prefix)) {
        const found = await this.byId(q, [gte(runs.id, prefix), lt(runs.id, `${prefix}~`)]);
        if (found.runs.length > 0 || q.cursor) return found;
      }
    }
    if (text) return this.byText(q, text, textCursor ? Number(textCursor[1]) : undefined);
    return this.byId(q, []);
  }

  /** The ids of the newest `limit` runs that match flow/status/since/until (a bulk action's selection). */
  async ids(q: Omit<RunListQuery, "q" | "cursor">): Promise<string[]> {
    const conds = this.filters(q);
    const rows = await this.db
      .select({ id: runs.id })
      .from(runs)
      .where(conds.length ? and(...conds) : undefined)
      .orderBy(desc(runs.id))
      .limit(q.limit)
      .all();
    return rows.map((r) => r.id);
  }

  /** These runs (unknown ids left out), newest first; in chunks, as D1 binds at most 100 values. */
  async byIds(ids: string[]): Promise<StoredRun[]> {
    const out: StoredRun[] = [];
    for (let i = 0; i < ids.length; i += 90) {
      const rows = await this.db
        .select()
        .from(runs)
        .where(inArray(runs.id, ids.slice(i, i + 90)))
        .all();
      out.push(...rows.map(toRun));
    }
    return out.sort((a, b) => (a.id < b.id ? 1 : -1));
  }

  private async byId(q: RunListQuery, extra: SQL[]): Promise<{ runs: StoredRun[]; next: string | null }> {
    const conds = [...this.filters(q), ...extra];
    if (q.cursor) conds.push(lt(runs.id, q.cursor));
    const rows = await this.db
      .select()
      .from(runs)
      .where(conds.length ? and(...conds) : undefined)
      .orderBy(desc(runs.id))
      .limit(q.limit + 1)
      .all();
    const page = rows.slice(0, q.limit).map(toRun);
    return { runs: page, next: rows.length > q.limit ? page[page.length - 1]!.id : null };
  }

  private async byText(
    q: RunListQuery,
    text: string,
    before: number | undefined,
  ): Promise<{ runs: StoredRun[]; next: string | null }> {
    const match = ftsQuery(text);
    if (!match) return { runs: [], next: null };
    const conds = [sql`runs_fts match ${match}`, ...this.filters(q), ...this.rowidBounds(q)];
    if (before !== undefined) conds.push(sql`runs_fts.rowid < ${rowid(before)}`);
    const rows = await this.db
      .select({ run: runs, rid: sql<number>`runs_fts.rowid` })
      .from(runs)
      .innerJoin(sql`runs_fts`, sql`runs_fts.rowid = ${runs}.rowid`)
      .where(and(...conds))
      .orderBy(sql`runs_fts.rowid desc`)
      .limit(q.limit + 1)
      .all();
    const page = rows.slice(0, q.limit);
    return {
      runs: page.map((r) => toRun(r.run)),
      next: rows.length > q.limit ? `t.${page[page.length - 1]!.rid}` : null,
    };
  }
}
