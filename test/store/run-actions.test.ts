// The run actions' store on both SQLite backends (better-sqlite3 and D1): Idempotency-Key claims,
// ack/resolve marks, bulk selection, callback ledger numbering, "until resolved" silences.
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import type { RunRecord } from "../../src/engine/ports";
import { ActionClaimRepo } from "../../src/store/action-claims";
import type { Database } from "../../src/store/database";
import { RunRepo } from "../../src/store/runs";
import { SilenceRepo, UNTIL_RESOLVED_ENDS_AT } from "../../src/store/silences";
import { d1Backend, sqliteBackend, type Backend } from "./backends";

const T0 = 1_800_000_000_000;
const DAY = 24 * 3_600_000;

function run(id: string, over: Partial<RunRecord> = {}): RunRecord {
  return {
    id,
    flow: "orders",
    flowVersion: 1,
    status: "failed",
    input: {},
    output: null,
    error: { message: "no", type: "runtime", step: "s" },
    cursor: { phase: "main", index: 0, attempt: 1 },
    dueAt: null,
    replayOf: null,
    external: null,
    createdAt: T0,
    updatedAt: T0,
    finishedAt: T0,
    ...over,
  };
}

const backends: Backend[] = [sqliteBackend(), d1Backend()];
afterAll(async () => {
  for (const b of backends) await b.dispose();
});

describe.each(backends.map((b) => [b.name, b] as const))("run actions store on %s", (_name, backend) => {
  let d: Database;
  let runs: RunRepo;
  beforeEach(async () => {
    d = await backend.open();
    runs = new RunRepo(d);
    await runs.commit([
      { op: "insertRun", run: run("A", { createdAt: T0 }), leaseUntil: null },
      { op: "insertRun", run: run("B", { createdAt: T0 + 1000, flow: "other" }), leaseUntil: null },
      { op: "insertRun", run: run("C", { createdAt: T0 + 2000, status: "succeeded" }), leaseUntil: null },
    ]);
  });

  it("claims a key once; repeats read its answer; it expires after a day; a release gives it back", async () => {
    const claims = new ActionClaimRepo(d);
    const both = await Promise.all([
      claims.claim("retry:A", "k", T0, T0 - DAY, T0 - 120_000),
      claims.claim("retry:A", "k", T0, T0 - DAY, T0 - 120_000),
    ]);
    expect(both.filter((c) => c.claimed)).toHaveLength(1);
    expect(await claims.claim("retry:B", "k", T0, T0 - DAY, T0 - 120_000)).toEqual({ claimed: true });
    await claims.answer("retry:A", "k", { ok: true, httpStatus: 202, body: { run_id: "A" } });
    expect(await claims.claim("retry:A", "k", T0 + 1, T0 + 1 - DAY, T0 - 120_000)).toEqual({
      claimed: false,
      answer: { ok: true, httpStatus: 202, body: { run_id: "A" } },
    });
    expect((await claims.claim("retry:A", "k", T0 + DAY + 1, T0 + 1, T0)).claimed).toBe(true);
    await claims.release("retry:A", "k");
    expect((await claims.claim("retry:A", "k", T0 + DAY + 2, T0 + 2, T0)).claimed).toBe(true);
    // An unanswered claim older than the abandon limit no longer holds.
    expect((await claims.claim("retry:A", "k", T0 + DAY + 3, T0 + 3, T0 + DAY + 3)).claimed).toBe(true);
  });

  it("keeps the first ack and the first resolution, and leaves the status alone", async () => {
    expect(await runs.ack("A", "alice", T0 + 5)).toMatchObject({ ackedBy: "alice", ackedAt: T0 + 5 });
    expect(await runs.ack("A", "bob", T0 + 9)).toMatchObject({ ackedBy: "alice", ackedAt: T0 + 5 });
    expect(await runs.resolve("A", "carol", "done", T0 + 7)).toMatchObject({
      resolvedBy: "carol",
      resolvedAt: T0 + 7,
      resolutionNote: "done",
    });
    expect(await runs.resolve("A", "dave", null, T0 + 8)).toMatchObject({
      resolvedBy: "carol",
      resolutionNote: "done",
    });
    expect((await runs.getRun("A"))!.status).toBe("failed");
    expect(await runs.ack("nope", "x", T0)).toBeUndefined();
  });

  it("selects run ids by flow, status and start time, newest first, up to a limit", async () => {
    expect(await runs.selectIds({}, 10)).toEqual(["C", "B", "A"]);
    expect(await runs.selectIds({ flow: "orders" }, 10)).toEqual(["C", "A"]);
    expect(await runs.selectIds({ status: "failed", since: T0 + 500 }, 10)).toEqual(["B"]);
    expect(await runs.selectIds({ until: T0 + 1000 }, 10)).toEqual(["A"]);
    expect(await runs.selectIds({}, 2)).toEqual(["C", "B"]);
  });

  it("numbers callback rows in one statement and opens none while one is in flight", async () => {
    const out = { url: "https://ci.example/r" };
    const first = await Promise.all([
      runs.beginCallback("A", "retry_callback", T0, T0 - 15_000, out),
      runs.beginCallback("A", "retry_callback", T0, T0 - 15_000, out),
    ]);
    expect(first.filter((n) => n !== undefined)).toEqual([1]);
    await runs.commit([
      {
        op: "putAttempt",
        attempt: {
          runId: "A",
          step: "retry_callback",
          attempt: 1,
          phase: "main",
          status: "succeeded",
          startedAt: T0,
          finishedAt: T0 + 5,
          durationMs: 5,
          output: out,
          error: null,
        },
      },
    ]);
    expect(await runs.beginCallback("A", "retry_callback", T0 + 10, T0 - 15_000, out)).toBe(2);
    // A row left running by a dead process stops blocking once it is older than the limit.
    expect(await runs.beginCallback("A", "retry_callback", T0 + 60_000, T0 + 30_000, out)).toBe(3);
    const rows = (await runs.getAttempts("A")).filter((a) => a.step === "retry_callback");
    expect(rows.map((a) => [a.attempt, a.status, a.output])).toEqual([
      [1, "succeeded", out],
      [2, "running", out],
      [3, "running", out],
    ]);
  });

  it("ends the until-resolved silences of a run, and given silences, now", async () => {
    const silences = new SilenceRepo(d);
    await silences.create({ id: "S1", flow: "orders", endsAt: UNTIL_RESOLVED_ENDS_AT, untilResolved: "A" }, T0);
    await silences.create({ id: "S2", flow: "other", endsAt: T0 + 60_000 }, T0);
    expect((await silences.active(T0 + 1)).map((s) => [s.id, s.until_resolved])).toEqual([
      ["S1", "A"],
      ["S2", undefined],
    ]);
    expect(await silences.endUntilResolved("A", T0 + 2)).toEqual(["S1"]);
    await silences.end(["S2"], T0 + 3);
    expect(await silences.active(T0 + 4)).toEqual([]);
  });
});
