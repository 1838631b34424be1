// Retries of a failing step as a user sees them in the run and its ledger.
import { describe, expect, it } from "vitest";
import { flow, makeHarness, reply, URL_A } from "./harness";

const get = (extra: Record<string, unknown> = {}) => ({ id: "call", http: { method: "GET", url: URL_A }, ...extra });

describe("retry counts", () => {
  it("tries a failing step once when no retry policy is set", async () => {
    const h = makeHarness({ flows: [flow("f", [get()])] });
    h.http.reply(reply(500), reply(200));
    const run = await h.start("f");
    expect(run.status).toBe("failed");
    expect(h.http.requests).toHaveLength(1);
  });

  it("makes max_attempts tries in total, then fails the run with the attempt count", async () => {
    const h = makeHarness({ flows: [flow("f", [get({ retry: { max_attempts: 3 } })])] });
    h.http.fallback = reply(500, { oops: true });
    const run = await h.start("f");
    expect(h.http.requests).toHaveLength(3);
    expect(run.status).toBe("failed");
    expect(run.error).toMatchObject({ type: "http_status", step: "call", attempts: 3, status: 500 });
    const rows = await h.attemptsOf(run.id, "call");
    expect(rows.map((a) => [a.attempt, a.status])).toEqual([
      [1, "failed"],
      [2, "failed"],
      [3, "failed"],
    ]);
  });

  it("succeeds when a later attempt succeeds, keeping the failed attempts in the ledger", async () => {
    const h = makeHarness({ flows: [flow("f", [get({ retry: { max_attempts: 3 } })])] });
    h.http.reply(reply(500), reply(502), reply(200, { ok: 1 }));
    const run = await h.start("f");
    expect(run.status).toBe("succeeded");
    expect(run.output).toMatchObject({ status: 200, body: { ok: 1 } });
    expect((await h.attemptsOf(run.id, "call")).map((a) => a.status)).toEqual(["failed", "failed", "succeeded"]);
  });

  it("records each failed attempt's error with its own attempt number", async () => {
    const h = makeHarness({ flows: [flow("f", [get({ retry: { max_attempts: 2 } })])] });
    h.http.fallback = reply(503);
    const run = await h.start("f");
    expect((await h.attemptsOf(run.id, "call")).map((a) => a.error?.attempts)).toEqual([1, 2]);
  });
});

describe("retry delays", () => {
  it("waits the backoff as a due 'retrying' run, not in memory", async () => {
    const h = makeHarness({ flows: [flow("f", [get({ retry: { max_attempts: 2, delay_ms: 1000 } })])] });
    h.http.reply(reply(500), reply(200));
    const t0 = h.clock.now();
    const run = await h.start("f");
    expect(run.status).toBe("retrying");
    expect(run.dueAt).toBe(t0 + 1000);
    expect(h.engine.activeCount).toBe(0);
    expect(h.store.leaseOf(run.id)).toBeNull();
  });

  it("does not run the next attempt before the backoff has passed", async () => {
    const h = makeHarness({ flows: [flow("f", [get({ retry: { max_attempts: 2, delay_ms: 1000 } })])] });
    h.http.reply(reply(500), reply(200));
    const run = await h.start("f");
    expect(await h.advance(999)).toBe(0);
    expect(h.http.requests).toHaveLength(1);
    expect(await h.advance(1)).toBe(1);
    expect(h.http.requests).toHaveLength(2);
    expect((await h.run(run.id)).status).toBe("succeeded");
  });

  it("retries at once, without waiting as a due row, when delay_ms is 0", async () => {
    const h = makeHarness({ flows: [flow("f", [get({ retry: { max_attempts: 3, delay_ms: 0 } })])] });
    h.http.reply(reply(500), reply(500), reply(200));
    const run = await h.start("f");
    expect(run.status).toBe("succeeded");
    expect(h.store.commits.flat().some((w) => w.op === "updateRun" && w.set.status === "retrying")).toBe(false);
  });

  async function observedDelays(
    retry: Record<string, unknown>,
    failures: number,
    random?: () => number,
    replies?: ReturnType<typeof reply>[],
  ): Promise<number[]> {
    const h = makeHarness({ flows: [flow("f", [get({ retry })])], random });
    h.http.fallback = reply(500);
    if (replies) h.http.reply(...replies);
    const run = await h.start("f");
    const delays: number[] = [];
    for (let i = 0; i < failures; i++) {
      const r = await h.run(run.id);
      if (r.status !== "retrying") break;
      const delay = r.dueAt! - h.clock.now();
      delays.push(delay);
      await h.advance(delay);
    }
    return delays;
  }

  it("waits delay_ms between every attempt with constant backoff", async () => {
    expect(await observedDelays({ max_attempts: 4, delay_ms: 300 }, 4)).toEqual([300, 300, 300]);
  });

  it("multiplies the wait by multiplier after each attempt with exponential backoff", async () => {
    expect(await observedDelays({ max_attempts: 5, backoff: "exponential", delay_ms: 100, multiplier: 3 }, 5)).toEqual([
      100, 300, 900, 2700,
    ]);
  });

  it("caps exponential waits at max_delay_ms", async () => {
    expect(
      await observedDelays({ max_attempts: 5, backoff: "exponential", delay_ms: 1000, max_delay_ms: 3000 }, 5),
    ).toEqual([1000, 2000, 3000, 3000]);
  });

  it("jitters waits between half and all of the delay using the engine's random source", async () => {
    expect(await observedDelays({ max_attempts: 3, delay_ms: 1000, jitter: true }, 3, () => 0)).toEqual([500, 500]);
    expect(await observedDelays({ max_attempts: 3, delay_ms: 1000, jitter: true }, 3, () => 0.5)).toEqual([750, 750]);
  });

  it("waits at least a 429's Retry-After seconds", async () => {
    expect(
      await observedDelays({ max_attempts: 2, delay_ms: 100 }, 2, undefined, [
        reply(429, "slow down", { "retry-after": "5" }),
      ]),
    ).toEqual([5000]);
  });

  it("waits at least a 503's Retry-After given as an HTTP date", async () => {
    const h = makeHarness({ flows: [flow("f", [get({ retry: { max_attempts: 2, delay_ms: 100 } })])] });
    const at = new Date(h.clock.now() + 8000).toUTCString();
    h.http.reply(reply(503, "", { "retry-after": at }), reply(200));
    const run = await h.start("f");
    expect(run.dueAt! - h.clock.now()).toBe(8000);
  });

  it("caps Retry-After by max_delay_ms", async () => {
    expect(
      await observedDelays({ max_attempts: 2, delay_ms: 100, max_delay_ms: 2000 }, 2, undefined, [
        reply(429, "", { "retry-after": "60" }),
      ]),
    ).toEqual([2000]);
  });

  it("ignores Retry-After on statuses other than 429 and 503", async () => {
    expect(
      await observedDelays({ max_attempts: 2, delay_ms: 100 }, 2, undefined, [reply(500, "", { "retry-after": "60" })]),
    ).toEqual([100]);
  });
});

describe("which failures are retried", () => {
  it("does not retry error types missing from retry_on", async () => {
    const h = makeHarness({
      flows: [flow("f", [get({ retry: { max_attempts: 3, retry_on: ["timeout", "network"] } })])],
    });
    h.http.fallback = reply(500);
    const run = await h.start("f");
    expect(h.http.requests).toHaveLength(1);
    expect(run.error).toMatchObject({ type: "http_status", attempts: 1 });
  });

  it("retries error types listed in retry_on", async () => {
    const h = makeHarness({ flows: [flow("f", [get({ retry: { max_attempts: 3, retry_on: ["http_status"] } })])] });
    h.http.reply(reply(500), reply(200));
    expect((await h.start("f")).status).toBe("succeeded");
  });

  it("fails at once on a non_retryable error type", async () => {
    const h = makeHarness({
      flows: [flow("f", [get({ retry: { max_attempts: 3, non_retryable: ["permission_denied"] } })])],
    });
    h.http.fallback = reply(403);
    const run = await h.start("f");
    expect(h.http.requests).toHaveLength(1);
    expect(run.error).toMatchObject({ type: "permission_denied", attempts: 1 });
  });

  it("does not retry a template error by default", async () => {
    const h = makeHarness({
      flows: [flow("f", [{ id: "c", compute: "{{ input.missing }}", retry: { max_attempts: 3 } }])],
    });
    const run = await h.start("f");
    expect(run.error).toMatchObject({ type: "template", attempts: 1 });
    expect(await h.attemptsOf(run.id, "c")).toHaveLength(1);
  });
});

describe("layering of retry policies", () => {
  it("lets a step's retry override its flow's field by field", async () => {
    const h = makeHarness({
      flows: [flow("f", [get({ retry: { max_attempts: 3 } })], { retry: { max_attempts: 2, delay_ms: 500 } })],
    });
    h.http.fallback = reply(500);
    const run = await h.start("f");
    expect(run.dueAt! - h.clock.now()).toBe(500);
    await h.advance(500);
    await h.advance(500);
    expect(h.http.requests).toHaveLength(3);
    expect((await h.run(run.id)).status).toBe("failed");
  });

  it("lets a flow's retry override the global defaults field by field", async () => {
    const h = makeHarness({
      defaults: { retry: { max_attempts: 3, delay_ms: 50 } },
      flows: [flow("f", [get()], { retry: { delay_ms: 70 } })],
    });
    h.http.fallback = reply(500);
    const run = await h.start("f");
    expect(run.dueAt! - h.clock.now()).toBe(70);
    await h.advance(70);
    await h.advance(70);
    expect(h.http.requests).toHaveLength(3);
    expect((await h.run(run.id)).error?.attempts).toBe(3);
  });

  it("uses the global default retry when neither flow nor step sets one", async () => {
    const h = makeHarness({ defaults: { retry: { max_attempts: 2 } }, flows: [flow("f", [get()])] });
    h.http.reply(reply(500), reply(200));
    expect((await h.start("f")).status).toBe("succeeded");
  });

  it("applies a step's policy only to that step", async () => {
    const h = makeHarness({
      flows: [flow("f", [{ id: "a", http: { method: "GET", url: URL_A }, retry: { max_attempts: 3 } }, get()])],
    });
    h.http.reply(reply(200), reply(500), reply(200));
    const run = await h.start("f");
    expect(run.status).toBe("failed");
    expect(run.error).toMatchObject({ step: "call", attempts: 1 });
  });
});
