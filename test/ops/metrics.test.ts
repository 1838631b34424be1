// GET /metrics: the Prometheus names SPEC §13 lists, counted from real runs, behind the bearer token.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../api/server";
import { createHandler, failRun, waitUntil } from "../hub/helpers";

const TOKEN = "metrics-token-0123456789";
let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({ MEND_API_TOKEN: TOKEN });
});
afterAll(() => s.stop());

const scrape = async () => (await s.api("/metrics")).text();
const value = (text: string, series: string) =>
  Number(new RegExp(`^${series.replace(/[{}"\\]/g, "\\$&")} (\\S+)$`, "m").exec(text)?.[1] ?? NaN);

describe("/metrics", () => {
  it("needs the bearer token when MEND_API_TOKEN is set", async () => {
    const res = await fetch(`${s.url}/metrics`);
    expect(res.status).toBe(401);
  });

  it("counts runs, step attempts and alert deliveries, and reports the gauges and request durations", async () => {
    await createHandler(s, { name: "log", kind: "log" });
    expect((await s.putFlow({ name: "ok", steps: [{ id: "a", compute: { x: 1 } }] })).status).toBe(201);
    expect((await s.putFlow({ name: "bad", steps: [{ id: "boom", fail: { message: "no" } }] })).status).toBe(201);
    await failRun(s, "ok");
    await failRun(s, "ok");
    await failRun(s, "bad");
    await waitUntil(
      async () => value(await scrape(), 'mend_alert_deliveries_total{kind="log",outcome="delivered"}') === 1,
    );
    const res = await s.api("/metrics");
    expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(value(text, 'mend_runs_total{flow="ok",status="succeeded"}')).toBe(2);
    expect(value(text, 'mend_runs_total{flow="bad",status="failed"}')).toBe(1);
    expect(value(text, 'mend_step_attempts_total{flow="ok",step="a",outcome="succeeded"}')).toBe(2);
    expect(value(text, 'mend_step_attempts_total{flow="bad",step="boom",outcome="failed"}')).toBeGreaterThanOrEqual(1);
    expect(value(text, "mend_outbox_pending")).toBe(0);
    expect(value(text, "mend_runs_active")).toBe(0);
    expect(text).toMatch(
      /^mend_http_request_duration_seconds_count\{method="POST",route="\/hooks\/:flow",status="202"\} 3$/m,
    );
  });

  it("writes one access line per request: method, path without the query, status, ms", async () => {
    s.logs.length = 0;
    await s.api("/healthz?token=hunter2");
    const line = s.logs.find((l) => l.startsWith("info request "))!;
    const fields = JSON.parse(line.slice("info request ".length)) as Record<string, unknown>;
    expect(fields).toMatchObject({ method: "GET", path: "/healthz", status: 200 });
    expect(typeof fields.ms).toBe("number");
    expect(line).not.toContain("hunter2");
  });
});
