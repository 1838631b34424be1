// SPEC §12: the error context, max_retries, and what an error handler that only notifies does.
import { describe, expect, it } from "vitest";
import { parseFlow } from "../../src/engine/flow";
import { flow, hang, makeHarness, refused, URL_A } from "../engine/harness";

describe("error context", () => {
  it("always has status and details, so a handler reading them works for timeouts, network and runtime errors", async () => {
    const handler = {
      on_failure: [
        {
          id: "report",
          compute: { status: "{{ error.status }}", details: "{{ error.details }}", type: "{{ error.type }}" },
        },
      ],
    };
    const h = makeHarness({
      flows: [
        flow("slow", [{ id: "call", http: { method: "GET", url: URL_A }, timeout_ms: 100 }], handler),
        flow("down", [{ id: "call", http: { method: "GET", url: URL_A } }], handler),
        flow("boom", [{ id: "call", fail: { message: "kaboom" } }], handler),
      ],
    });
    h.http.reply(hang, refused());
    const slow = await h.start("slow");
    await h.clock.advance(100);
    await h.settle();
    // An http step's details may also carry what was sent (details.request); they are always an object.
    expect((await h.run(slow.id)).output).toEqual({ status: null, details: expect.any(Object), type: "timeout" });
    expect((await h.start("down")).output).toEqual({ status: null, details: expect.any(Object), type: "network" });
    expect((await h.start("boom")).output).toEqual({ status: null, details: {}, type: "runtime" });
  });

  it("in on_failure, steps.<failed step> is the failed result (Windmill's handler input)", async () => {
    const h = makeHarness({
      flows: [
        flow("f", [{ id: "call", http: { method: "GET", url: URL_A } }], {
          on_failure: [{ id: "h", compute: { got: "{{ steps.call.body }}", err: "{{ steps.call.error.status }}" } }],
        }),
      ],
    });
    h.http.reply(
      () => new Response(JSON.stringify({ oops: 1 }), { status: 500, headers: { "content-type": "application/json" } }),
    );
    const run = await h.start("f");
    expect(run.status).toBe("recovered");
    expect(run.output).toEqual({ got: { oops: 1 }, err: 500 });
  });

  it("accepts max_retries: N as N + 1 attempts, and refuses it beside max_attempts", async () => {
    const h = makeHarness({
      flows: [flow("f", [{ id: "x", fail: { message: "no" } }], { retry: { max_retries: 2 } })],
    });
    const run = await h.start("f");
    expect(run.error?.attempts).toBe(3);
    expect(await h.attemptsOf(run.id, "x")).toHaveLength(3);
    const both = parseFlow(flow("g", [{ id: "x", compute: 1, retry: { max_retries: 1, max_attempts: 2 } }]));
    expect(both.ok ? [] : both.issues).toEqual([
      { path: "steps.0.retry.max_retries", message: "use max_attempts or max_retries, not both" },
    ]);
  });
});

describe("handlers that only notify", () => {
  const failing = [{ id: "call", fail: { message: "down", type: "network" } }];
  const notified: unknown[] = [];
  const slack = async (args: unknown) => {
    notified.push(args);
    return { ok: true };
  };

  it("leave the run failed with the primary error when every on_failure step is a notifying script", async () => {
    const h = makeHarness({
      scripts: { slack },
      flows: [flow("f", failing, { on_failure: [{ id: "tell", script: { name: "slack", args: { channel: "C1" } } }] })],
    });
    const run = await h.start("f");
    expect(run.status).toBe("failed");
    expect(run.error).toMatchObject({ message: "down", type: "network", step: "call" });
    expect(notified).toContainEqual({ channel: "C1" });
    // Retry is allowed on it, as on any failed run.
    await expect(h.engine.retry(run.id)).resolves.toMatchObject({ status: "queued" });
  });

  it("count steps marked notify: true; a step that computes a fallback recovers; on_failure_outcome overrides", async () => {
    const h = makeHarness({
      scripts: { page: async () => "paged" },
      flows: [
        flow("marked", failing, { on_failure: [{ id: "p", script: { name: "page" }, notify: true }] }),
        flow("fallback", failing, {
          on_failure: [
            { id: "p", script: { name: "page" }, notify: true },
            { id: "fb", compute: { cached: true } },
          ],
        }),
        flow("forced", failing, {
          on_failure_outcome: "recovered",
          on_failure: [{ id: "p", script: { name: "page" }, notify: true }],
        }),
        flow("strict", failing, {
          on_failure_outcome: "failed",
          on_failure: [{ id: "fb", compute: { cached: true } }],
        }),
      ],
    });
    expect((await h.start("marked")).status).toBe("failed");
    expect(await h.start("fallback")).toMatchObject({ status: "recovered", output: { cached: true } });
    expect(await h.start("forced")).toMatchObject({ status: "recovered", output: "paged" });
    expect((await h.start("strict")).status).toBe("failed");
  });
});
