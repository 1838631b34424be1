// The flow's error handler (on_failure), continue_on_error and async steps.
import { describe, expect, it } from "vitest";
import type { ScriptContext } from "../../src/engine/ports";
import { flow, makeHarness, reply, URL_A } from "./harness";

const failingCall = (extra: Record<string, unknown> = {}) => ({
  id: "fetch",
  http: { method: "GET", url: URL_A },
  ...extra,
});

describe("on_failure", () => {
  it("runs the error handler after the last attempt and the run is recovered with the handler's output", async () => {
    const h = makeHarness({
      flows: [
        flow("f", [failingCall({ retry: { max_attempts: 2 } })], {
          on_failure: [{ id: "fallback", compute: { source: "unavailable" } }],
        }),
      ],
    });
    h.http.fallback = reply(500);
    const run = await h.start("f");
    expect(h.http.requests).toHaveLength(2);
    expect(run.status).toBe("recovered");
    expect(run.output).toEqual({ source: "unavailable" });
    expect(run.error).toMatchObject({ type: "http_status", step: "fetch", attempts: 2 });
  });

  it("does not run the error handler when every step succeeds", async () => {
    const h = makeHarness({ flows: [flow("f", [failingCall()], { on_failure: [{ id: "fallback", fail: {} }] })] });
    h.http.reply(reply(200));
    const run = await h.start("f");
    expect(run.status).toBe("succeeded");
    expect(await h.attemptsOf(run.id, "fallback")).toHaveLength(0);
  });

  it("skips the main steps after the failed one", async () => {
    const h = makeHarness({
      flows: [
        flow("f", [failingCall(), { id: "after", compute: 1 }], { on_failure: [{ id: "fallback", compute: 2 }] }),
      ],
    });
    h.http.reply(reply(500));
    const run = await h.start("f");
    expect(await h.attemptsOf(run.id, "after")).toHaveLength(0);
    expect(run.output).toBe(2);
  });

  it("gives handler steps the error context as `error`", async () => {
    const h = makeHarness({
      flows: [
        flow("f", [failingCall({ retry: { max_attempts: 2 } })], {
          on_failure: [{ id: "fallback", compute: "{{ error }}" }],
        }),
      ],
    });
    h.http.fallback = reply(500, "down");
    const run = await h.start("f");
    expect(run.output).toEqual({
      message: "GET http://api.test/a returned 500",
      type: "http_status",
      step: "fetch",
      attempts: 2,
      status: 500,
      details: {
        body: "down",
        headers: expect.any(Object),
        request: expect.objectContaining({ method: "GET", url: "http://api.test/a" }),
      },
    });
  });

  it("reads error fields with both error.message and error:message", async () => {
    const h = makeHarness({
      flows: [
        flow("f", [{ id: "x", fail: { message: "nope" } }], {
          on_failure: [
            { id: "fallback", compute: ["{{ error.message }}", "{{ error:message }}", "at {{ error:step }}"] },
          ],
        }),
      ],
    });
    expect((await h.start("f")).output).toEqual(["nope", "nope", "at x"]);
  });

  it("gives handler steps `failed`: the failed step's last result with its error in `error`", async () => {
    const h = makeHarness({
      flows: [
        flow("f", [failingCall()], {
          on_failure: [
            {
              id: "fallback",
              compute: { status: "{{ failed.status }}", body: "{{ failed.body }}", msg: "{{ failed.error.message }}" },
            },
          ],
        }),
      ],
    });
    h.http.reply(reply(502, { why: "gateway" }));
    expect((await h.start("f")).output).toEqual({
      status: 502,
      body: { why: "gateway" },
      msg: "GET http://api.test/a returned 502",
    });
  });

  it("gives `failed` only the error when the failed step had no result", async () => {
    const h = makeHarness({
      flows: [
        flow("f", [{ id: "x", fail: { message: "m" } }], { on_failure: [{ id: "fallback", compute: "{{ failed }}" }] }),
      ],
    });
    expect((await h.start("f")).output).toEqual({
      error: { message: "m", type: "runtime", step: "x", attempts: 1, status: null, details: {} },
    });
  });

  it("hands error and failed to handler scripts", async () => {
    let ctx: Omit<ScriptContext, "signal"> | undefined;
    const h = makeHarness({
      scripts: {
        notify: (_a, c) => {
          ctx = c;
          return "posted";
        },
      },
      flows: [flow("f", [failingCall()], { on_failure: [{ id: "tell", script: { name: "notify" } }] })],
    });
    h.http.reply(reply(500));
    const run = await h.start("f");
    expect(run.status).toBe("recovered");
    expect(ctx!.error).toMatchObject({ type: "http_status", step: "fetch" });
    expect(ctx!.failed).toMatchObject({ status: 500, error: { type: "http_status" } });
  });

  it("lets handler steps read results of main steps that succeeded", async () => {
    const h = makeHarness({
      flows: [
        flow(
          "f",
          [
            { id: "a", compute: { n: 1 } },
            { id: "x", fail: {} },
          ],
          { on_failure: [{ id: "fallback", compute: "{{ steps.a.n }}" }] },
        ),
      ],
    });
    expect((await h.start("f")).output).toBe(1);
  });

  it("ends the run failed with the handler's error when a handler step fails", async () => {
    const h = makeHarness({
      flows: [
        flow("f", [failingCall()], {
          on_failure: [
            { id: "fallback", fail: { message: "handler broke" } },
            { id: "never", compute: 1 },
          ],
        }),
      ],
    });
    h.http.reply(reply(500));
    const run = await h.start("f");
    expect(run.status).toBe("failed");
    expect(run.error).toMatchObject({ message: "handler broke", type: "runtime", step: "fallback" });
    expect(await h.attemptsOf(run.id, "never")).toHaveLength(0);
  });

  it("never nests handlers: a failing handler step is tried once and the handler does not run again", async () => {
    const h = makeHarness({ flows: [flow("f", [failingCall()], { on_failure: [{ id: "fallback", fail: {} }] })] });
    h.http.reply(reply(500));
    const run = await h.start("f");
    expect(await h.attemptsOf(run.id, "fallback")).toHaveLength(1);
  });

  it("retries a handler step with its own policy before giving up", async () => {
    let calls = 0;
    const h = makeHarness({
      scripts: {
        flaky: () => {
          calls++;
          if (calls < 3) throw new Error("chat down");
          return "sent";
        },
      },
      flows: [
        flow("f", [{ id: "x", fail: {} }], {
          on_failure: [{ id: "tell", script: { name: "flaky" }, retry: { max_attempts: 3, delay_ms: 100 } }],
        }),
      ],
    });
    const run = await h.start("f");
    expect(run.status).toBe("retrying");
    await h.advance(100);
    await h.advance(100);
    const ended = await h.run(run.id);
    expect(ended.status).toBe("recovered");
    expect(ended.output).toBe("sent");
  });

  it("keeps error and failed for handler steps across a backoff wait", async () => {
    const h = makeHarness({
      flows: [
        flow("f", [failingCall()], {
          on_failure: [
            {
              id: "tell",
              http: {
                method: "POST",
                url: "http://hooks.test/x",
                body: { e: "{{ error:message }}", s: "{{ failed.status }}" },
              },
              retry: { max_attempts: 2, delay_ms: 50 },
            },
          ],
        }),
      ],
    });
    h.http.reply(reply(500), reply(503), reply(200));
    const run = await h.start("f");
    await h.advance(50);
    expect((await h.run(run.id)).status).toBe("recovered");
    expect(JSON.parse(h.http.requests[2]!.body!)).toEqual({ e: "GET http://api.test/a returned 500", s: 500 });
  });

  it("ends the run failed with the step's error when there is no on_failure", async () => {
    const h = makeHarness({ flows: [flow("f", [failingCall()])] });
    h.http.reply(reply(500));
    const run = await h.start("f");
    expect(run.status).toBe("failed");
    expect(run.output).toBeNull();
    expect(run.error).toMatchObject({ step: "fetch", type: "http_status" });
  });
});

describe("continue_on_error", () => {
  it("makes the failed result the step's result and goes on", async () => {
    const h = makeHarness({
      flows: [
        flow("f", [
          failingCall({ continue_on_error: true }),
          { id: "next", compute: { s: "{{ steps.fetch.status }}", t: "{{ steps.fetch.error.type }}" } },
        ]),
      ],
    });
    h.http.reply(reply(500, { a: 1 }));
    const run = await h.start("f");
    expect(run.status).toBe("succeeded");
    expect(run.output).toEqual({ s: 500, t: "http_status" });
  });

  it("uses every attempt before continuing", async () => {
    const h = makeHarness({
      flows: [
        flow("f", [
          failingCall({ continue_on_error: true, retry: { max_attempts: 3 } }),
          { id: "next", compute: "{{ steps.fetch.error.attempts }}" },
        ]),
      ],
    });
    h.http.fallback = reply(500);
    const run = await h.start("f");
    expect(h.http.requests).toHaveLength(3);
    expect(run.output).toBe(3);
  });

  it("does not run the error handler for a step that continues on error", async () => {
    const h = makeHarness({
      flows: [
        flow("f", [{ id: "x", fail: {}, continue_on_error: true }], { on_failure: [{ id: "fallback", compute: 1 }] }),
      ],
    });
    const run = await h.start("f");
    expect(run.status).toBe("succeeded");
    expect(run.output).toMatchObject({ error: { type: "runtime", step: "x" } });
  });
});

describe("async steps", () => {
  it("does not wait for an async step: the run ends while it is still running", async () => {
    let finish!: (v: unknown) => void;
    const h = makeHarness({
      scripts: { slow: () => new Promise((r) => (finish = r)) },
      flows: [
        flow("f", [
          { id: "bg", script: { name: "slow" }, async: true },
          { id: "after", compute: "done" },
        ]),
      ],
    });
    const run = await h.start("f");
    expect(run.status).toBe("succeeded");
    expect(run.output).toBe("done");
    expect((await h.attemptsOf(run.id, "bg"))[0]!.status).toBe("running");
    finish({ late: true });
    await h.settle();
    expect((await h.attemptsOf(run.id, "bg"))[0]).toMatchObject({ status: "succeeded", output: { late: true } });
  });

  it("never fails the run when an async step fails", async () => {
    const h = makeHarness({
      flows: [
        flow("f", [
          { id: "bg", fail: { message: "bg broke" }, async: true },
          { id: "after", compute: 1 },
        ]),
      ],
    });
    const run = await h.start("f");
    expect(run.status).toBe("succeeded");
    expect(h.alerts).toHaveLength(0);
    expect((await h.attemptsOf(run.id, "bg"))[0]).toMatchObject({ status: "failed", error: { message: "bg broke" } });
  });

  it("retries a failing async step with its policy after the run has ended", async () => {
    const h = makeHarness({
      flows: [
        flow("f", [
          { id: "bg", http: { method: "POST", url: URL_A }, async: true, retry: { max_attempts: 2, delay_ms: 100 } },
          { id: "after", compute: 1 },
        ]),
      ],
    });
    h.http.reply(reply(500), reply(200));
    const run = await h.start("f");
    expect(run.status).toBe("succeeded");
    await h.clock.advance(100);
    await h.settle();
    expect(h.http.requests).toHaveLength(2);
    expect((await h.attemptsOf(run.id, "bg")).map((a) => a.status)).toEqual(["failed", "succeeded"]);
    expect((await h.run(run.id)).status).toBe("succeeded");
  });

  it("does not make an async step's result the run's output", async () => {
    const h = makeHarness({
      flows: [
        flow("f", [
          { id: "a", compute: "main" },
          { id: "bg", compute: "side", async: true },
        ]),
      ],
    });
    expect((await h.start("f")).output).toBe("main");
  });
});
