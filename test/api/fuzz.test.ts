// fast-check drives the real app (real SQLite) through app.request(): only 2xx/4xx, never a 500.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Hono } from "hono";
import { createApp } from "../../src/app";
import { startTestServer, type TestServer } from "./server";

let s: TestServer;
let app: Hono;
beforeAll(async () => {
  s = await startTestServer({ MEND_MAX_BODY: "4096" });
  app = createApp(s.deps);
  await s.putFlow({
    name: "typed",
    input: {
      type: "object",
      required: ["n"],
      properties: { n: { type: "integer", minimum: 0 }, tags: { type: "array", items: { type: "string" } } },
    },
    steps: [
      { id: "a", compute: { n: "{{ input.n }}", doubled: "{{ input.n }}{{ input.n }}" } },
      { id: "b", compute: "{{ steps.a.n }}" },
    ],
  });
  // A failed run's ?wait=true answer defaults to 500 by design (SPEC §4); this flow maps it to 422
  // so that any 5xx the fuzzer finds is a real fault.
  await s.putFlow({
    name: "loose",
    error: { status: 422 },
    steps: [{ id: "a", compute: "{{ input.anything.deep }}" }],
  });
});
afterAll(() => s.stop());

const contentTypes = fc.constantFrom(
  undefined,
  "application/json",
  "application/json; charset=utf-8",
  "text/plain",
  "application/yaml",
  "multipart/form-data",
  "application/vnd.api+json",
  "",
);
const bodies = fc.oneof(
  fc.json().map((j) => j),
  fc.string(),
  fc.jsonValue().map((v) => JSON.stringify({ n: v })),
  fc.record({ n: fc.integer(), tags: fc.array(fc.string()) }).map((v) => JSON.stringify(v)),
  fc.string({ minLength: 4000, maxLength: 6000 }),
);
const names = fc.oneof(
  fc.constantFrom("typed", "loose", "missing"),
  fc.string({ maxLength: 80 }).map(encodeURIComponent),
);

describe("fuzzing", () => {
  it("POST /hooks/:flow answers only 2xx or 4xx JSON for any body, content type and flow name", async () => {
    await fc.assert(
      fc.asyncProperty(names, bodies, contentTypes, fc.boolean(), async (name, body, type, wait) => {
        const headers: Record<string, string> = {};
        if (type !== undefined) headers["content-type"] = type;
        const res = await app.request(`/hooks/${name}${wait ? "?wait=true" : ""}`, { method: "POST", body, headers });
        expect(res.status, `${res.status} for ${name} ${type} ${body.slice(0, 80)}`).toBeLessThan(500);
        const json = await res.json();
        // A refused request says why in `error`; a failed run's answer carries the error context.
        if (res.status >= 400)
          expect(
            typeof json.error === "string" ||
              (typeof json.run_id === "string" && typeof json.error.message === "string"),
          ).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it("PUT /api/flows/:name answers only 2xx or 4xx for any JSON document", async () => {
    const step = fc.record(
      {
        id: fc.string({ maxLength: 10 }),
        compute: fc.jsonValue(),
        http: fc.anything(),
        retry: fc.anything(),
        fail: fc.anything(),
        sleep: fc.record({ ms: fc.integer() }),
      },
      { requiredKeys: [] },
    );
    const flow = fc.record(
      {
        name: fc.constantFrom("fz", "Bad Name", ""),
        steps: fc.oneof(fc.array(step, { maxLength: 3 }), fc.jsonValue()),
        retry: fc.anything(),
        input: fc.jsonValue(),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(fc.oneof(flow, fc.jsonValue()), async (doc) => {
        const res = await app.request("/api/flows/fz", {
          method: "PUT",
          body: JSON.stringify(doc) ?? "null",
          headers: { "content-type": "application/json" },
        });
        expect(res.status).toBeLessThan(500);
        if (res.status === 400) {
          const body = await res.json();
          for (const i of body.issues ?? []) expect(typeof i.path).toBe("string");
        }
      }),
      { numRuns: 200 },
    );
  });
});
