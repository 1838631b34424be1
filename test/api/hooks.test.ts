import { createHmac } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./server";
import { startUpstream, type Upstream } from "../fakes/upstream";

let s: TestServer;
let up: Upstream;
beforeAll(async () => {
  up = await startUpstream();
  s = await startTestServer({ MEND_MAX_BODY: "2048" });
  await s.putFlow({
    name: "echo",
    input: { type: "object", required: ["city"], properties: { city: { type: "string" } } },
    steps: [{ id: "out", compute: { city: "{{ input.city }}" } }],
  });
});
afterAll(async () => {
  await s.stop();
  await up.close();
});

describe("POST /hooks/:flow", () => {
  it("answers 202 with a run id that is already committed", async () => {
    const res = await s.api("/hooks/echo", { method: "POST", json: { city: "Oslo" } });
    expect(res.status).toBe(202);
    const body = await res.json();
    expect(body).toEqual({ run_id: expect.any(String), status: "queued" });
    const run = await s.api(`/api/runs/${body.run_id}`);
    expect(run.status).toBe(200);
    expect((await s.waitForStatus(body.run_id, ["succeeded"])).output).toEqual({ city: "Oslo" });
  });

  it("with ?wait=true answers 200 with the output of a succeeded run", async () => {
    const res = await s.api("/hooks/echo?wait=true", { method: "POST", json: { city: "Rome" } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ run_id: expect.any(String), status: "succeeded", output: { city: "Rome" } });
  });

  it("answers 400 naming the field when the input fails the flow's schema, and starts no run", async () => {
    const before = (await (await s.api("/api/runs?flow=echo")).json()).runs.length;
    const res = await s.api("/hooks/echo", { method: "POST", json: { town: "x" } });
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.issues[0].path).toBe("input");
    expect(body.issues[0].message).toMatch(/city/);
    const after = (await (await s.api("/api/runs?flow=echo")).json()).runs.length;
    expect(after).toBe(before);
  });

  it("answers 404 for an unknown flow", async () => {
    const res = await s.api("/hooks/nope", { method: "POST", json: {} });
    expect(res.status).toBe(404);
    expect((await res.json()).error).toMatch(/nope/);
  });

  it("answers 400 for malformed JSON and 415 for a non-JSON content type", async () => {
    const bad = await s.api("/hooks/echo", {
      method: "POST",
      body: "{",
      headers: { "content-type": "application/json" },
    });
    expect(bad.status).toBe(400);
    const wrong = await s.api("/hooks/echo", {
      method: "POST",
      body: "city=x",
      headers: { "content-type": "text/plain" },
    });
    expect(wrong.status).toBe(415);
  });

  it("answers 413 for a body over MEND_MAX_BODY", async () => {
    const res = await s.api("/hooks/echo", { method: "POST", json: { city: "x".repeat(5000) } });
    expect(res.status).toBe(413);
    expect((await res.json()).error).toMatch(/MEND_MAX_BODY/);
  });

  it("answers a failed run with the layered error object: status, headers, message and body", async () => {
    await s.api("/api/defaults", {
      method: "PUT",
      json: { error: { status: 500, headers: { "x-a": "defaults", "x-b": "defaults" }, body: { source: "defaults" } } },
    });
    await s.putFlow({
      name: "weather",
      error: { status: 502, message: "weather unavailable: {{ error.message }}", headers: { "x-b": "flow" } },
      steps: [
        {
          id: "fetch_weather",
          http: { method: "GET", url: `${up.url}/current?city={{ input.city }}` },
          error: { headers: { "x-c": "step" }, body: { hint: "try later", city: "{{ input.city }}" } },
        },
      ],
    });
    up.script([{ status: 500, body: { oops: true } }]);
    const res = await s.api("/hooks/weather?wait=true", { method: "POST", json: { city: "Paris" } });
    await s.api("/api/defaults", { method: "PUT", json: {} });
    expect(res.status).toBe(502);
    expect(res.headers.get("x-a")).toBe("defaults");
    expect(res.headers.get("x-b")).toBe("flow");
    expect(res.headers.get("x-c")).toBe("step");
    const body = await res.json();
    expect(body).toMatchObject({
      status: "failed",
      hint: "try later",
      city: "Paris",
      error: {
        message: `weather unavailable: GET ${up.url}/current returned 500`,
        type: "http_status",
        step: "fetch_weather",
        attempts: 1,
        status: 500,
      },
    });
    expect(body.source).toBeUndefined();
  });

  it("with ?wait=true answers the fallback output of a recovered run", async () => {
    await s.putFlow({
      name: "recovers",
      steps: [{ id: "call", http: { method: "GET", url: `${up.url}/x` }, retry: { max_attempts: 2 } }],
      on_failure: [
        {
          id: "fallback",
          compute: { source: "unavailable", why: "{{ error.message }}", status: "{{ failed.status }}" },
        },
      ],
    });
    up.script([{ status: 503 }, { status: 503 }]);
    const res = await s.api("/hooks/recovers?wait=true", { method: "POST", json: {} });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "recovered", output: { source: "unavailable", status: 503 } });
  });
});

describe("authentication", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ MEND_API_TOKEN: "sekrit-token-0123456789" });
    await t.putFlow({ name: "private", steps: [{ id: "a", compute: 1 }] });
    await t.putFlow({ name: "open", webhook: { public: true }, steps: [{ id: "a", compute: 1 }] });
    await t.putFlow({
      name: "signed",
      webhook: { secret: "hook-secret-123" },
      steps: [{ id: "a", compute: "{{ input.n }}" }],
    });
  });
  afterAll(() => t.stop());
  const raw = (path: string, init: RequestInit = {}) => fetch(t.url + path, init);

  it("refuses /api/* and /hooks/* without the bearer token with 401", async () => {
    expect((await raw("/api/flows")).status).toBe(401);
    expect((await raw("/api/flows", { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
    const hook = await raw("/hooks/private", {
      method: "POST",
      body: "{}",
      headers: { "content-type": "application/json" },
    });
    expect(hook.status).toBe(401);
    expect((await hook.json()).error).toMatch(/token/);
    expect((await raw("/hooks/unknown", { method: "POST", body: "{}" })).status).toBe(401);
  });

  it("accepts the bearer token", async () => {
    expect((await raw("/api/flows", { headers: { authorization: "Bearer sekrit-token-0123456789" } })).status).toBe(
      200,
    );
  });

  it("lets anyone trigger a flow with webhook: { public: true }", async () => {
    expect(
      (await raw("/hooks/open", { method: "POST", body: "{}", headers: { "content-type": "application/json" } }))
        .status,
    ).toBe(202);
  });

  it("requires a valid X-Mend-Signature for a flow with a webhook secret", async () => {
    const body = JSON.stringify({ n: 7 });
    const good = "sha256=" + createHmac("sha256", "hook-secret-123").update(body).digest("hex");
    const ok = await raw("/hooks/signed?wait=true", {
      method: "POST",
      body,
      headers: { "content-type": "application/json", "x-mend-signature": good },
    });
    expect(ok.status).toBe(200);
    expect((await ok.json()).output).toBe(7);
    const bad = await raw("/hooks/signed", {
      method: "POST",
      body,
      headers: { "content-type": "application/json", "x-mend-signature": "sha256=00" },
    });
    expect(bad.status).toBe(401);
    const tokenOnly = await raw("/hooks/signed", {
      method: "POST",
      body,
      headers: { "content-type": "application/json", authorization: "Bearer sekrit-token-0123456789" },
    });
    expect(tokenOnly.status).toBe(401);
  });
});
