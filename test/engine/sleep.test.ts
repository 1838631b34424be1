// sleep steps wait as a due row in the store, not in memory.
import { describe, expect, it } from "vitest";
import { Engine } from "../../src/engine/engine";
import { flow, makeHarness } from "./harness";

const sleepy = () =>
  makeHarness({
    flows: [
      flow("f", [
        { id: "a", compute: 1 },
        { id: "nap", sleep: { ms: 60_000 } },
        { id: "b", compute: "{{ steps.a }}" },
      ]),
    ],
  });

describe("sleep steps", () => {
  it("park the run as a due row until the sleep ends, with nothing executing", async () => {
    const h = sleepy();
    const t0 = h.clock.now();
    const run = await h.start("f");
    expect(run.status).toBe("running");
    expect(run.dueAt).toBe(t0 + 60_000);
    expect(h.store.leaseOf(run.id)).toBeNull();
    expect(h.engine.activeCount).toBe(0);
    expect(h.clock.pendingTimers).toBe(0);
    expect((await h.attemptsOf(run.id, "nap"))[0]!.status).toBe("running");
  });

  it("do not go on before the time is up", async () => {
    const h = sleepy();
    const run = await h.start("f");
    expect(await h.advance(59_999)).toBe(0);
    expect(await h.attemptsOf(run.id, "b")).toHaveLength(0);
  });

  it("go on once the time is up and record the sleep as one succeeded attempt", async () => {
    const h = sleepy();
    const run = await h.start("f");
    await h.advance(60_000);
    const done = await h.run(run.id);
    expect(done.status).toBe("succeeded");
    expect(done.output).toBe(1);
    expect(await h.attemptsOf(run.id, "nap")).toEqual([
      expect.objectContaining({ attempt: 1, status: "succeeded", durationMs: 60_000, output: null }),
    ]);
  });

  it("survive a restart: a new engine on the same store finishes the run", async () => {
    const h = sleepy();
    const run = await h.start("f");
    const fresh = new Engine(h.deps);
    await h.clock.advance(60_000);
    expect(await fresh.tick()).toBe(1);
    await h.settle();
    expect((await h.run(run.id)).status).toBe("succeeded");
  });

  it("of 0 ms do not wait", async () => {
    const h = makeHarness({
      flows: [
        flow("f", [
          { id: "nap", sleep: { ms: 0 } },
          { id: "b", compute: 2 },
        ]),
      ],
    });
    expect((await h.start("f")).status).toBe("succeeded");
  });
});
