// An in-memory RunStore (unit tests, flow tests with mocks). It mirrors the drizzle store's rules
// (src/store/runs.ts): values are copied in and out as if serialized, a
// cancelled run's row is never changed by updateRun, attempts are upserted by
// (run, step, attempt), claimDue leases due active runs.
import type { Defaults, Flow } from "./flow";
import {
  ACTIVE,
  type AttemptRecord,
  type OutboxRecord,
  type RunRecord,
  type RunSet,
  type RunStatus,
  type RunStore,
  type Write,
} from "./ports";

/** A JSON round trip, as a database column would do (undefined fields vanish). */
function copy<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}

interface RunRow {
  run: RunRecord;
  leaseUntil: number | null;
}

export class MemoryStore implements RunStore {
  private readonly flows = new Map<string, Flow[]>();
  private defaults: Defaults = {};
  private readonly runs = new Map<string, RunRow>();
  private readonly attemptRows = new Map<string, AttemptRecord>();
  readonly outbox: OutboxRecord[] = [];
  /** Every commit, in order, as the engine handed it over (copied). */
  readonly commits: Write[][] = [];

  /** Stores a new immutable version of a flow; returns its version number (from 1). */
  putFlow(flow: Flow): number {
    const versions = this.flows.get(flow.name) ?? [];
    versions.push(copy(flow));
    this.flows.set(flow.name, versions);
    return versions.length;
  }

  setDefaults(defaults: Defaults): void {
    this.defaults = copy(defaults);
  }

  async getFlow(name: string, version?: number): Promise<{ version: number; flow: Flow } | undefined> {
    const versions = this.flows.get(name);
    if (!versions?.length) return undefined;
    const v = version ?? versions.length;
    const flow = versions[v - 1];
    return flow ? { version: v, flow: copy(flow) } : undefined;
  }

  async getDefaults(): Promise<Defaults> {
    return copy(this.defaults);
  }

  /**
   * Rounds of setImmediate a read waits before answering, like a database on another
   * thread: the row is read when asked, the answer arrives later. 0 answers at once.
   */
  readLatency = 0;

  async getRun(id: string): Promise<RunRecord | undefined> {
    const row = this.runs.get(id);
    const snapshot = row ? copy(row.run) : undefined;
    for (let i = 0; i < this.readLatency; i++) await new Promise<void>((r) => setImmediate(r));
    return snapshot;
  }

  /** The lease a run row holds (for tests of the scheduler contract). */
  leaseOf(id: string): number | null | undefined {
    return this.runs.get(id)?.leaseUntil;
  }

  listRuns(): RunRecord[] {
    return [...this.runs.values()].map((r) => copy(r.run));
  }

  async getAttempts(runId: string): Promise<AttemptRecord[]> {
    return [...this.attemptRows.values()]
      .filter((a) => a.runId === runId)
      .map((a, i) => ({ a, i }))
      .sort((x, y) => x.a.startedAt - y.a.startedAt || x.a.attempt - y.a.attempt || x.i - y.i)
      .map(({ a }) => copy(a));
  }

  async commit(writes: Write[]): Promise<void> {
    if (!writes.length) return;
    this.commits.push(copy(writes));
    for (const w of writes) {
      if (w.op === "insertRun") {
        if (this.runs.has(w.run.id)) throw new Error(`duplicate run id ${w.run.id}`);
        this.runs.set(w.run.id, { run: copy(w.run), leaseUntil: w.leaseUntil });
      } else if (w.op === "updateRun") {
        const row = this.runs.get(w.id);
        if (!row || row.run.status === "cancelled") continue;
        this.apply(row, w.set);
      } else if (w.op === "putAttempt") {
        const a = w.attempt;
        const key = `${a.runId}\u0000${a.step}\u0000${a.attempt}`;
        const prev = this.attemptRows.get(key);
        this.attemptRows.set(
          key,
          prev
            ? {
                ...prev,
                status: a.status,
                finishedAt: a.finishedAt,
                durationMs: a.durationMs,
                output: copy(a.output),
                error: copy(a.error),
              }
            : copy(a),
        );
      } else {
        this.outbox.push(...copy(w.rows));
      }
    }
  }

  private apply(row: RunRow, set: RunSet): void {
    const { leaseUntil, ...rest } = set;
    for (const [k, v] of Object.entries(rest))
      if (v !== undefined) (row.run as unknown as Record<string, unknown>)[k] = copy(v);
    if (leaseUntil !== undefined) row.leaseUntil = leaseUntil;
  }

  async transition(id: string, from: RunStatus, set: RunSet): Promise<boolean> {
    const row = this.runs.get(id);
    if (!row || row.run.status !== from) return false;
    this.apply(row, set);
    return true;
  }

  async claimDue(now: number, leaseMs: number, limit: number): Promise<RunRecord[]> {
    const due = [...this.runs.values()]
      .filter(
        (r) =>
          ACTIVE.includes(r.run.status) &&
          r.run.dueAt !== null &&
          r.run.dueAt <= now &&
          (r.leaseUntil === null || r.leaseUntil < now),
      )
      .sort((a, b) => a.run.dueAt! - b.run.dueAt!)
      .slice(0, limit);
    for (const r of due) r.leaseUntil = now + leaseMs;
    return due.map((r) => copy(r.run));
  }

  async nextDueAt(): Promise<number | null> {
    let best: number | null = null;
    for (const r of this.runs.values()) {
      if (!ACTIVE.includes(r.run.status) || r.leaseUntil !== null || r.run.dueAt === null) continue;
      if (best === null || r.run.dueAt < best) best = r.run.dueAt;
    }
    return best;
  }

  async cancelRun(id: string, now: number): Promise<boolean> {
    const row = this.runs.get(id);
    if (!row || !ACTIVE.includes(row.run.status)) return false;
    Object.assign(row.run, { status: "cancelled", finishedAt: now, updatedAt: now, dueAt: null });
    row.leaseUntil = null;
    for (const a of this.attemptRows.values()) {
      if (a.runId === id && a.status === "running") {
        Object.assign(a, {
          status: "failed",
          finishedAt: now,
          error: { message: "the run was cancelled", type: "cancelled" },
        });
      }
    }
    return true;
  }
}
