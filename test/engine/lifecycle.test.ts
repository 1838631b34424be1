// Manual retry, replay, cancel, waiting for a run, and resuming after a crash.
import { describe, expect, it } from "vitest";
import { Engine } from "../../src/engine/engine";
import { EngineError } from "../../src/engine/errors";
import { flow, hang, makeHarness, reply, URL_A, URL_B } from "./harness";

const twoCalls = () =>
  makeHarness({
    flows: [
      flow("f", [
        { id: "a", http: { method: "GET", url: URL_A } },
        { id: "b", http: { method: "POST", url: URL_B, body: { from_a: "{{ steps.a.body.n }}" } } },
        { id: "c", compute: { a: "{{ steps.a.body.n }}", b: "{{ steps.b.body }}" } },
      ]),
    ],
  });

async function expectEngineError(p: Promise<unknown>, code: EngineError["code"]): Promise<EngineError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(EngineError);
  expect((err as EngineError).code).toBe(code);
  return err as EngineError;
}

describe("manual retry", () => {
  it("resumes a failed run from the failed step without rerunning earlier steps", async () => {
    const h = twoCalls();
    h.http.reply(reply(200, { n: 7 }), reply(500));
    const run = await h.start("f");
    expect(run.status).toBe("failed");
    h.http.reply(reply(200, "ok"));
    const resumed = await h.engine.retry(run.id);
    expect(resumed.id).toBe(run.id);
    expect(resumed.status).toBe("queued");
    await h.settle();
    const done = await h.run(run.id);
    expect(done.status).toBe("succeeded");
    expect(done.output).toEqual({ a: 7, b: "ok" });
    expect(h.http.requests.map((r) => r.url)).toEqual([URL_A, URL_B, URL_B]);
    expect(JSON.parse(h.http.requests[2]!.body!)).toEqual({ from_a: 7 });
  });

  it("continues the failed step's attempt numbers in the ledger and sends the same Idempotency-Key", async () => {
    const h = twoCalls();
    h.http.reply(reply(200, { n: 1 }), reply(500));
    const run = await h.start("f");
    h.http.reply(reply(200));
    await h.engine.retry(run.id);
    await h.settle();
    expect((await h.attemptsOf(run.id, "b")).map((a) => [a.attempt, a.status])).toEqual([
      [1, "failed"],
      [2, "succeeded"],
    ]);
    expect(h.http.requests[1]!.headers["idempotency-key"]).toBe(h.http.requests[2]!.headers["idempotency-key"]);
  });

  it("gives the retried step its full number of attempts again", async () => {
    const h = makeHarness({
      flows: [flow("f", [{ id: "b", http: { method: "GET", url: URL_A }, retry: { max_attempts: 2 } }])],
    });
    h.http.fallback = reply(500);
    const run = await h.start("f");
    await h.engine.retry(run.id);
    await h.settle();
    expect(h.http.requests).toHaveLength(4);
    expect((await h.run(run.id)).error).toMatchObject({ attempts: 2 });
  });

  it("resumes from the failed main step after the error handler failed too", async () => {
    const h = makeHarness({
      flows: [
        flow(
          "f",
          [
            { id: "a", compute: 1 },
            { id: "b", http: { method: "GET", url: URL_A } },
          ],
          { on_failure: [{ id: "h", fail: {} }] },
        ),
      ],
    });
    h.http.reply(reply(500));
    const run = await h.start("f");
    expect(run.status).toBe("failed");
    h.http.reply(reply(200));
    await h.engine.retry(run.id);
    await h.settle();
    const done = await h.run(run.id);
    expect(done.status).toBe("succeeded");
    expect(done.error).toBeNull();
    expect(await h.attemptsOf(run.id, "a")).toHaveLength(1);
  });

  it("refuses to retry a run that has not failed (conflict)", async () => {
    const h = makeHarness({ flows: [flow("f", [{ id: "a", compute: 1 }])] });
    const run = await h.start("f");
    await expectEngineError(h.engine.retry(run.id), "conflict");
  });

  it("starts a retry only once when asked twice", async () => {
    const h = makeHarness({ flows: [flow("f", [{ id: "b", http: { method: "GET", url: URL_A } }])] });
    h.http.reply(reply(500));
    const run = await h.start("f");
    h.http.fallback = hang;
    const results = await Promise.allSettled([h.engine.retry(run.id), h.engine.retry(run.id)]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    await h.settle();
    expect(h.http.requests).toHaveLength(2);
  });

  it("refuses to retry an unknown run (not_found)", async () => {
    await expectEngineError(makeHarness().engine.retry("nope"), "not_found");
  });
});

describe("replay", () => {
  const versions = () => {
    const h = makeHarness();
    h.addFlow(flow("f", [{ id: "c", compute: { v: 1, x: "{{ input.x }}" } }]));
    return h;
  };

  it("starts a new run with the same input on the latest flow version", async () => {
    const h = versions();
    const first = await h.start("f", { x: "a" });
    h.addFlow(flow("f", [{ id: "c", compute: { v: 2, x: "{{ input.x }}" } }]));
    const replay = await h.engine.replay(first.id);
    await h.settle();
    const done = await h.run(replay.id);
    expect(done.id).not.toBe(first.id);
    expect(done.replayOf).toBe(first.id);
    expect(done.flowVersion).toBe(2);
    expect(done.output).toEqual({ v: 2, x: "a" });
  });

  it("uses the run's own version when asked for the original", async () => {
    const h = versions();
    const first = await h.start("f", { x: "a" });
    h.addFlow(flow("f", [{ id: "c", compute: { v: 2 } }]));
    const replay = await h.engine.replay(first.id, { original: true });
    await h.settle();
    expect(await h.run(replay.id)).toMatchObject({ flowVersion: 1, output: { v: 1, x: "a" } });
  });

  it("uses a replacement input when given one", async () => {
    const h = versions();
    const first = await h.start("f", { x: "a" });
    const replay = await h.engine.replay(first.id, { input: { x: "b" } });
    await h.settle();
    expect((await h.run(replay.id)).output).toEqual({ v: 1, x: "b" });
    expect((await h.run(first.id)).input).toEqual({ x: "a" });
  });

  it("checks a replacement input against the flow's schema", async () => {
    const h = makeHarness({
      flows: [flow("f", [{ id: "c", compute: 1 }], { input: { type: "object", required: ["x"] } })],
    });
    const first = await h.start("f", { x: 1 });
    await expectEngineError(h.engine.replay(first.id, { input: {} }), "invalid");
  });

  it("can replay a run that is still going, leaving it alone", async () => {
    const h = makeHarness({ flows: [flow("f", [{ id: "b", http: { method: "GET", url: URL_A } }])] });
    h.http.reply(hang, reply(200));
    const first = await h.start("f");
    const replay = await h.engine.replay(first.id);
    await h.settle();
    expect((await h.run(replay.id)).status).toBe("succeeded");
    expect((await h.run(first.id)).status).toBe("running");
  });
});

describe("cancel", () => {
  it("cancels a running run, aborts its request and closes its attempt", async () => {
    const h = makeHarness({
      flows: [
        flow("f", [
          { id: "b", http: { method: "GET", url: URL_A } },
          { id: "after", compute: 1 },
        ]),
      ],
    });
    h.http.fallback = hang;
    const run = await h.start("f");
    const cancelled = await h.engine.cancel(run.id);
    expect(cancelled.status).toBe("cancelled");
    await h.settle();
    expect(h.http.requests[0]!.signal!.aborted).toBe(true);
    const done = await h.run(run.id);
    expect(done.status).toBe("cancelled");
    expect(done.finishedAt).toBe(h.clock.now());
    expect(await h.attemptsOf(run.id, "after")).toHaveLength(0);
    expect(h.engine.activeCount).toBe(0);
    expect(h.alerts).toHaveLength(0);
  });

  it("cancels a run waiting for a retry so that it never runs again", async () => {
    const h = makeHarness({
      flows: [
        flow("f", [{ id: "b", http: { method: "GET", url: URL_A }, retry: { max_attempts: 3, delay_ms: 1000 } }]),
      ],
    });
    h.http.fallback = reply(500);
    const run = await h.start("f");
    expect(run.status).toBe("retrying");
    await h.engine.cancel(run.id);
    expect(await h.advance(5000)).toBe(0);
    expect(h.http.requests).toHaveLength(1);
    expect((await h.run(run.id)).status).toBe("cancelled");
  });

  it("cancels a sleeping run", async () => {
    const h = makeHarness({
      flows: [
        flow("f", [
          { id: "nap", sleep: { ms: 1000 } },
          { id: "after", compute: 1 },
        ]),
      ],
    });
    const run = await h.start("f");
    await h.engine.cancel(run.id);
    await h.advance(1000);
    expect((await h.run(run.id)).status).toBe("cancelled");
    expect(await h.attemptsOf(run.id, "after")).toHaveLength(0);
  });

  it("refuses to cancel a run that has ended (conflict) and leaves it as it was", async () => {
    const h = makeHarness({ flows: [flow("f", [{ id: "a", compute: 1 }])] });
    const run = await h.start("f");
    const err = await expectEngineError(h.engine.cancel(run.id), "conflict");
    expect(err.message).toContain("succeeded");
    expect((await h.run(run.id)).status).toBe("succeeded");
  });

  it("refuses to cancel an unknown run (not_found)", async () => {
    await expectEngineError(makeHarness().engine.cancel("nope"), "not_found");
  });
});

describe("waitFor", () => {
  it("resolves with the run once it ends after its retries", async () => {
    const h = makeHarness({
      flows: [
        flow("f", [{ id: "b", http: { method: "GET", url: URL_A }, retry: { max_attempts: 2, delay_ms: 1000 } }]),
      ],
    });
    h.http.reply(reply(500), reply(200, { fine: true }));
    const run = await h.start("f");
    let got: unknown = "pending";
    void h.engine.waitFor(run.id, 30_000).then((r) => (got = r));
    await h.settle();
    expect(got).toBe("pending");
    await h.advance(1000);
    expect(got).toMatchObject({ id: run.id, status: "succeeded" });
  });

  it("resolves with undefined when the run is still going after the timeout", async () => {
    const h = makeHarness({
      flows: [flow("f", [{ id: "b", http: { method: "GET", url: URL_A }, timeout_ms: 600_000 }])],
    });
    h.http.fallback = hang;
    const run = await h.start("f");
    let got: unknown = "pending";
    void h.engine.waitFor(run.id, 30_000).then((r) => (got = r));
    await h.settle();
    await h.clock.advance(29_999);
    expect(got).toBe("pending");
    await h.clock.advance(1);
    expect(got).toBeUndefined();
  });

  it("resolves at once for a run that has already ended", async () => {
    const h = makeHarness({ flows: [flow("f", [{ id: "a", compute: 1 }])] });
    const run = await h.start("f");
    expect(await h.engine.waitFor(run.id, 10)).toMatchObject({ status: "succeeded" });
  });

  it("resolves with the cancelled run when it is cancelled", async () => {
    const h = makeHarness({ flows: [flow("f", [{ id: "b", http: { method: "GET", url: URL_A } }])] });
    h.http.fallback = hang;
    const run = await h.start("f");
    const waiting = h.engine.waitFor(run.id, 30_000);
    await h.settle();
    await h.engine.cancel(run.id);
    expect(await waiting).toMatchObject({ status: "cancelled" });
  });
});

describe("crash recovery", () => {
  it("runs an interrupted step again once its lease lapses, marking the lost attempt failed", async () => {
    const h = makeHarness({
      flows: [
        flow("f", [
          { id: "a", compute: 1 },
          { id: "b", http: { method: "GET", url: URL_A }, timeout_ms: 1000 },
        ]),
      ],
    });
    h.http.reply(hang);
    const run = await h.start("f");
    // The process dies: its engine and timers are gone; a new engine shares the store.
    h.clock.dropTimers();
    const fresh = new Engine(h.deps);
    h.http.reply(reply(200, "again"));
    await h.clock.advance(1000);
    expect(await fresh.tick()).toBe(0);
    await h.clock.advance(h.store.leaseOf(run.id)! - h.clock.now() + 1);
    expect(await fresh.tick()).toBe(1);
    await h.settle();
    const done = await h.run(run.id);
    expect(done.status).toBe("succeeded");
    expect(done.output).toMatchObject({ body: "again" });
    expect(await h.attemptsOf(run.id, "b")).toEqual([
      expect.objectContaining({
        attempt: 1,
        status: "failed",
        error: expect.objectContaining({ message: expect.stringContaining("interrupted") }),
      }),
      expect.objectContaining({ attempt: 2, status: "succeeded" }),
    ]);
    expect(await h.attemptsOf(run.id, "a")).toHaveLength(1);
    expect(h.http.requests[0]!.headers["idempotency-key"]).toBe(h.http.requests[1]!.headers["idempotency-key"]);
  });

  it("fails a step the process died in twice in a row instead of resuming it a third time, and alerts", async () => {
    const h = makeHarness({
      flows: [
        flow("f", [
          { id: "a", compute: 1 },
          { id: "b", http: { method: "GET", url: URL_A }, timeout_ms: 1000 },
        ]),
      ],
    });
    h.http.fallback = hang;
    const run = await h.start("f");
    await h.settle();
    // Twice: the process dies while b runs (an OOM crash loop), a new engine resumes it once its lease lapses.
    let engine = h.engine;
    for (let crash = 1; crash <= 2; crash++) {
      h.clock.dropTimers();
      engine = new Engine(h.deps);
      await h.clock.advance(h.store.leaseOf(run.id)! - h.clock.now() + 1);
      expect(await engine.tick()).toBe(1);
      await h.settle();
    }
    expect(h.http.requests).toHaveLength(2);
    const done = await h.run(run.id);
    expect(done.status).toBe("failed");
    expect(done.error).toMatchObject({
      type: "runtime",
      step: "b",
      message: "step b was interrupted 2 times in a row (the process stopped while it ran); not resumed again",
    });
    expect(h.alerts).toHaveLength(1);
    expect(h.alerts[0]!.error).toMatchObject({ type: "runtime", step: "b" });
    const attempts = await h.attemptsOf(run.id, "b");
    expect(attempts.map((a) => a.status)).toEqual(["failed", "failed"]);
    expect(attempts.every((a) => a.error?.message.includes("interrupted"))).toBe(true);
  });

  it("resumes again after one interruption that a finished attempt separates from the next", async () => {
    const h = makeHarness({
      flows: [
        flow("f", [
          {
            id: "b",
            http: { method: "GET", url: URL_A },
            timeout_ms: 1000,
            retry: { max_attempts: 3, backoff: "constant", delay_ms: 10 },
          },
        ]),
      ],
    });
    h.http.reply(hang);
    h.http.reply(reply(503));
    h.http.reply(hang);
    h.http.reply(reply(200, "ok"));
    const run = await h.start("f");
    await h.settle();
    let engine = new Engine(h.deps);
    h.clock.dropTimers();
    await h.clock.advance(h.store.leaseOf(run.id)! - h.clock.now() + 1);
    expect(await engine.tick()).toBe(1);
    await h.settle();
    await h.clock.advance(10);
    await h.settle();
    await engine.tick();
    await h.settle();
    expect(h.http.requests).toHaveLength(3);
    h.clock.dropTimers();
    engine = new Engine(h.deps);
    await h.clock.advance(h.store.leaseOf(run.id)! - h.clock.now() + 1);
    expect(await engine.tick()).toBe(1);
    await h.settle();
    expect((await h.run(run.id)).status).toBe("succeeded");
    expect(h.http.requests).toHaveLength(4);
  });
});

describe("waitFor with a slow store", () => {
  it("does not miss a run that ends while its status is being read", async () => {
    let finish!: (v: unknown) => void;
    const h = makeHarness({
      scripts: { slow: () => new Promise((r) => (finish = r)) },
      flows: [flow("f", [{ id: "s", script: { name: "slow" } }])],
    });
    const run = await h.start("f");
    h.store.readLatency = 3;
    let got: unknown = "pending";
    void h.engine.waitFor(run.id, 30_000).then((r) => (got = r));
    finish("done");
    await h.settle();
    expect((await h.run(run.id)).status).toBe("succeeded");
    expect(got).toMatchObject({ id: run.id, status: "succeeded" });
  });
});
