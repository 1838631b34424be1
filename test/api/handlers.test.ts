import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AlertPayload } from "../../src/engine/ports";
import { DeliveryError } from "../../src/handlers/types";
import { startTestServer, type TestServer } from "./server";

let s: TestServer;
const delivered: { config: Record<string, unknown>; payload: AlertPayload }[] = [];
let failuresLeft = 0;

beforeAll(async () => {
  s = await startTestServer(
    {},
    {
      outboxSchedule: [40, 40, 40],
      senders: {
        // Stands in for a chat platform: fails while failuresLeft > 0, asking for a 100 ms pause.
        webhook: async (config, payload) => {
          if (failuresLeft > 0) {
            failuresLeft--;
            throw new DeliveryError("429 too many requests", 100);
          }
          delivered.push({ config, payload });
          return { ok: true };
        },
      },
    },
  );
});
afterAll(() => s.stop());

const createHandler = (body: unknown) => s.api("/api/handlers", { method: "POST", json: body });

async function waitUntil(check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error("condition not reached");
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("/api/handlers", () => {
  it("registers, lists, changes and removes a handler", async () => {
    const res = await createHandler({
      name: "ops-hook",
      kind: "webhook",
      config: { url: "http://127.0.0.1:1/x" },
      match: { flows: ["billing-*"] },
    });
    expect(res.status).toBe(201);
    const h = await res.json();
    expect(h).toMatchObject({
      id: expect.any(String),
      name: "ops-hook",
      kind: "webhook",
      enabled: true,
      match: { flows: ["billing-*"] },
    });
    expect(h.config.secret).toMatch(/^whsec_/);
    expect((await (await s.api("/api/handlers")).json()).handlers.map((x: { id: string }) => x.id)).toContain(h.id);
    const patched = await s.api(`/api/handlers/${h.id}`, { method: "PATCH", json: { enabled: false } });
    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({ id: h.id, enabled: false, config: { secret: h.config.secret } });
    expect((await s.api(`/api/handlers/${h.id}`, { method: "DELETE" })).status).toBe(204);
    expect((await s.api(`/api/handlers/${h.id}`, { method: "DELETE" })).status).toBe(404);
  });

  it("answers 400 naming the bad fields of a handler", async () => {
    const res = await createHandler({ name: "", kind: "pager", config: {} });
    expect(res.status).toBe(400);
    const paths = (await res.json()).issues.map((i: { path: string }) => i.path);
    expect(paths).toEqual(expect.arrayContaining(["name", "kind"]));
    const cfg = await createHandler({ name: "x", kind: "webhook", config: { url: "ftp://nope" } });
    expect(cfg.status).toBe(400);
    expect((await cfg.json()).issues[0].path).toBe("config.url");
  });
});

describe("alerts through the outbox", () => {
  it("notifies handlers selected by match rules or named in the flow's alerts, once per run, with the failed result", async () => {
    const matched = await (
      await createHandler({
        name: "by-match",
        kind: "webhook",
        config: { url: "http://127.0.0.1:1/m" },
        match: { flows: ["pay*"], error_types: ["runtime"] },
      })
    ).json();
    const named = await (
      await createHandler({
        name: "by-name",
        kind: "webhook",
        config: { url: "http://127.0.0.1:1/n" },
        match: { flows: ["nothing-matches"] },
      })
    ).json();
    await createHandler({
      name: "other-type",
      kind: "webhook",
      config: { url: "http://127.0.0.1:1/o" },
      match: { error_types: ["timeout"] },
    });
    await createHandler({ name: "disabled", kind: "webhook", config: { url: "http://127.0.0.1:1/d" }, enabled: false });
    await s.putFlow({
      name: "payments",
      alerts: ["by-name"],
      retry: { max_attempts: 2 },
      steps: [{ id: "charge", fail: { message: "card declined" } }],
    });
    delivered.length = 0;
    const { run_id } = await (await s.api("/hooks/payments", { method: "POST", json: { amount: 5 } })).json();
    await s.waitForStatus(run_id, ["failed"]);
    await waitUntil(() => delivered.length >= 2);
    await new Promise((r) => setTimeout(r, 150));
    expect(delivered.map((d) => d.config.url).sort()).toEqual(["http://127.0.0.1:1/m", "http://127.0.0.1:1/n"]);
    expect(delivered[0]!.payload).toMatchObject({
      run: { id: run_id, flow: "payments", status: "failed" },
      error: { message: "card declined", type: "runtime", step: "charge", attempts: 2 },
      failed: { error: { message: "card declined" } },
      input: { amount: 5 },
    });
    const run = await (await s.api(`/api/runs/${run_id}`)).json();
    expect(run.alerts.map((a: { handler_id: string }) => a.handler_id).sort()).toEqual([matched.id, named.id].sort());
    expect(
      run.alerts.every((a: { status: string; attempts: number }) => a.status === "delivered" && a.attempts === 1),
    ).toBe(true);
    for (const h of (await (await s.api("/api/handlers")).json()).handlers)
      await s.api(`/api/handlers/${h.id}`, { method: "DELETE" });
  });

  it("says the error handler recovered the run", async () => {
    await createHandler({ name: "all", kind: "webhook", config: { url: "http://127.0.0.1:1/all" } });
    await s.putFlow({
      name: "saved",
      steps: [{ id: "x", fail: { message: "down" } }],
      on_failure: [{ id: "fb", compute: "fallback" }],
    });
    delivered.length = 0;
    const res = await (await s.api("/hooks/saved?wait=true", { method: "POST", json: {} })).json();
    expect(res.status).toBe("recovered");
    await waitUntil(() => delivered.length === 1);
    expect(delivered[0]!.payload).toMatchObject({
      run: { status: "recovered" },
      handler: { outcome: "recovered" },
      error: { step: "x" },
    });
    for (const h of (await (await s.api("/api/handlers")).json()).handlers)
      await s.api(`/api/handlers/${h.id}`, { method: "DELETE" });
  });

  it("retries a failed delivery after the target's Retry-After and delivers it exactly once", async () => {
    await createHandler({ name: "flaky-chat", kind: "webhook", config: { url: "http://127.0.0.1:1/flaky" } });
    await s.putFlow({ name: "alerted", steps: [{ id: "x", fail: { message: "broken" } }] });
    delivered.length = 0;
    failuresLeft = 2;
    const started = Date.now();
    const { run_id } = await (await s.api("/hooks/alerted", { method: "POST", json: {} })).json();
    await waitUntil(() => delivered.length === 1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
    await new Promise((r) => setTimeout(r, 200));
    expect(delivered).toHaveLength(1);
    const run = await (await s.api(`/api/runs/${run_id}`)).json();
    expect(run.alerts).toEqual([expect.objectContaining({ status: "delivered", attempts: 3, last_error: null })]);
    for (const h of (await (await s.api("/api/handlers")).json()).handlers)
      await s.api(`/api/handlers/${h.id}`, { method: "DELETE" });
  });

  it("writes failures to the server log when no handler is registered", async () => {
    await s.putFlow({ name: "unwatched", steps: [{ id: "x", fail: { message: "nobody listens" } }] });
    const { run_id } = await (await s.api("/hooks/unwatched", { method: "POST", json: {} })).json();
    await waitUntil(() => s.logs.some((l) => l.includes(run_id) && l.includes("nobody listens")));
    const run = await (await s.api(`/api/runs/${run_id}`)).json();
    expect(run.alerts).toEqual([expect.objectContaining({ kind: "log", handler_id: null, status: "delivered" })]);
  });
});
