// SPEC §12, Semaphore's error objects: templated status, params, schema, any depth, on_error.
import { afterEach, describe, expect, it } from "vitest";
import { json, makeApp } from "./app";

let h: ReturnType<typeof makeApp>;
afterEach(async () => h?.close());

const failing = (extra: Record<string, unknown>, status = 404, body: unknown = { reason: "no such city" }) => {
  h.routes.push(() => json(status, body));
  return {
    name: "semaphore",
    steps: [
      { id: "prepare", compute: { trace: "{{ input.trace }}" } },
      { id: "query", http: { method: "GET", url: "http://svc.test/throw" } },
    ],
    ...extra,
  };
};

describe("error objects", () => {
  it("takes the caller's status from a template, fills params, headers and a nested body keeping types", async () => {
    h = makeApp();
    const flow = failing({
      on_error: {
        status: "{{ error:status }}",
        message: "{{ error:message }}",
        params: { trace: "{{ steps.prepare.trace }}", level: "critical", count: "{{ input.n }}" },
        headers: { "X-Trace": "{{ error.params:trace }}" },
        body: {
          meta: { trace: "{{ error.params:trace }}", n: "{{ input.n }}", list: ["{{ run.flow }}", "{{ input.nope }}"] },
        },
      },
    });
    expect((await h.putFlow(flow)).status).toBe(201);
    const res = await h.trigger("semaphore", { trace: "t-1", n: 3 });
    expect(res.status).toBe(404);
    expect(res.headers.get("x-trace")).toBe("t-1");
    const body = (await res.json()) as Record<string, any>;
    expect(body.meta).toEqual({ trace: "t-1", n: 3, list: ["semaphore", null] });
    expect(body.error.message).toBe("GET http://svc.test/throw returned 404");
    expect(body.error.params).toEqual({ trace: "t-1", level: "critical", count: 3 });
  });

  it("answers 500 when the status template does not give an integer 400-599", async () => {
    h = makeApp();
    await h.putFlow(failing({ error: { status: "{{ input.code }}" } }));
    expect((await h.trigger("semaphore", { code: 200 })).status).toBe(500);
    h.routes.push(() => json(404, {}));
    expect((await h.trigger("semaphore", { code: "nope" })).status).toBe(500);
    h.routes.push(() => json(404, {}));
    expect((await h.trigger("semaphore", { code: 418 })).status).toBe(418);
  });

  it("a step's on_error overrides the flow's, and references to steps that did not run render null", async () => {
    h = makeApp();
    const flow = failing({ error: { status: 502, message: "flow" } });
    const steps = flow.steps as Record<string, unknown>[];
    steps[1]!.on_error = {
      status: 401,
      message: "global error message {{ steps.after.x }} {{ failed.status }} {{ steps.prepare.trace }}",
    };
    steps.push({ id: "after", compute: { x: 1 } });
    expect((await h.putFlow(flow)).status).toBe(201);
    const res = await h.trigger("semaphore", { trace: "t-2" });
    expect(res.status).toBe(401);
    expect(((await res.json()) as any).error.message).toBe("global error message null 404 t-2");
  });

  it("decodes a JSON error body with the schema; a body failing it stays a string and the alert says so", async () => {
    h = makeApp();
    const schema = { type: "object", required: ["reason"], properties: { reason: { type: "string" } } };
    await h.putFlow(failing({ error: { schema, message: "{{ error.details.body.reason }}" } }));
    let res = await h.trigger("semaphore", { trace: "t" });
    let body = (await res.json()) as any;
    expect(body.error.details.body).toEqual({ reason: "no such city" });
    expect(body.error.message).toBe("no such city");

    h.routes.push(() => json(500, { code: 7 }));
    res = await h.trigger("semaphore", { trace: "t" });
    body = (await res.json()) as any;
    expect(body.error.details.body).toBe('{"code":7}');
    expect(body.error.details.schema_error).toMatch(/reason/);
    expect(body.error.message).toBe("null");
    await new Promise((r) => setTimeout(r, 100));
    expect(h.logs.some((l) => l.includes("alert:") && l.includes("does not match the error object's schema"))).toBe(
      true,
    );
  });

  it("refuses a status that is neither an integer 400-599 nor one template, and error plus on_error", async () => {
    h = makeApp();
    let res = await h.putFlow({ name: "bad", error: { status: "5{{ x }}" }, steps: [{ id: "a", compute: 1 }] });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).issues[0].path).toBe("error.status");
    res = await h.putFlow({
      name: "bad",
      error: { status: 502 },
      on_error: { status: 503 },
      steps: [{ id: "a", compute: 1 }],
    });
    expect(((await res.json()) as any).issues[0].path).toBe("on_error");
  });
});
