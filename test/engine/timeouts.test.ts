// Per-attempt timeouts, driven by the fake clock.
import { describe, expect, it } from "vitest";
import type { Defaults } from "../../src/engine/flow";
import { flow, hang, makeHarness, reply, URL_A } from "./harness";

async function timedOutAt(opts: {
  defaults?: Defaults;
  flowTimeout?: number;
  stepTimeout?: number;
  httpTimeout?: number;
}): Promise<number> {
  const h = makeHarness({
    defaults: opts.defaults,
    flows: [
      flow(
        "f",
        [
          {
            id: "call",
            http: { method: "GET", url: URL_A, timeout_ms: opts.httpTimeout },
            timeout_ms: opts.stepTimeout,
          },
        ],
        {
          timeout_ms: opts.flowTimeout,
        },
      ),
    ],
  });
  h.http.fallback = hang;
  const t0 = h.clock.now();
  const run = await h.start("f");
  expect(run.status).toBe("running");
  const at = h.clock.nextTimerAt()!;
  // Nothing ends one millisecond early...
  await h.clock.advance(at - t0 - 1);
  await h.settle();
  expect((await h.run(run.id)).status).toBe("running");
  // ...and the attempt times out exactly on time.
  await h.clock.advance(1);
  await h.settle();
  const ended = await h.run(run.id);
  expect(ended.status).toBe("failed");
  expect(ended.error!.type).toBe("timeout");
  return at - t0;
}

describe("timeouts", () => {
  it("fails an attempt that does not answer within timeout_ms with a timeout error", async () => {
    const h = makeHarness({
      flows: [flow("f", [{ id: "call", http: { method: "GET", url: URL_A }, timeout_ms: 100 }])],
    });
    h.http.fallback = hang;
    const run = await h.start("f");
    await h.clock.advance(100);
    await h.settle();
    const ended = await h.run(run.id);
    expect(ended.error).toMatchObject({ type: "timeout", step: "call", attempts: 1 });
    expect(ended.error!.message).toContain("100 ms");
  });

  it("aborts the request when the attempt times out", async () => {
    const h = makeHarness({
      flows: [flow("f", [{ id: "call", http: { method: "GET", url: URL_A }, timeout_ms: 100 }])],
    });
    h.http.fallback = hang;
    await h.start("f");
    expect(h.http.requests[0]!.signal!.aborted).toBe(false);
    await h.clock.advance(100);
    expect(h.http.requests[0]!.signal!.aborted).toBe(true);
  });

  it("uses 30000 ms when nothing sets a timeout", async () => {
    expect(await timedOutAt({})).toBe(30_000);
  });

  it("uses the global default timeout_ms", async () => {
    expect(await timedOutAt({ defaults: { timeout_ms: 1000 } })).toBe(1000);
  });

  it("lets the flow's timeout_ms override the defaults", async () => {
    expect(await timedOutAt({ defaults: { timeout_ms: 1000 }, flowTimeout: 500 })).toBe(500);
  });

  it("lets the step's timeout_ms override the flow's", async () => {
    expect(await timedOutAt({ defaults: { timeout_ms: 1000 }, flowTimeout: 500, stepTimeout: 200 })).toBe(200);
  });

  it("lets http.timeout_ms override the step's timeout_ms", async () => {
    expect(await timedOutAt({ flowTimeout: 500, stepTimeout: 200, httpTimeout: 50 })).toBe(50);
  });

  it("gives every attempt its own timeout", async () => {
    const h = makeHarness({
      flows: [
        flow("f", [{ id: "call", http: { method: "GET", url: URL_A }, timeout_ms: 100, retry: { max_attempts: 2 } }]),
      ],
    });
    h.http.reply(hang, hang);
    const run = await h.start("f");
    await h.clock.advance(100);
    await h.settle();
    expect(h.http.requests).toHaveLength(2);
    expect((await h.run(run.id)).status).toBe("running");
    await h.clock.advance(100);
    await h.settle();
    const ended = await h.run(run.id);
    expect(ended.error).toMatchObject({ type: "timeout", attempts: 2 });
    expect((await h.attemptsOf(run.id, "call")).map((a) => a.error?.type)).toEqual(["timeout", "timeout"]);
  });

  it("times out a script that never returns and aborts its signal", async () => {
    let seen: AbortSignal | undefined;
    const h = makeHarness({
      scripts: {
        stuck: (_args, ctx) => {
          seen = ctx.signal;
          return new Promise(() => {});
        },
      },
      flows: [flow("f", [{ id: "s", script: { name: "stuck" }, timeout_ms: 250 }])],
    });
    const run = await h.start("f");
    await h.clock.advance(250);
    await h.settle();
    expect((await h.run(run.id)).error).toMatchObject({ type: "timeout", step: "s" });
    expect(seen!.aborted).toBe(true);
  });

  it("does not time out an attempt that answers in time, and leaves no timer behind", async () => {
    const h = makeHarness({
      flows: [flow("f", [{ id: "call", http: { method: "GET", url: URL_A }, timeout_ms: 100 }])],
    });
    h.http.reply(reply(200));
    const run = await h.start("f");
    expect(run.status).toBe("succeeded");
    expect(h.clock.pendingTimers).toBe(0);
  });
});
