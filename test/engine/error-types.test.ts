// Every error type of SPEC section 3 as it reaches the run.
import { describe, expect, it } from "vitest";
import { EngineError, StepError, coerceError } from "../../src/engine/errors";
import { flow, hang, makeHarness, URL_A } from "./harness";

describe("error types of failing steps", () => {
  it("reports a script that throws as a runtime error with its message", async () => {
    const h = makeHarness({
      scripts: {
        boom: () => {
          throw new Error("kaboom");
        },
      },
      flows: [flow("f", [{ id: "s", script: { name: "boom" } }])],
    });
    const run = await h.start("f");
    expect(run.status).toBe("failed");
    expect(run.error).toEqual({
      message: "kaboom",
      type: "runtime",
      step: "s",
      attempts: 1,
      status: null,
      details: {},
    });
  });

  it("reports a script whose promise rejects as a runtime error", async () => {
    const h = makeHarness({
      scripts: { boom: async () => Promise.reject(new Error("later")) },
      flows: [flow("f", [{ id: "s", script: { name: "boom" } }])],
    });
    expect((await h.start("f")).error).toMatchObject({ message: "later", type: "runtime" });
  });

  it("reports a script that throws a string as a runtime error", async () => {
    const h = makeHarness({
      scripts: {
        boom: () => {
          throw "just text";
        },
      },
      flows: [flow("f", [{ id: "s", script: { name: "boom" } }])],
    });
    expect((await h.start("f")).error).toMatchObject({ message: "just text", type: "runtime" });
  });

  it("reports an unknown script name as a runtime error", async () => {
    const h = makeHarness({ flows: [flow("f", [{ id: "s", script: { name: "nope" } }])] });
    expect((await h.start("f")).error).toMatchObject({ type: "runtime", message: expect.stringContaining("nope") });
  });

  it("passes rendered args and the run's context to a script", async () => {
    let got: unknown;
    let ctx: unknown;
    const h = makeHarness({
      scripts: {
        echo: (args, c) => {
          got = args;
          ctx = c;
          return { ok: true };
        },
      },
      flows: [
        flow("f", [
          { id: "a", compute: 5 },
          { id: "s", script: { name: "echo", args: { n: "{{ steps.a }}", who: "{{ input.who }}" } } },
        ]),
      ],
    });
    const run = await h.start("f", { who: "me" });
    expect(got).toEqual({ n: 5, who: "me" });
    expect(ctx).toMatchObject({
      input: { who: "me" },
      steps: { a: 5 },
      run: { id: run.id, flow: "f", flow_version: 1, attempt: 1 },
    });
    expect(run.output).toEqual({ ok: true });
  });

  it("fails a fail step with runtime type and message 'failed' by default", async () => {
    const h = makeHarness({ flows: [flow("f", [{ id: "guard", fail: {} }])] });
    expect((await h.start("f")).error).toMatchObject({ message: "failed", type: "runtime", step: "guard" });
  });

  it("fails a fail step with its own templated message and type", async () => {
    const h = makeHarness({
      flows: [flow("f", [{ id: "guard", fail: { message: "bad {{ input.x }}", type: "validation" } }])],
    });
    expect((await h.start("f", { x: 42 })).error).toMatchObject({ message: "bad 42", type: "validation" });
  });

  it("fails a step with a template error when a path is missing", async () => {
    const h = makeHarness({ flows: [flow("f", [{ id: "c", compute: { city: "{{ input.city }}" } }])] });
    const run = await h.start("f", {});
    expect(run.error).toMatchObject({ type: "template", step: "c", message: expect.stringContaining("input.city") });
  });

  it("does not fail on a path whose value is null", async () => {
    const h = makeHarness({ flows: [flow("f", [{ id: "c", compute: { city: "{{ input.city }}" } }])] });
    const run = await h.start("f", { city: null });
    expect(run.status).toBe("succeeded");
    expect(run.output).toEqual({ city: null });
  });

  it("refuses input that fails the flow's schema with a validation EngineError and stores no run", async () => {
    const h = makeHarness({
      flows: [
        flow("f", [{ id: "c", compute: 1 }], {
          input: { type: "object", required: ["city"], properties: { city: { type: "string" } } },
        }),
      ],
    });
    const err = await h.engine.start({ flow: "f", input: { city: 5 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineError);
    expect((err as EngineError).code).toBe("invalid");
    expect((err as EngineError).issues).toEqual([{ path: "input.city", message: expect.any(String) }]);
    expect(h.store.listRuns()).toHaveLength(0);
  });

  it("starts a run whose input matches the schema", async () => {
    const h = makeHarness({
      flows: [flow("f", [{ id: "c", compute: "{{ input.city }}" }], { input: { type: "object", required: ["city"] } })],
    });
    expect((await h.start("f", { city: "Oslo" })).output).toBe("Oslo");
  });

  it("refuses an unknown flow with a not_found EngineError", async () => {
    const h = makeHarness();
    await expect(h.engine.start({ flow: "ghost", input: {} })).rejects.toMatchObject({
      name: "EngineError",
      code: "not_found",
    });
  });

  it("marks an attempt cut short by cancel as a cancelled error", async () => {
    const h = makeHarness({ flows: [flow("f", [{ id: "call", http: { method: "GET", url: URL_A } }])] });
    h.http.fallback = hang;
    const run = await h.start("f");
    await h.engine.cancel(run.id);
    await h.settle();
    const [a] = await h.attemptsOf(run.id, "call");
    expect(a).toMatchObject({ status: "failed", error: { type: "cancelled" } });
  });
});

describe("coerceError", () => {
  it("keeps StepErrors as they are", () => {
    const e = new StepError("x", "network");
    expect(coerceError(e)).toBe(e);
  });

  it("turns an AbortError or TimeoutError into a timeout", () => {
    expect(coerceError(new DOMException("t", "TimeoutError")).type).toBe("timeout");
    expect(coerceError(Object.assign(new Error("a"), { name: "AbortError" })).type).toBe("timeout");
  });

  it("keeps an error type a thrown Error carries", () => {
    expect(coerceError(Object.assign(new Error("denied"), { type: "permission_denied" })).type).toBe(
      "permission_denied",
    );
    expect(coerceError(Object.assign(new Error("x"), { type: "not-a-type" })).type).toBe("runtime");
  });

  it("describes thrown non-errors", () => {
    expect(coerceError({ a: 1 }).message).toContain('{"a":1}');
    expect(coerceError(undefined).type).toBe("runtime");
  });
});
