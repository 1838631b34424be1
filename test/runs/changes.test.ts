// RunChange events: the chat layer hears of every action and of every run's end.
import { beforeEach, describe, expect, it } from "vitest";
import { UP, reply, startMend, type Mend } from "./harness";

let m: Mend;
beforeEach(async () => {
  m = await startMend();
  await m.putFlow({
    name: "flaky",
    steps: [{ id: "call", http: { method: "POST", url: `${UP}/call` }, retry: { max_attempts: 2, delay_ms: 10_000 } }],
  });
});

describe("run changes", () => {
  it("a run that ends after the engine's own retry is told as ended", async () => {
    m.http.reply(reply(500), reply(200, {}));
    const r = await m.api("POST", "/hooks/flaky", {});
    await m.settle();
    expect(m.changes).toEqual([]);
    await m.clock.advance(10_000);
    await m.deps.engine.tick();
    await m.settle();
    expect(m.changes).toEqual([{ runId: r.body.run_id, kind: "ended", at: m.clock.now() }]);
  });

  it("an action is told with who did it and the run it started; that run's end follows", async () => {
    m.http.fallback = reply(500);
    const run = await m.run("flaky", {});
    await m.clock.advance(10_000);
    await m.deps.engine.tick();
    await m.settle();
    m.changes.length = 0;
    m.http.fallback = reply(200, {});
    const r = await m.api("POST", `/api/runs/${run.id}/replay`, { by: "alice" });
    await m.settle();
    expect(m.changes).toEqual([
      {
        runId: run.id,
        kind: "replay",
        by: { id: "alice", via: "api" },
        started: r.body.run_id,
        at: expect.any(Number),
      },
      { runId: r.body.run_id, kind: "ended", at: expect.any(Number) },
    ]);
    await m.api("POST", `/api/runs/${run.id}/cancel`);
    await m.api("POST", `/api/runs/${run.id}/resolve`, { by: "bob" });
    expect(m.changes.slice(2).map((c) => [c.kind, c.by?.id])).toEqual([["resolve", "bob"]]);
  });
});
