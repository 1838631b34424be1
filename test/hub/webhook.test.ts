// The `webhook` handler on a real server: Standard Webhooks signatures, stable webhook-id,
// redelivery with backoff and Retry-After, a receiver that is down, a receiver that hangs.
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../api/server";
import { startUpstream, type Recorded, type Upstream } from "../fakes/upstream";
import { createHandler, failRun, freePort, getRun, sleep, verified, waitUntil } from "./helpers";

let s: TestServer;
let up: Upstream;

beforeAll(async () => {
  up = await startUpstream();
  s = await startTestServer({}, { outboxSchedule: Array(30).fill(100) });
});
afterAll(async () => {
  await s.stop();
  await up.close();
});

const forPath = (path: string) => up.requests.filter((r) => r.path === path);

describe("webhook handler", () => {
  it("POSTs the failed result with its run, signed so that standardwebhooks' Webhook.verify accepts it", async () => {
    const h = await createHandler(s, {
      name: "signed",
      kind: "webhook",
      config: { url: `${up.url}/signed` },
      match: { flows: ["wh-signed"] },
    });
    expect(h.config.secret).toMatch(/^whsec_/);
    await s.putFlow({
      name: "wh-signed",
      steps: [{ id: "charge", fail: { message: "card declined", type: "permission_denied" } }],
    });
    const runId = await failRun(s, "wh-signed", { order: 7 });
    await waitUntil(() => forPath("/signed").length === 1);
    const req = forPath("/signed")[0]!;
    expect(req.method).toBe("POST");
    expect(req.headers["content-type"]).toBe("application/json");
    const body = verified(h.config.secret, req);
    expect(body).toMatchObject({
      type: "run.failed",
      data: {
        run: { id: runId, flow: "wh-signed", flow_version: 1, status: "failed" },
        error: { message: "card declined", type: "permission_denied", step: "charge", attempts: 1 },
        failed: { error: { message: "card declined" } },
        input: { order: 7 },
      },
    });
    // webhook-id is the alert's (outbox row's) id
    await waitUntil(async () => (await getRun(s, runId)).alerts[0]?.status === "delivered");
    const run = await getRun(s, runId);
    expect(req.headers["webhook-id"]).toBe(run.alerts[0].id);
    expect(run.alerts[0]).toMatchObject({
      handler_id: h.id,
      handler_name: "signed",
      kind: "webhook",
      status: "delivered",
      attempts: 1,
      last_error: null,
      response: { status: 200, body: { ok: true } },
    });
    // a tampered body or another secret does not verify
    expect(() =>
      verified(h.config.secret, { ...req, body: req.body.replace("card declined", "card accepted") }),
    ).toThrow();
    expect(() => verified("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", req)).toThrow();
  });

  it("redelivers with the same webhook-id, waiting at least the receiver's Retry-After", async () => {
    const h = await createHandler(s, {
      name: "flaky",
      kind: "webhook",
      config: { url: `${up.url}/flaky` },
      match: { flows: ["wh-flaky"] },
    });
    await s.putFlow({ name: "wh-flaky", steps: [{ id: "x", fail: { message: "boom" } }] });
    up.script([
      { status: 503, body: "busy" },
      { status: 429, headers: { "retry-after": "1" } },
    ]);
    const runId = await failRun(s, "wh-flaky");
    await waitUntil(() => forPath("/flaky").length === 2);
    const second = Date.now();
    await waitUntil(() => forPath("/flaky").length === 3);
    expect(Date.now() - second).toBeGreaterThanOrEqual(900);
    const reqs = forPath("/flaky");
    const ids = reqs.map((r) => r.headers["webhook-id"]);
    expect(new Set(ids).size).toBe(1);
    for (const r of reqs) expect(verified(h.config.secret, r)).toMatchObject({ data: { run: { id: runId } } });
    await waitUntil(async () => (await getRun(s, runId)).alerts[0]?.status === "delivered");
    const run = await getRun(s, runId);
    expect(run.alerts[0]).toMatchObject({ id: ids[0], status: "delivered", attempts: 2, last_error: null }); // the 429 was not a failed attempt
    await sleep(300);
    expect(forPath("/flaky")).toHaveLength(3);
  });

  it("records a receiver's refusal and gives up after the schedule", async () => {
    const quick = await startTestServer({}, { outboxSchedule: [30, 30] });
    try {
      await createHandler(quick, { name: "broken", kind: "webhook", config: { url: `${up.url}/broken` } });
      await quick.putFlow({ name: "wh-broken", steps: [{ id: "x", fail: { message: "boom" } }] });
      up.script([
        { status: 500, body: { error: "nope" } },
        { status: 500, body: { error: "nope" } },
        { status: 500, body: { error: "nope" } },
      ]);
      const runId = await failRun(quick, "wh-broken");
      await waitUntil(async () => (await getRun(quick, runId)).alerts[0]?.status === "failed");
      const run = await getRun(quick, runId);
      expect(run.alerts[0]).toMatchObject({
        status: "failed",
        attempts: 3,
        last_error: `POST ${up.url}/broken answered 500`,
        response: { status: 500, body: { error: "nope" } },
      });
    } finally {
      await quick.stop();
    }
  });

  it("a receiver that is down for a while and then up receives every notification exactly once", async () => {
    const port = await freePort();
    const h = await createHandler(s, {
      name: "down",
      kind: "webhook",
      config: { url: `http://127.0.0.1:${port}/in` },
      match: { flows: ["wh-down"] },
    });
    await s.putFlow({ name: "wh-down", steps: [{ id: "x", fail: { message: "boom {{ input.n }}" } }] });
    const runs = [
      await failRun(s, "wh-down", { n: 1 }),
      await failRun(s, "wh-down", { n: 2 }),
      await failRun(s, "wh-down", { n: 3 }),
    ];
    // while it is down, every alert fails at least twice (connection refused) and stays pending
    await waitUntil(async () => {
      for (const id of runs) {
        const a = (await getRun(s, id)).alerts[0];
        if (!a || a.attempts < 2) return false;
      }
      return true;
    });
    const first = (await getRun(s, runs[0]!)).alerts[0];
    expect(first).toMatchObject({ status: "pending" });
    expect(first.last_error).toMatch(/^POST http:\/\/127\.0\.0\.1:\d+\/in failed: /);

    const received: Recorded[] = [];
    const receiver: Server = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        received.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers, body });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(port, "127.0.0.1", r));
    try {
      await waitUntil(async () => {
        for (const id of runs) if ((await getRun(s, id)).alerts[0]?.status !== "delivered") return false;
        return true;
      });
      await sleep(300);
      expect(received).toHaveLength(3);
      const bodies = received.map((r) => verified(h.config.secret, r) as { data: { run: { id: string } } });
      expect(bodies.map((b) => b.data.run.id).sort()).toEqual([...runs].sort());
      const alertIds = await Promise.all(runs.map(async (id) => (await getRun(s, id)).alerts[0].id));
      expect(received.map((r) => r.headers["webhook-id"]).sort()).toEqual(alertIds.sort());
    } finally {
      await new Promise((r) => receiver.close(r));
    }
  });

  it("a receiver that hangs does not delay deliveries to another", async () => {
    const slow = await startUpstream();
    try {
      slow.script([], { status: 200, body: { slow: true }, delayMs: 2500 });
      await createHandler(s, {
        name: "slow",
        kind: "webhook",
        config: { url: `${slow.url}/slow` },
        match: { flows: ["wh-two"] },
      });
      await createHandler(s, {
        name: "fast",
        kind: "webhook",
        config: { url: `${up.url}/fast` },
        match: { flows: ["wh-two"] },
      });
      await s.putFlow({ name: "wh-two", steps: [{ id: "x", fail: { message: "boom" } }] });
      const started = Date.now();
      const runId = await failRun(s, "wh-two");
      await waitUntil(() => forPath("/fast").length === 1);
      expect(Date.now() - started).toBeLessThan(1500);
      const alerts = (await getRun(s, runId)).alerts as { handler_name: string; status: string }[];
      expect(alerts.find((a) => a.handler_name === "slow")?.status).toBe("pending");
      await waitUntil(
        async () => ((await getRun(s, runId)).alerts as { status: string }[]).every((a) => a.status === "delivered"),
        8000,
      );
      expect(slow.requests).toHaveLength(1);
    } finally {
      await slow.close();
    }
  });

  it("is usable as `script: webhook` in on_failure, with its config as args", async () => {
    const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    await s.putFlow({
      name: "wh-script",
      steps: [{ id: "fetch", fail: { message: "upstream down", type: "network" } }],
      on_failure: [{ id: "notify", script: { name: "webhook", args: { url: `${up.url}/script`, secret } } }],
    });
    const runId = await failRun(s, "wh-script");
    const run = await getRun(s, runId);
    // A handler that only notifies leaves the run failed (SPEC section 12).
    expect(run.status).toBe("failed");
    expect(run.steps.find((a: { step: string }) => a.step === "notify").output).toEqual({
      status: 200,
      body: { ok: true },
    });
    const req = forPath("/script")[0]!;
    expect(verified(secret, req)).toMatchObject({
      type: "run.failed",
      data: { run: { id: runId, flow: "wh-script" }, error: { type: "network", step: "fetch" } },
    });
  });
});
