// fast-check drives the hub's routes through app.request() on the real app and SQLite:
// any body gets 2xx or a 4xx JSON answer naming fields, never a 5xx, and a refused body stores nothing.
import fc from "fast-check";
import type { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import { startTestServer, type TestServer } from "../api/server";

let s: TestServer;
let app: Hono;
beforeAll(async () => {
  s = await startTestServer({ MEND_MAX_BODY: "8192" });
  app = createApp(s.deps);
});
afterAll(() => s.stop());

const post = (path: string, body: string) =>
  app.request(path, { method: "POST", body, headers: { "content-type": "application/json" } });
const runCount = async () => (await s.deps.runs.listRuns({ limit: 10_000 })).runs.length;

const anyish = fc.oneof(fc.jsonValue(), fc.constantFrom(undefined, null, "", "x", 0, -1, true, [], {}));
// Bodies close to the accepted shapes, with fields dropped, swapped or malformed.
const mendLike = fc.record(
  {
    source: fc.oneof(fc.constantFrom("ci", "cron.host-1", "bad source", ""), anyish),
    job: fc.oneof(fc.constantFrom("nightly", ""), anyish),
    step: anyish,
    error: fc.oneof(
      fc.record(
        {
          message: fc.oneof(fc.string(), anyish),
          type: fc.oneof(fc.constantFrom("runtime", "timeout", "nope"), anyish),
        },
        { requiredKeys: [] },
      ),
      anyish,
    ),
    input: anyish,
    link: fc.oneof(fc.constantFrom("https://ci.example/1", "ftp://x", "nope"), anyish),
    retry_url: fc.oneof(
      fc.constantFrom("http://127.0.0.1:1/r", "http://169.254.169.254/", "http://[fd00:ec2::254]/"),
      anyish,
    ),
    status: fc.oneof(fc.constantFrom("failed", "succeeded", "meh"), anyish),
  },
  { requiredKeys: [] },
);
const windmillLike = fc.record(
  {
    path: anyish,
    email: anyish,
    error: fc.oneof(fc.record({ message: anyish, name: anyish, step_id: anyish }, { requiredKeys: [] }), anyish),
    job_id: fc.oneof(fc.uuid(), anyish),
    is_flow: anyish,
    workspace_id: fc.oneof(fc.constantFrom("acme"), anyish),
    retry_url: anyish,
  },
  { requiredKeys: ["job_id", "workspace_id"] },
);
const n8nLike = fc.record(
  {
    execution: fc.oneof(
      fc.record(
        {
          id: anyish,
          url: anyish,
          error: fc.oneof(fc.record({ message: anyish, stack: anyish }, { requiredKeys: [] }), anyish),
          lastNodeExecuted: anyish,
          mode: anyish,
        },
        { requiredKeys: [] },
      ),
      anyish,
    ),
    trigger: anyish,
    workflow: fc.oneof(fc.record({ id: anyish, name: anyish }, { requiredKeys: [] }), anyish),
  },
  { requiredKeys: ["workflow"] },
);

describe("hub fuzzing", () => {
  it("POST /api/failures answers 202 or a 4xx naming fields for any body, and stores only accepted failures", async () => {
    const before = await runCount();
    let created = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          mendLike,
          windmillLike,
          n8nLike,
          n8nLike.map((x) => [x]),
          fc.jsonValue(),
        ),
        async (doc) => {
          const res = await post("/api/failures", JSON.stringify(doc) ?? "null");
          expect(res.status, JSON.stringify(doc)).toBeLessThan(500);
          const body = (await res.json()) as {
            status?: string;
            error?: string;
            issues?: { path: string; message: string }[];
          };
          if (res.status === 202 && body.status === "failed") created++;
          if (res.status >= 400) {
            expect(typeof body.error).toBe("string");
            expect(body.error).not.toMatch(/\n\s+at /);
            for (const i of body.issues ?? [])
              expect(typeof i.path === "string" && typeof i.message === "string").toBe(true);
          }
        },
      ),
      { numRuns: 400 },
    );
    expect(await runCount()).toBe(before + created);
  });

  it("POST /api/silences answers 201 or a 4xx naming fields for any body", async () => {
    const silenceLike = fc.record(
      {
        flow: anyish,
        step: anyish,
        error_type: fc.oneof(fc.constantFrom("timeout", "x"), anyish),
        ends_at: fc.oneof(
          fc.date().map((d) => (Number.isNaN(d.getTime()) ? "bad" : d.toISOString())),
          anyish,
        ),
        duration_s: fc.oneof(fc.double(), anyish),
        created_by: anyish,
        comment: anyish,
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(fc.oneof(silenceLike, fc.jsonValue()), async (doc) => {
        const res = await post("/api/silences", JSON.stringify(doc) ?? "null");
        expect([201, 400], JSON.stringify(doc)).toContain(res.status);
        const body = (await res.json()) as { error?: string; issues?: { path: string }[] };
        if (res.status === 400) expect(typeof body.error).toBe("string");
      }),
      { numRuns: 300 },
    );
  });
});
