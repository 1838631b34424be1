import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "./server";
import { startUpstream, type Upstream } from "../fakes/upstream";

let s: TestServer;
let up: Upstream;
beforeAll(async () => {
  up = await startUpstream();
  s = await startTestServer({ MEND_SECRET_API_KEY: "very-secret-value-42" });
});
afterAll(async () => {
  await s.stop();
  await up.close();
});

const post = async (flow: string, input: unknown = {}, query = "") =>
  (await s.api(`/hooks/${flow}${query}`, { method: "POST", json: input })).json();

describe("GET /api/runs/:id", () => {
  it("shows every attempt of a retried step with times, durations, outputs and errors", async () => {
    await s.putFlow({
      name: "ledger",
      steps: [
        { id: "first", compute: { n: 1 } },
        {
          id: "call",
          http: { method: "POST", url: `${up.url}/ledger`, body: { n: "{{ steps.first.n }}" } },
          retry: { max_attempts: 3, delay_ms: 30 },
        },
      ],
    });
    up.script([{ status: 500, body: "nope" }, { status: 502 }, { status: 200, body: { done: true } }]);
    const { run_id } = await post("ledger");
    const run = await s.waitForStatus(run_id, ["succeeded"]);
    expect(run).toMatchObject({
      id: run_id,
      flow: "ledger",
      flow_version: 1,
      status: "succeeded",
      input: {},
      output: { status: 200, body: { done: true } },
      error: null,
      replay_of: null,
    });
    const steps = run.steps as Record<string, unknown>[];
    expect(steps.map((a) => [a.step, a.attempt, a.status])).toEqual([
      ["first", 1, "succeeded"],
      ["call", 1, "failed"],
      ["call", 2, "failed"],
      ["call", 3, "succeeded"],
    ]);
    expect(steps[1]).toMatchObject({
      error: { type: "http_status", status: 500, step: "call", attempts: 1 },
      output: { status: 500, body: "nope" },
    });
    expect(steps[1]!.started_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(typeof steps[1]!.duration_ms).toBe("number");
    // the backoff really waited between attempts
    expect(Date.parse(String(steps[2]!.started_at)) - Date.parse(String(steps[1]!.finished_at))).toBeGreaterThanOrEqual(
      25,
    );
    expect(up.requests.filter((r) => r.path === "/ledger").map((r) => JSON.parse(r.body))).toEqual([
      { n: 1 },
      { n: 1 },
      { n: 1 },
    ]);
  });

  it("sends the same Idempotency-Key on every attempt of a step, and another for another run", async () => {
    await s.putFlow({
      name: "idem",
      steps: [{ id: "call", http: { method: "POST", url: `${up.url}/idem` }, retry: { max_attempts: 2 } }],
    });
    up.script([{ status: 500 }, { status: 200 }, { status: 200 }]);
    const a = await post("idem", {}, "?wait=true");
    const b = await post("idem", {}, "?wait=true");
    expect(a.status).toBe("succeeded");
    const keys = up.requests.filter((r) => r.path === "/idem").map((r) => r.headers["idempotency-key"]);
    expect(keys).toHaveLength(3);
    expect(keys[0]).toBe(keys[1]);
    expect(keys[0]).toContain(a.run_id);
    expect(keys[2]).toContain(b.run_id);
  });

  it("answers 404 for an unknown run", async () => {
    expect((await s.api("/api/runs/nope")).status).toBe(404);
  });
});

describe("secrets", () => {
  it("are usable in templates but never appear in the ledger or API output", async () => {
    await s.putFlow({
      name: "secretive",
      steps: [
        {
          id: "call",
          http: {
            method: "GET",
            url: `${up.url}/s?key={{ secrets.API_KEY }}`,
            headers: { authorization: "Bearer {{ secrets.API_KEY }}" },
          },
        },
        { id: "leak", compute: { copy: "key={{ secrets.API_KEY }}" } },
        { id: "boom", fail: { message: "failed with {{ secrets.API_KEY }}" } },
      ],
    });
    up.script([{ status: 200, body: { echoed: "very-secret-value-42" } }]);
    const { run_id } = await post("secretive");
    const run = await s.waitForStatus(run_id, ["failed"]);
    const req = up.requests.find((r) => r.path.startsWith("/s?"))!;
    expect(req.headers.authorization).toBe("Bearer very-secret-value-42");
    expect(req.path).toContain("very-secret-value-42");
    const text = JSON.stringify(run) + JSON.stringify(await (await s.api("/api/runs")).json());
    expect(text).not.toContain("very-secret-value-42");
    expect(text).toContain("[redacted]");
  });
});

describe("retry, replay and cancel", () => {
  it("retry resumes a failed run from its failed step without running earlier steps again", async () => {
    await s.putFlow({
      name: "resume",
      steps: [
        { id: "before", http: { method: "POST", url: `${up.url}/before` } },
        { id: "flaky", http: { method: "POST", url: `${up.url}/flaky` } },
        { id: "after", compute: { got: "{{ steps.before.body.v }}" } },
      ],
    });
    up.script([{ status: 200, body: { v: "kept" } }, { status: 500 }]);
    const { run_id } = await post("resume");
    await s.waitForStatus(run_id, ["failed"]);
    const conflict = await s.api(`/api/runs/${run_id}/replay?version=bogus`, { method: "POST" });
    expect(conflict.status).toBe(400);
    up.script([], { status: 200, body: { ok: true } });
    const res = await s.api(`/api/runs/${run_id}/retry`, { method: "POST" });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ run_id, status: "queued" });
    const run = await s.waitForStatus(run_id, ["succeeded"]);
    expect(run.output).toEqual({ got: "kept" });
    expect(up.requests.filter((r) => r.path === "/before")).toHaveLength(1);
    expect(up.requests.filter((r) => r.path === "/flaky")).toHaveLength(2);
    expect(
      (run.steps as { step: string; attempt: number }[]).filter((a) => a.step === "flaky").map((a) => a.attempt),
    ).toEqual([1, 2]);
  });

  it("retry answers 409 unless the run is failed, and only one of two concurrent retries wins", async () => {
    await s.putFlow({ name: "once", steps: [{ id: "x", http: { method: "POST", url: `${up.url}/once` } }] });
    up.script([{ status: 500 }], { status: 200, delayMs: 100 });
    const { run_id } = await post("once");
    await s.waitForStatus(run_id, ["failed"]);
    const [a, b] = await Promise.all([
      s.api(`/api/runs/${run_id}/retry`, { method: "POST" }),
      s.api(`/api/runs/${run_id}/retry`, { method: "POST" }),
    ]);
    expect([a.status, b.status].sort()).toEqual([202, 409]);
    await s.waitForStatus(run_id, ["succeeded"]);
    expect((await s.api(`/api/runs/${run_id}/retry`, { method: "POST" })).status).toBe(409);
    expect(up.requests.filter((r) => r.path === "/once")).toHaveLength(2);
  });

  it("replay starts a new run with the same input on the latest version, or the original with ?version=original", async () => {
    await s.putFlow({ name: "rv", steps: [{ id: "v", compute: { version: 1, x: "{{ input.x }}" } }] });
    const first = await post("rv", { x: "a" }, "?wait=true");
    await s.putFlow({ name: "rv", steps: [{ id: "v", compute: { version: 2, x: "{{ input.x }}" } }] });
    const latest = await (await s.api(`/api/runs/${first.run_id}/replay`, { method: "POST" })).json();
    expect(latest).toMatchObject({ run_id: expect.any(String), replay_of: first.run_id });
    expect(latest.run_id).not.toBe(first.run_id);
    expect((await s.waitForStatus(latest.run_id, ["succeeded"])).output).toEqual({ version: 2, x: "a" });
    const orig = await (await s.api(`/api/runs/${first.run_id}/replay?version=original`, { method: "POST" })).json();
    const origRun = await s.waitForStatus(orig.run_id, ["succeeded"]);
    expect(origRun).toMatchObject({ flow_version: 1, output: { version: 1, x: "a" }, replay_of: first.run_id });
    const withInput = await (
      await s.api(`/api/runs/${first.run_id}/replay`, { method: "POST", json: { input: { x: "b" } } })
    ).json();
    expect((await s.waitForStatus(withInput.run_id, ["succeeded"])).output).toEqual({ version: 2, x: "b" });
    expect((await s.api(`/api/runs/${first.run_id}/replay`, { method: "POST", json: { inputs: 1 } })).status).toBe(400);
  });

  it("cancel stops a run waiting for its retry; a second cancel answers 409", async () => {
    await s.putFlow({
      name: "slow",
      steps: [
        { id: "x", http: { method: "GET", url: `${up.url}/slow` }, retry: { max_attempts: 5, delay_ms: 60_000 } },
      ],
    });
    up.script([{ status: 500 }]);
    const { run_id } = await post("slow");
    await s.waitForStatus(run_id, ["retrying"]);
    const res = await s.api(`/api/runs/${run_id}/cancel`, { method: "POST" });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ run_id, status: "cancelled" });
    expect((await s.api(`/api/runs/${run_id}/cancel`, { method: "POST" })).status).toBe(409);
    const run = await s.waitForStatus(run_id, ["cancelled"]);
    expect(run.finished_at).toBeTruthy();
    expect(run.error).toMatchObject({ type: "cancelled" });
  });

  it("cancel aborts an attempt in flight and the run stays cancelled", async () => {
    await s.putFlow({
      name: "inflight",
      steps: [
        { id: "x", http: { method: "GET", url: `${up.url}/hang` } },
        { id: "y", compute: 1 },
      ],
    });
    up.script([{ status: 200, delayMs: 3000 }]);
    const { run_id } = await post("inflight");
    await s.waitForStatus(run_id, ["running"]);
    await new Promise((r) => setTimeout(r, 50));
    expect((await s.api(`/api/runs/${run_id}/cancel`, { method: "POST" })).status).toBe(202);
    await new Promise((r) => setTimeout(r, 100));
    const run = await s.waitForStatus(run_id, ["cancelled"]);
    expect((run.steps as { step: string; status: string }[]).map((a) => [a.step, a.status])).toEqual([["x", "failed"]]);
  });
});

describe("GET /api/runs", () => {
  it("lists newest first, filters by flow and status, and pages with next_cursor", async () => {
    await s.putFlow({ name: "many", steps: [{ id: "a", compute: "{{ input.i }}" }] });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await post("many", { i }, "?wait=true")).run_id);
    const page1 = await (await s.api("/api/runs?flow=many&status=succeeded&limit=2")).json();
    expect(page1.runs.map((r: { id: string }) => r.id)).toEqual([ids[4], ids[3]]);
    expect(page1.runs[0]).toEqual({
      id: ids[4],
      flow: "many",
      flow_version: 1,
      status: "succeeded",
      job: null,
      acked_by: null,
      created_at: expect.any(String),
      finished_at: expect.any(String),
    });
    const page2 = await (await s.api(`/api/runs?flow=many&limit=2&cursor=${page1.next_cursor}`)).json();
    expect(page2.runs.map((r: { id: string }) => r.id)).toEqual([ids[2], ids[1]]);
    const page3 = await (await s.api(`/api/runs?flow=many&limit=2&cursor=${page2.next_cursor}`)).json();
    expect(page3.runs.map((r: { id: string }) => r.id)).toEqual([ids[0]]);
    expect(page3.next_cursor).toBeNull();
    expect((await (await s.api("/api/runs?flow=many&status=failed")).json()).runs).toEqual([]);
  });

  it("answers 400 for a bad status or limit", async () => {
    expect((await s.api("/api/runs?status=exploded")).status).toBe(400);
    const res = await s.api("/api/runs?limit=0");
    expect(res.status).toBe(400);
    expect((await res.json()).issues[0].path).toBe("limit");
  });
});
