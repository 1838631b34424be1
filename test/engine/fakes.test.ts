// The fakes the engine tests stand on: if these are wrong, every other test is.
import { describe, expect, it } from "vitest";
import { FakeClock } from "../fakes/fake-clock";
import { MemoryStore } from "../fakes/memory-store";
import type { RunRecord } from "../../src/engine/ports";

describe("FakeClock", () => {
  it("fires due timers in time order, each at its own time", async () => {
    const clock = new FakeClock(1000);
    const seen: [string, number][] = [];
    clock.setTimer(30, () => seen.push(["c", clock.now()]));
    clock.setTimer(10, () => seen.push(["a", clock.now()]));
    clock.setTimer(10, () => seen.push(["b", clock.now()]));
    clock.setTimer(50, () => seen.push(["late", clock.now()]));
    await clock.advance(30);
    expect(seen).toEqual([
      ["a", 1010],
      ["b", 1010],
      ["c", 1030],
    ]);
    expect(clock.now()).toBe(1030);
  });

  it("does not fire a cancelled timer", async () => {
    const clock = new FakeClock(0);
    let fired = false;
    const cancel = clock.setTimer(5, () => (fired = true));
    cancel();
    await clock.advance(10);
    expect(fired).toBe(false);
  });

  it("fires timers set by awaited work within the same advance", async () => {
    const clock = new FakeClock(0);
    const seen: number[] = [];
    clock.setTimer(10, () => {
      void Promise.resolve().then(() => clock.setTimer(10, () => seen.push(clock.now())));
    });
    await clock.advance(25);
    expect(seen).toEqual([20]);
  });
});

describe("MemoryStore", () => {
  const base = (over: Partial<RunRecord> = {}): RunRecord => ({
    id: "r",
    flow: "f",
    flowVersion: 1,
    status: "running",
    input: null,
    output: null,
    error: null,
    cursor: { phase: "main", index: 0, attempt: 0 },
    dueAt: 100,
    replayOf: null,
    external: null,
    createdAt: 0,
    updatedAt: 0,
    finishedAt: null,
    ...over,
  });

  it("never changes a cancelled run through updateRun", async () => {
    const s = new MemoryStore();
    await s.commit([{ op: "insertRun", run: base(), leaseUntil: null }]);
    expect(await s.cancelRun("r", 5)).toBe(true);
    await s.commit([{ op: "updateRun", id: "r", set: { status: "succeeded" } }]);
    expect((await s.getRun("r"))!.status).toBe("cancelled");
    expect(await s.cancelRun("r", 6)).toBe(false);
  });

  it("claims only due, active, unleased runs and leases them", async () => {
    const s = new MemoryStore();
    await s.commit([
      { op: "insertRun", run: base({ id: "due" }), leaseUntil: null },
      { op: "insertRun", run: base({ id: "later", dueAt: 500 }), leaseUntil: null },
      { op: "insertRun", run: base({ id: "leased" }), leaseUntil: 1000 },
      { op: "insertRun", run: base({ id: "done", status: "succeeded" }), leaseUntil: null },
    ]);
    expect((await s.claimDue(200, 60, 10)).map((r) => r.id)).toEqual(["due"]);
    expect(await s.claimDue(200, 60, 10)).toEqual([]);
    expect(s.leaseOf("due")).toBe(260);
  });

  it("hands out copies, so callers cannot change stored rows", async () => {
    const s = new MemoryStore();
    await s.commit([{ op: "insertRun", run: base(), leaseUntil: null }]);
    const r = (await s.getRun("r"))!;
    r.status = "failed";
    expect((await s.getRun("r"))!.status).toBe("running");
  });

  it("upserts attempts by run, step and attempt, keeping the start time", async () => {
    const s = new MemoryStore();
    const a = {
      runId: "r",
      step: "x",
      attempt: 1,
      phase: "main" as const,
      status: "running" as const,
      startedAt: 10,
      finishedAt: null,
      durationMs: null,
      output: null,
      error: null,
    };
    await s.commit([{ op: "putAttempt", attempt: a }]);
    await s.commit([
      {
        op: "putAttempt",
        attempt: { ...a, status: "succeeded", startedAt: 99, finishedAt: 20, durationMs: 10, output: 1 },
      },
    ]);
    expect(await s.getAttempts("r")).toEqual([
      { ...a, status: "succeeded", finishedAt: 20, durationMs: 10, output: 1 },
    ]);
  });
});
