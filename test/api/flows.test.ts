import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./server";

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer();
});
afterAll(() => s.stop());

const hello = { name: "greet", description: "says hello", steps: [{ id: "a", compute: { hi: "{{ input.name }}" } }] };

describe("PUT /api/flows/:name", () => {
  it("creates a flow as version 1 with 201, and an unchanged PUT keeps the version with 200", async () => {
    const first = await s.putFlow(hello);
    expect(first.status).toBe(201);
    expect(await first.json()).toEqual({ name: "greet", version: 1 });
    const same = await s.putFlow(hello);
    expect(same.status).toBe(200);
    expect(await same.json()).toEqual({ name: "greet", version: 1 });
  });

  it("stores every change as a new immutable version and lists the versions", async () => {
    await s.putFlow({ ...hello, name: "versioned" });
    const changed = await s.putFlow({ ...hello, name: "versioned", description: "v2" });
    expect(await changed.json()).toEqual({ name: "versioned", version: 2 });
    const v1 = await (await s.api("/api/flows/versioned?version=1")).json();
    expect(v1.definition.description).toBe("says hello");
    const latest = await (await s.api("/api/flows/versioned")).json();
    expect(latest.version).toBe(2);
    expect(latest.versions.map((v: { version: number }) => v.version)).toEqual([1, 2]);
    expect(latest.versions[0].created_at).toMatch(/^\d{4}-\d\d-\d\dT.*Z$/);
    const list = await (await s.api("/api/flows")).json();
    expect(list.flows).toContainEqual({ name: "versioned", version: 2, description: "v2" });
  });

  it("gives concurrent changes of one flow distinct versions instead of failing", async () => {
    const { parseFlow } = await import("../../src/engine/flow");
    const flows = Array.from({ length: 8 }, (_, i) => {
      const parsed = parseFlow({ name: "racy", description: `v${i}`, steps: [{ id: "a", compute: i }] });
      if (!parsed.ok) throw new Error("bad test flow");
      return parsed.value;
    });
    const results = await Promise.all(flows.map((f) => s.deps.flows.put(f, Date.now())));
    expect(results.map((r) => r.version).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const detail = await (await s.api("/api/flows/racy")).json();
    expect(detail.versions).toHaveLength(8);
  });

  it("accepts YAML with Content-Type application/yaml", async () => {
    const yaml = "name: from-yaml\nsteps:\n  - id: one\n    compute: 42\n";
    const res = await s.api("/api/flows/from-yaml", {
      method: "PUT",
      body: yaml,
      headers: { "content-type": "application/yaml" },
    });
    expect(res.status).toBe(201);
    const run = await s.api("/hooks/from-yaml?wait=true", { method: "POST", json: {} });
    expect((await run.json()).output).toBe(42);
  });

  it("answers 400 naming every bad field by its dotted path, and stores nothing", async () => {
    const res = await s.putFlow({
      name: "broken",
      retry: { max_attempts: 0 },
      steps: [{ id: "a", http: { method: "GET", url: "not a url" } }, { id: "a", compute: 1 }, { id: "b" }],
    });
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(typeof body.error).toBe("string");
    const paths = body.issues.map((i: { path: string }) => i.path);
    expect(paths).toEqual(expect.arrayContaining(["retry.max_attempts", "steps.0.http.url", "steps.2", "steps.1.id"]));
    expect((await s.api("/api/flows/broken")).status).toBe(404);
  });

  it("refuses a template root that does not exist and a step it cannot find", async () => {
    const res = await s.putFlow({
      name: "badtpl",
      steps: [
        { id: "a", compute: "{{ nope.x }}" },
        { id: "b", compute: "{{ steps.zzz.y }}" },
      ],
    });
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: "steps.0" }),
        expect.objectContaining({ path: "steps.1" }),
      ]),
    );
  });

  it("answers 400 when the body names another flow than the URL", async () => {
    const res = await s.api("/api/flows/one", { method: "PUT", json: { ...hello, name: "two" } });
    expect(res.status).toBe(400);
    expect((await res.json()).issues[0].path).toBe("name");
  });

  it("answers 415 for a content type that is neither JSON nor YAML", async () => {
    const res = await s.api("/api/flows/x", {
      method: "PUT",
      body: "name=x",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(res.status).toBe(415);
    expect((await res.json()).error).toMatch(/application\/json/);
  });

  it("answers 400 for malformed JSON with a one-line error and no stack trace", async () => {
    const res = await s.api("/api/flows/x", {
      method: "PUT",
      body: "{nope",
      headers: { "content-type": "application/json" },
    });
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(text).not.toMatch(/at .*\.ts:\d+/);
    expect(JSON.parse(text).error).toMatch(/not valid JSON/);
  });

  it("answers 404 JSON for an unknown flow and an unknown route", async () => {
    expect((await s.api("/api/flows/missing")).status).toBe(404);
    const res = await s.api("/api/nothing-here");
    expect(res.status).toBe(404);
    expect((await res.json()).error).toBeTruthy();
  });
});

describe("PUT /api/defaults", () => {
  it("replaces the defaults, validates them, and a flow's runs use them", async () => {
    const bad = await s.api("/api/defaults", { method: "PUT", json: { retry: { backoff: "sometimes" } } });
    expect(bad.status).toBe(400);
    expect((await bad.json()).issues[0].path).toBe("retry.backoff");
    const res = await s.api("/api/defaults", {
      method: "PUT",
      json: { retry: { max_attempts: 2 }, error: { status: 503 } },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ retry: { max_attempts: 2 }, error: { status: 503 } });
    await s.putFlow({ name: "uses-defaults", steps: [{ id: "boom", fail: { message: "nope" } }] });
    const run = await s.api("/hooks/uses-defaults?wait=true", { method: "POST", json: {} });
    expect(run.status).toBe(503);
    expect((await run.json()).error.attempts).toBe(2);
    await s.api("/api/defaults", { method: "PUT", json: {} });
  });
});

describe("GET /healthz", () => {
  it("answers ok when the database answers", async () => {
    const res = await s.api("/healthz");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
  });
});
