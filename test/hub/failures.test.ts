// POST /api/failures on a real server: mend's own report, Windmill's and n8n's payloads as they
// are sent, success reports, and retry/replay callbacks signed per Standard Webhooks.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../api/server";
import { startUpstream, type Upstream } from "../fakes/upstream";
import { createHandler, freePort, getRun, json, verified, waitUntil } from "./helpers";

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
let s: TestServer;
let up: Upstream;
let cb: Upstream;
let hook: { id: string; config: { secret: string } };

beforeAll(async () => {
  up = await startUpstream();
  cb = await startUpstream();
  s = await startTestServer(
    { MEND_WEBHOOK_SECRET: SECRET, MEND_PUBLIC_URL: "https://mend.example" },
    { outboxSchedule: [50, 50] },
  );
  hook = await createHandler(s, {
    name: "externals",
    kind: "webhook",
    config: { url: `${up.url}/alerts` },
    match: { flows: ["external:*"] },
  });
});
afterAll(async () => {
  await s.stop();
  await up.close();
  await cb.close();
});

const report = (body: unknown) => s.api("/api/failures", { method: "POST", json: body });
const alertsFor = (runId: string) =>
  up.requests
    .filter((r) => r.path === "/alerts")
    .map((r) => verified(hook.config.secret, r) as { data: Record<string, any> })
    .filter((b) => b.data.run.id === runId);
const runCount = async () => (await json<{ runs: unknown[] }>(s.api("/api/runs?limit=500"))).runs.length;

describe("POST /api/failures", () => {
  it("stores a reported failure as a failed run of external:<source>, listed, with a ledger row, and alerts matching handlers", async () => {
    const res = await report({
      source: "ci",
      job: "nightly-build",
      step: "test",
      error: { message: "3 tests failed", type: "runtime" },
      input: { commit: "abc123" },
      link: "https://ci.example/builds/42",
      retry_url: `${up.url}/retry`,
    });
    expect(res.status).toBe(202);
    const { run_id, status } = await res.json();
    expect(status).toBe("failed");

    const list = await json<{ runs: Record<string, unknown>[] }>(s.api("/api/runs?flow=external:ci"));
    expect(list.runs[0]).toMatchObject({ id: run_id, flow: "external:ci", flow_version: 1, status: "failed" });

    const run = await getRun(s, run_id);
    expect(run).toMatchObject({
      flow: "external:ci",
      flow_version: 1,
      status: "failed",
      input: { commit: "abc123" },
      error: { message: "3 tests failed", type: "runtime", step: "test", attempts: 1 },
      external: {
        source: "ci",
        job: "nightly-build",
        link: "https://ci.example/builds/42",
        retry_url: `${up.url}/retry`,
      },
    });
    expect(run.steps).toEqual([
      expect.objectContaining({
        step: "test",
        attempt: 1,
        status: "failed",
        error: expect.objectContaining({ message: "3 tests failed" }),
      }),
    ]);

    await waitUntil(() => alertsFor(run_id).length === 1);
    expect(alertsFor(run_id)[0]!.data).toMatchObject({
      run: { id: run_id, flow: "external:ci", status: "failed", url: `https://mend.example/runs/${run_id}` },
      error: { message: "3 tests failed", step: "test" },
      external: { source: "ci", job: "nightly-build" },
      link: "https://ci.example/builds/42",
      input: { commit: "abc123" },
    });
    await waitUntil(async () => (await getRun(s, run_id)).alerts[0]?.status === "delivered");
    expect((await getRun(s, run_id)).alerts).toEqual([
      expect.objectContaining({ handler_id: hook.id, handler_name: "externals", status: "delivered", attempts: 1 }),
    ]);
  });

  it("uses the job as the step when none is reported, and accepts an error given as a string", async () => {
    const { run_id } = await json(report({ source: "cron.host-1", job: "backup", error: "disk full" }));
    const run = await getRun(s, run_id as string);
    expect(run).toMatchObject({
      flow: "external:cron.host-1",
      error: { message: "disk full", type: "runtime", step: "backup" },
    });
    expect(run.steps.map((a: { step: string }) => a.step)).toEqual(["backup"]);
  });

  it("answers 400 naming every bad field and stores nothing", async () => {
    const before = await runCount();
    const cases: [unknown, string[]][] = [
      [{}, ["source", "job", "error"]],
      [{ source: "has space", job: "j", error: { message: "m" } }, ["source"]],
      [{ source: "ci", job: "j", error: { message: "m", type: "kaput" } }, ["error.type"]],
      [{ source: "ci", job: "j", error: { message: "" } }, ["error.message"]],
      [{ source: "ci", job: "j", error: { message: "m" }, retry_url: "ftp://x" }, ["retry_url"]],
      [{ source: "ci", job: "j", error: { message: "m" }, link: "not a url" }, ["link"]],
      [{ source: "ci", job: "j", error: { message: "m" }, retryUrl: "http://x" }, [""]],
      [{ source: "ci", job: "j", error: { message: "m" }, status: "meh" }, ["status"]],
      [[], [""]],
      ["text", [""]],
    ];
    for (const [body, paths] of cases) {
      const res = await report(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      const answer = await res.json();
      expect(typeof answer.error).toBe("string");
      expect(
        answer.issues.map((i: { path: string }) => i.path),
        JSON.stringify(body),
      ).toEqual(expect.arrayContaining(paths));
    }
    const bad = await s.api("/api/failures", {
      method: "POST",
      body: "{nope",
      headers: { "content-type": "application/json" },
    });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error).toMatch(/not valid JSON/);
    expect(
      (
        await s.api("/api/failures", {
          method: "POST",
          body: "x=1",
          headers: { "content-type": "application/x-www-form-urlencoded" },
        })
      ).status,
    ).toBe(415);
    expect(await runCount()).toBe(before);
  });

  it("refuses a callback URL pointing at cloud metadata with 400 and the reason, storing nothing", async () => {
    const before = await runCount();
    const res = await report({
      source: "ci",
      job: "j",
      error: { message: "m" },
      retry_url: "http://169.254.169.254/latest/meta-data/",
      replay_url: "http://[fd00:ec2::254]/",
    });
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.issues).toEqual([
      { path: "retry_url", message: "169.254.169.254 is a link-local / cloud metadata address (169.254.0.0/16)" },
      { path: "replay_url", message: "fd00:ec2::254 is a cloud metadata address (fd00:ec2::254)" },
    ]);
    expect(body.error).toMatch(/^refused retry_url: 169\.254\.169\.254/);
    expect(await runCount()).toBe(before);
  });

  it("accepts a Windmill workspace error handler's arguments unchanged", async () => {
    const payload = {
      path: "f/billing/sync_invoices",
      email: "alice@example.com",
      error: {
        name: "ExecutionErr",
        message: "HTTP 502 from the invoicing API",
        stack: "Error: HTTP 502\n    at main",
        step_id: "c",
      },
      job_id: "018f2c1e-9d3b-4a51-b7a2-2f3a0c5e9d11",
      is_flow: true,
      workspace_id: "acme",
      started_at: "2026-01-02T03:04:05Z",
      schedule_path: "f/billing/nightly",
    };
    const res = await report(payload);
    expect(res.status).toBe(202);
    const { run_id } = await res.json();
    const run = await getRun(s, run_id);
    expect(run).toMatchObject({
      flow: "external:windmill",
      status: "failed",
      input: payload,
      error: {
        message: "HTTP 502 from the invoicing API",
        type: "runtime",
        step: "c",
        details: {
          name: "ExecutionErr",
          job_id: payload.job_id,
          workspace_id: "acme",
          is_flow: true,
          schedule_path: "f/billing/nightly",
        },
      },
      external: { source: "windmill", job: "f/billing/sync_invoices", format: "windmill" },
    });
    // a script (no step, error as a plain string)
    const script = await json(
      report({
        path: "u/bob/report",
        email: "bob@example.com",
        error: "boom",
        job_id: "j2",
        is_flow: false,
        workspace_id: "acme",
      }),
    );
    expect((await getRun(s, script.run_id as string)).error).toMatchObject({ message: "boom", step: "u/bob/report" });
    await waitUntil(() => alertsFor(run_id).length === 1);
  });

  it("accepts an n8n Error Trigger item unchanged — as an object, as an array, and for trigger errors", async () => {
    const item = {
      execution: {
        id: "231",
        url: "https://n8n.example.com/workflow/1/executions/231",
        retryOf: "34",
        error: { message: "Example Error Message", stack: "Stacktrace" },
        lastNodeExecuted: "Node With Error",
        mode: "manual",
      },
      workflow: { id: "1", name: "Example Workflow" },
    };
    for (const body of [item, [item]]) {
      const res = await report(body);
      expect(res.status).toBe(202);
      const run = await getRun(s, (await res.json()).run_id);
      expect(run).toMatchObject({
        flow: "external:n8n",
        input: item,
        error: {
          message: "Example Error Message",
          step: "Node With Error",
          details: { execution_id: "231", workflow_id: "1", retry_of: "34", mode: "manual" },
        },
        external: {
          source: "n8n",
          job: "Example Workflow",
          link: "https://n8n.example.com/workflow/1/executions/231",
          format: "n8n",
        },
      });
    }
    const trig = await report({
      trigger: { error: { message: "Cron node could not start", name: "NodeOperationError" }, mode: "trigger" },
      workflow: { id: "7", name: "Hourly sync" },
    });
    expect(trig.status).toBe(202);
    const run = await getRun(s, (await trig.json()).run_id);
    expect(run).toMatchObject({
      error: { message: "Cron node could not start", step: "trigger", details: { name: "NodeOperationError" } },
      external: { job: "Hourly sync" },
    });
    // a broken n8n item names the field
    const bad = await report({ execution: { error: { message: 5 } }, workflow: { id: "1" } });
    expect(bad.status).toBe(400);
    expect((await bad.json()).issues[0].path).toBe("execution.error.message");
  });

  it("marks open failed runs of the same source and job succeeded on a success report", async () => {
    const a = (await json(report({ source: "etl", job: "load", error: { message: "first" } }))).run_id as string;
    const b = (await json(report({ source: "etl", job: "load", error: { message: "second" } }))).run_id as string;
    const other = (await json(report({ source: "etl", job: "extract", error: { message: "other job" } })))
      .run_id as string;
    // the chat alerts of resolved runs are edited through deps.clicks.resolved
    const edited: [string, string][] = [];
    const original = s.deps.clicks.resolved.bind(s.deps.clicks);
    s.deps.clicks.resolved = async (run, note) => {
      edited.push([run.id, note]);
      return original(run, note);
    };
    const res = await report({ source: "etl", job: "load", status: "succeeded" });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ run_id: b, status: "succeeded", resolved: [b, a] });
    await waitUntil(() => edited.length === 2);
    expect(edited).toEqual([
      [b, "etl reported load succeeded"],
      [a, "etl reported load succeeded"],
    ]);
    s.deps.clicks.resolved = original;
    expect((await getRun(s, a)).status).toBe("succeeded");
    expect(await getRun(s, b)).toMatchObject({
      status: "succeeded",
      output: { resolved: true },
      error: { message: "second" },
    });
    expect((await getRun(s, other)).status).toBe("failed");
    // nothing left to resolve
    expect(await json(report({ source: "etl", job: "load", status: "succeeded" }))).toEqual({
      run_id: null,
      status: "succeeded",
      resolved: [],
    });
    // a resolved run can no longer be retried
    expect((await s.api(`/api/runs/${a}/retry`, { method: "POST" })).status).toBe(409);
  });
});

describe("retry and replay of an external failure", () => {
  it("POSTs a signed { type, run_id, source, job, input, requested_by } to retry_url and records the answer", async () => {
    cb.script([{ status: 200, body: { queued: "build-43" } }]);
    const { run_id } = await json<{ run_id: string }>(
      report({
        source: "ci",
        job: "deploy",
        error: { message: "m" },
        input: { env: "prod" },
        retry_url: `${cb.url}/cb/retry`,
      }),
    );
    const res = await s.api(`/api/runs/${run_id}/retry`, { method: "POST" });
    expect(res.status).toBe(202);
    const answer = await res.json();
    expect(answer).toMatchObject({
      run_id,
      status: "failed",
      action: "retry",
      callback: { url: `${cb.url}/cb/retry`, status: 200, body: { queued: "build-43" } },
    });
    const req = cb.requests.filter((r) => r.path === "/cb/retry").at(-1)!;
    expect(req.headers["webhook-id"]).toBe(answer.callback.message_id);
    expect(verified(SECRET, req)).toEqual({
      type: "retry",
      run_id,
      source: "ci",
      job: "deploy",
      input: { env: "prod" },
      requested_by: "api",
    });
    const run = await getRun(s, run_id);
    expect(run.steps.at(-1)).toMatchObject({
      step: "retry_callback",
      attempt: 1,
      status: "succeeded",
      output: { url: `${cb.url}/cb/retry`, status: 200, body: { queued: "build-43" }, requested_by: "api" },
      error: null,
    });
  });

  it("replays to replay_url with a replacement input and who asked, and records the callee's refusal as 502", async () => {
    const { run_id } = await json<{ run_id: string }>(
      report({
        source: "ci",
        job: "deploy",
        error: { message: "m" },
        input: { env: "prod" },
        replay_url: `${cb.url}/cb/replay`,
      }),
    );
    cb.script([{ status: 200, body: "ok" }]);
    const ok = await s.api(`/api/runs/${run_id}/replay`, {
      method: "POST",
      json: { input: { env: "staging" }, requested_by: "alice" },
    });
    expect(ok.status).toBe(202);
    expect(await ok.json()).toMatchObject({ run_id, replay_of: run_id, callback: { status: 200, body: "ok" } });
    const req = cb.requests.filter((r) => r.path === "/cb/replay").at(-1)!;
    expect(verified(SECRET, req)).toEqual({
      type: "replay",
      run_id,
      source: "ci",
      job: "deploy",
      input: { env: "staging" },
      requested_by: "alice",
    });

    cb.script([{ status: 500, body: { error: "queue full" } }]);
    const failed = await s.api(`/api/runs/${run_id}/replay`, { method: "POST" });
    expect(failed.status).toBe(502);
    expect(await failed.json()).toMatchObject({
      error: "replay callback failed: replay_url answered 500",
      callback: { status: 500, body: { error: "queue full" } },
    });
    const steps = (await getRun(s, run_id)).steps.filter((a: { step: string }) => a.step === "replay_callback");
    expect(steps.map((a: { attempt: number; status: string }) => [a.attempt, a.status])).toEqual([
      [1, "succeeded"],
      [2, "failed"],
    ]);
    expect(steps[1].error).toMatchObject({ type: "http_status", status: 500, message: "replay_url answered 500" });
  });

  it("answers 409 without a URL, 502 when the callee is unreachable, 400 for a bad body", async () => {
    const { run_id } = await json<{ run_id: string }>(
      report({
        source: "ci",
        job: "x",
        error: { message: "m" },
        retry_url: `http://127.0.0.1:${await freePort()}/gone`,
      }),
    );
    const noUrl = await s.api(`/api/runs/${run_id}/replay`, { method: "POST" });
    expect(noUrl.status).toBe(409);
    expect((await noUrl.json()).error).toMatch(/without a replay_url/);
    const down = await s.api(`/api/runs/${run_id}/retry`, { method: "POST" });
    expect(down.status).toBe(502);
    expect((await down.json()).error).toMatch(/retry_url could not be reached/);
    const bad = await s.api(`/api/runs/${run_id}/retry`, { method: "POST", json: { requested_by: 5 } });
    expect(bad.status).toBe(400);
    expect((await bad.json()).issues[0].path).toBe("requested_by");
    const steps = (await getRun(s, run_id)).steps;
    expect(steps.map((a: { step: string; status: string }) => [a.step, a.status])).toEqual([
      ["x", "failed"],
      ["retry_callback", "failed"],
    ]);
  });

  it("answers 409 naming MEND_WEBHOOK_SECRET when it is not set", async () => {
    const bare = await startTestServer();
    try {
      const { run_id } = await json<{ run_id: string }>(
        bare.api("/api/failures", {
          method: "POST",
          json: { source: "ci", job: "x", error: { message: "m" }, retry_url: `${up.url}/never` },
        }),
      );
      const res = await bare.api(`/api/runs/${run_id}/retry`, { method: "POST" });
      expect(res.status).toBe(409);
      expect((await res.json()).error).toMatch(/MEND_WEBHOOK_SECRET is not set/);
      expect(up.requests.some((r) => r.path === "/never")).toBe(false);
    } finally {
      await bare.stop();
    }
  });
});
