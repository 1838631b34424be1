// What the engine hands to planAlerts when a run fails for good.
import { describe, expect, it } from "vitest";
import { flow, makeHarness, reply, URL_A } from "./harness";

const call = { id: "fetch", http: { method: "GET", url: URL_A } };

describe("alert payload", () => {
  it("is handed over once for a failed run, with the run, the error and the failed result", async () => {
    const h = makeHarness({
      flows: [flow("f", [{ ...call, retry: { max_attempts: 3, delay_ms: 10 } }])],
      publicUrl: "https://mend.test/",
    });
    h.http.fallback = reply(500, { e: 1 });
    const run = await h.start("f", { city: "Oslo" });
    await h.advance(10);
    await h.advance(10);
    expect((await h.run(run.id)).status).toBe("failed");
    expect(h.alerts).toHaveLength(1);
    const [p] = h.alerts;
    expect(p).toEqual({
      run: {
        id: run.id,
        flow: "f",
        flow_version: 1,
        status: "failed",
        replay_of: null,
        url: `https://mend.test/runs/${run.id}`,
      },
      failed: {
        status: 500,
        headers: expect.any(Object),
        body: { e: 1 },
        error: expect.objectContaining({ type: "http_status", step: "fetch", attempts: 3 }),
      },
      error: expect.objectContaining({ type: "http_status", step: "fetch", attempts: 3, status: 500 }),
      input: { city: "Oslo" },
    });
  });

  it("is not handed over for a run that succeeds", async () => {
    const h = makeHarness({ flows: [flow("f", [call])] });
    h.http.reply(reply(200));
    await h.start("f");
    expect(h.alerts).toHaveLength(0);
  });

  it("says the error handler recovered the run", async () => {
    const h = makeHarness({ flows: [flow("f", [call], { on_failure: [{ id: "fallback", compute: "ok" }] })] });
    h.http.reply(reply(500));
    await h.start("f");
    expect(h.alerts).toHaveLength(1);
    expect(h.alerts[0]).toMatchObject({
      run: { status: "recovered" },
      error: { step: "fetch", type: "http_status" },
      failed: { status: 500, error: { step: "fetch" } },
      handler: { outcome: "recovered" },
    });
    expect(h.alerts[0]!.handler!.error).toBeUndefined();
  });

  it("says the error handler failed, with its error, while keeping the original failure", async () => {
    const h = makeHarness({
      flows: [flow("f", [call], { on_failure: [{ id: "fallback", fail: { message: "chat down", type: "network" } }] })],
    });
    h.http.reply(reply(500));
    await h.start("f");
    expect(h.alerts).toHaveLength(1);
    expect(h.alerts[0]).toMatchObject({
      run: { status: "failed" },
      error: { step: "fetch", type: "http_status" },
      failed: { status: 500, error: { step: "fetch" } },
      handler: { outcome: "failed", error: { step: "fallback", message: "chat down", type: "network" } },
    });
  });

  it("names the run a replay is of", async () => {
    const h = makeHarness({ flows: [flow("f", [{ id: "x", fail: {} }])] });
    const first = await h.start("f");
    await h.engine.replay(first.id);
    await h.settle();
    expect(h.alerts.map((a) => a.run.replay_of)).toEqual([null, first.id]);
  });

  it("is committed with the run's failure in one write", async () => {
    const h = makeHarness({ flows: [flow("f", [{ id: "x", fail: {} }])] });
    const run = await h.start("f");
    const last = h.store.commits.at(-1)!;
    expect(last.some((w) => w.op === "insertOutbox" && w.rows[0]!.runId === run.id)).toBe(true);
    expect(last.some((w) => w.op === "updateRun" && w.set.status === "failed")).toBe(true);
    expect(h.store.outbox).toHaveLength(1);
  });

  it("is handed over again when a manually retried run fails again", async () => {
    const h = makeHarness({ flows: [flow("f", [call])] });
    h.http.fallback = reply(500);
    const run = await h.start("f");
    await h.engine.retry(run.id);
    await h.settle();
    expect(h.alerts).toHaveLength(2);
  });
});
