// MEND_RETENTION_DAYS on both SQLite backends: ended runs past the cutoff go with every row that
// belongs to them, in batches; active and recent runs stay.
import { afterAll, describe, expect, it } from "vitest";
import { count, eq } from "drizzle-orm";
import {
  actions as actionsTable,
  alerts as alertsTable,
  outbox as outboxTable,
  runs as runsTable,
  stepAttempts,
} from "../../db/schema";
import type { OutboxRecord, RunRecord, Write } from "../../src/engine/ports";
import { DAY_MS, Retention } from "../../src/retention";
import { ActionRepo, AlertRepo } from "../../src/store/alerts";
import type { Database } from "../../src/store/database";
import { RunRepo } from "../../src/store/runs";
import { FakeClock } from "../fakes/fake-clock";
import { d1Backend, sqliteBackend, type Backend } from "./backends";

const T0 = 1_800_000_000_000;

function run(id: string, over: Partial<RunRecord>): RunRecord {
  return {
    id,
    flow: "f",
    flowVersion: 1,
    status: "succeeded",
    input: null,
    output: null,
    error: null,
    cursor: { phase: "main", index: 0, attempt: 0 },
    dueAt: null,
    replayOf: null,
    external: null,
    createdAt: T0,
    updatedAt: T0,
    finishedAt: T0,
    ...over,
  };
}

function outboxRow(id: string, runId: string): OutboxRecord {
  return {
    id,
    runId,
    handlerId: null,
    kind: "log",
    payload: { run: { id: runId, flow: "f", flow_version: 1, status: "failed" } } as OutboxRecord["payload"],
    status: "delivered",
    attempts: 1,
    nextAttemptAt: null,
    lastError: null,
    response: null,
    createdAt: T0,
    deliveredAt: T0,
  };
}

function withRows(id: string, over: Partial<RunRecord>): Write[] {
  return [
    { op: "insertRun", run: run(id, over), leaseUntil: null },
    {
      op: "putAttempt",
      attempt: {
        runId: id,
        step: "a",
        attempt: 1,
        phase: "main",
        status: "succeeded",
        startedAt: T0,
        finishedAt: T0,
        durationMs: 1,
        output: null,
        error: null,
      },
    },
    { op: "insertOutbox", rows: [outboxRow(`O-${id}`, id)] },
  ];
}

async function rows(d: Database, runId: string): Promise<number[]> {
  const n = async (q: unknown) => ((await q) as { n: number } | undefined)?.n ?? 0;
  return [
    await n(d.db.select({ n: count() }).from(runsTable).where(eq(runsTable.id, runId)).get()),
    await n(d.db.select({ n: count() }).from(stepAttempts).where(eq(stepAttempts.runId, runId)).get()),
    await n(d.db.select({ n: count() }).from(outboxTable).where(eq(outboxTable.runId, runId)).get()),
    await n(d.db.select({ n: count() }).from(alertsTable).where(eq(alertsTable.runId, runId)).get()),
    await n(d.db.select({ n: count() }).from(actionsTable).where(eq(actionsTable.runId, runId)).get()),
  ];
}

const backends: Backend[] = [sqliteBackend(), d1Backend()];
afterAll(async () => {
  for (const b of backends) await b.dispose();
});

describe.each(backends.map((b) => [b.name, b] as const))("retention on %s", (_name, backend) => {
  it("deletes ended runs older than MEND_RETENTION_DAYS with their attempts, outbox, alerts and actions; keeps the rest", async () => {
    const d = await backend.open();
    const runs = new RunRepo(d);
    await runs.commit([
      ...withRows("old-ended", { status: "failed" }),
      ...withRows("old-active", { status: "retrying", finishedAt: null, dueAt: T0 }),
      ...withRows("recent-ended", { createdAt: T0 + 20 * DAY_MS, finishedAt: T0 + 20 * DAY_MS }),
    ]);
    await new AlertRepo(d).create({
      id: "A1",
      target: "slack:C1",
      kind: "slack",
      runId: "old-ended",
      groupKey: "g",
      count: 1,
      ref: null,
      state: null as never,
      createdAt: T0,
    });
    await new ActionRepo(d).claim("retry:old-ended", "old-ended", T0);
    const clock = new FakeClock(T0 + 31 * DAY_MS);
    const pruned = await new Retention({ db: d, clock, log: () => undefined, days: 30 }).prune();
    expect(pruned).toBe(1);
    expect(await rows(d, "old-ended")).toEqual([0, 0, 0, 0, 0]);
    expect(await rows(d, "old-active")).toEqual([1, 1, 1, 0, 0]);
    expect(await rows(d, "recent-ended")).toEqual([1, 1, 1, 0, 0]);
  });

  it("works in batches until nothing is left; 0 days keeps everything; fractions of a day count", async () => {
    const d = await backend.open();
    const runs = new RunRepo(d);
    await runs.commit(Array.from({ length: 23 }, (_, i) => withRows(`r${i}`, {})).flat());
    const clock = new FakeClock(T0 + DAY_MS);
    expect(await new Retention({ db: d, clock, log: () => undefined, days: 0 }).prune()).toBe(0);
    expect(await new Retention({ db: d, clock, log: () => undefined, days: 1.5 }).prune()).toBe(0);
    const batched = new Retention({ db: d, clock, log: () => undefined, days: 0.5 }, 5);
    expect(await batched.prune(2)).toBe(10);
    expect(await batched.prune()).toBe(13);
    expect((await d.db.select({ n: count() }).from(runsTable).get())?.n).toBe(0);
  });
});
