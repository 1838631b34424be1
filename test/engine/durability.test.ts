// What a run keeps across a wait in the store: results, flow version, failed results.
import { describe, expect, it } from "vitest";
import { flow, makeHarness, reply, URL_A, URL_B } from "./harness";

describe("resuming after a backoff wait", () => {
  it("keeps the results of earlier steps for later templates", async () => {
    const h = makeHarness({
      flows: [
        flow("f", [
          { id: "a", http: { method: "GET", url: URL_A } },
          { id: "b", http: { method: "GET", url: URL_B }, retry: { max_attempts: 2, delay_ms: 100 } },
          { id: "c", compute: { n: "{{ steps.a.body.n }}", b: "{{ steps.b.status }}" } },
        ]),
      ],
    });
    h.http.reply(reply(200, { n: 9 }), reply(500), reply(200));
    const run = await h.start("f");
    expect(run.status).toBe("retrying");
    await h.advance(100);
    expect(await h.run(run.id)).toMatchObject({ status: "succeeded", output: { n: 9, b: 200 } });
    expect(h.http.requests.map((r) => r.url)).toEqual([URL_A, URL_B, URL_B]);
  });

  it("keeps the failed result of a step that continued on error", async () => {
    const h = makeHarness({
      flows: [
        flow("f", [
          { id: "a", fail: { message: "soft" }, continue_on_error: true },
          { id: "b", http: { method: "GET", url: URL_B }, retry: { max_attempts: 2, delay_ms: 100 } },
          { id: "c", compute: "{{ steps.a.error.message }}" },
        ]),
      ],
    });
    h.http.reply(reply(500), reply(200));
    const run = await h.start("f");
    await h.advance(100);
    expect(await h.run(run.id)).toMatchObject({ status: "succeeded", output: "soft" });
  });

  it("stays on the flow version it started with even when the flow changes meanwhile", async () => {
    const h = makeHarness({
      flows: [
        flow("f", [
          { id: "b", http: { method: "GET", url: URL_A }, retry: { max_attempts: 2, delay_ms: 100 } },
          { id: "c", compute: "v1" },
        ]),
      ],
    });
    h.http.reply(reply(500), reply(200));
    const run = await h.start("f");
    h.addFlow(
      flow("f", [
        { id: "b", http: { method: "GET", url: URL_A } },
        { id: "c", compute: "v2" },
      ]),
    );
    await h.advance(100);
    expect(await h.run(run.id)).toMatchObject({ status: "succeeded", flowVersion: 1, output: "v1" });
  });

  it("tells the scheduler when a retry or a sleep is due", async () => {
    const h = makeHarness({
      flows: [
        flow("f", [
          { id: "b", http: { method: "GET", url: URL_A }, retry: { max_attempts: 2, delay_ms: 100 } },
          { id: "nap", sleep: { ms: 500 } },
          { id: "c", compute: 1 },
        ]),
      ],
    });
    h.http.reply(reply(500), reply(200));
    const t0 = h.clock.now();
    await h.start("f");
    expect(h.dues).toContain(t0 + 100);
    await h.advance(100);
    expect(h.dues).toContain(t0 + 600);
  });

  it("does not let the scheduler claim a run while one of its attempts is in flight", async () => {
    const h = makeHarness({
      flows: [flow("f", [{ id: "b", script: { name: "slow" }, timeout_ms: 5000 }])],
      scripts: { slow: () => new Promise(() => {}) },
    });
    const run = await h.start("f");
    await h.clock.advance(4000);
    expect(await h.engine.tick()).toBe(0);
    expect((await h.run(run.id)).status).toBe("running");
  });
});

describe("external failures", () => {
  async function externalRun() {
    const h = makeHarness({ flows: [flow("f", [{ id: "a", compute: 1 }])] });
    const now = h.clock.now();
    await h.store.commit([
      {
        op: "insertRun",
        leaseUntil: null,
        run: {
          id: "ext1",
          flow: "external:ci",
          flowVersion: 1,
          status: "failed",
          input: {},
          output: null,
          error: { message: "build broke", type: "runtime", step: "build" },
          cursor: { phase: "main", index: 0, attempt: 0 },
          dueAt: null,
          replayOf: null,
          external: { source: "ci", job: "build" },
          createdAt: now,
          updatedAt: now,
          finishedAt: now,
        },
      },
    ]);
    return h;
  }

  it("refuses to retry an external failure in the engine", async () => {
    const h = await externalRun();
    await expect(h.engine.retry("ext1")).rejects.toMatchObject({ code: "conflict" });
    expect((await h.run("ext1")).status).toBe("failed");
  });

  it("refuses to replay an external failure in the engine", async () => {
    const h = await externalRun();
    await expect(h.engine.replay("ext1")).rejects.toMatchObject({ code: "conflict" });
  });
});
