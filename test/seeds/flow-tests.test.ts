// SPEC §12 flow tests: POST /api/flows/:name/test runs a flow with mocks and stores, alerts and calls nothing.
import { afterEach, describe, expect, it } from "vitest";
import { json, makeApp } from "./app";

let h: ReturnType<typeof makeApp>;
afterEach(async () => h?.close());

const weather = {
  name: "weather",
  retry: { max_attempts: 3, delay_ms: 60_000 },
  steps: [
    { id: "fetch_weather", http: { method: "GET", url: "https://api.weather.com/current?city={{ input.city }}" } },
    { id: "format", compute: { temperature: "{{ steps.fetch_weather.body.temp }}", source: "live" } },
  ],
  on_failure: [
    { id: "tell", script: { name: "slack", args: { channel: "C1" } } },
    { id: "fallback", compute: { temperature: null, source: "unavailable", error: "{{ error.message }}" } },
  ],
};

describe("POST /api/flows/:name/test", () => {
  it("runs with the mocked result and stores nothing", async () => {
    h = makeApp();
    await h.putFlow(weather);
    const res = await h.request("POST", "/api/flows/weather/test", {
      input: { city: "Oslo" },
      mocks: { fetch_weather: { output: { status: 200, body: { temp: 72 } } } },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body).toMatchObject({
      status: "succeeded",
      output: { temperature: 72, source: "live" },
      error: null,
      alerts: [],
    });
    expect(body.steps.map((s: any) => `${s.step}:${s.status}`)).toEqual([
      "fetch_weather:succeeded",
      "format:succeeded",
    ]);
    expect(((await (await h.request("GET", "/api/runs")).json()) as any).runs).toEqual([]);
    expect(h.calls).toEqual([]);
  });

  it("a mocked error uses the retries (on a virtual clock) and the handler, and answers the alerts that would be sent", async () => {
    h = makeApp();
    await h.request("POST", "/api/handlers", { name: "ops-log", kind: "log", config: {} });
    await h.putFlow(weather);
    const started = Date.now();
    const res = await h.request("POST", "/api/flows/weather/test", {
      input: { city: "Oslo" },
      mocks: {
        fetch_weather: { error: { message: "GET returned 503", type: "http_status", status: 503 } },
        tell: { output: { ok: true } },
      },
    });
    const body = (await res.json()) as any;
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(body).toMatchObject({ status: "recovered", output: { source: "unavailable", error: "GET returned 503" } });
    expect(body.steps.filter((s: any) => s.step === "fetch_weather")).toHaveLength(3);
    expect(body.alerts).toEqual([
      {
        handler: "ops-log",
        kind: "log",
        silenced: false,
        error: { type: "http_status", step: "fetch_weather", message: "GET returned 503" },
      },
      { handler: null, kind: "slack", step: "tell", via: "script" },
    ]);
    await new Promise((r) => setTimeout(r, 50));
    expect(h.logs.filter((l) => l.includes("alert:"))).toEqual([]);
    expect(h.calls).toEqual([]);
  });

  it("fails an unmocked call with a validation error unless live: true", async () => {
    h = makeApp();
    await h.putFlow({ name: "calls", steps: [{ id: "call", http: { method: "GET", url: "http://svc.test/x" } }] });
    let body = (await (await h.request("POST", "/api/flows/calls/test", {})).json()) as any;
    expect(body).toMatchObject({
      status: "failed",
      error: { type: "validation", message: expect.stringContaining("no mock for step 'call'") },
    });
    expect(h.calls).toEqual([]);
    h.routes.push(() => json(200, { live: true }));
    body = (await (await h.request("POST", "/api/flows/calls/test", { live: true })).json()) as any;
    expect(body).toMatchObject({ status: "succeeded", output: { body: { live: true } } });
    expect(h.calls).toEqual(["GET http://svc.test/x"]);
  });

  it("refuses a bad body with 400 and an unknown flow with 404", async () => {
    h = makeApp();
    await h.putFlow(weather);
    const bad = await h.request("POST", "/api/flows/weather/test", { mocks: { x: { nope: 1 } } });
    expect(bad.status).toBe(400);
    expect((await h.request("POST", "/api/flows/missing/test", {})).status).toBe(404);
  });
});
