// POST /api/runs/bulk: run_ids or a filter, at most 1000 runs, each acted on once per request.
import { beforeEach, describe, expect, it } from "vitest";
import type { RunRecord } from "../../src/engine/ports";
import { startMend, type Mend } from "./harness";

let m: Mend;
beforeEach(async () => {
  m = await startMend();
  await m.putFlow({ name: "broken", steps: [{ id: "boom", fail: { message: "no" } }] });
  await m.putFlow({ name: "fine", steps: [{ id: "ok", compute: { ok: true } }] });
});

const bulk = (body: unknown, headers?: Record<string, string>) => m.api("POST", "/api/runs/bulk", body, headers);

/** Inserts failed runs straight into the store (fast), created at `at`. */
async function failedRuns(n: number, at = m.clock.now()): Promise<string[]> {
  const ids = Array.from({ length: n }, () => m.deps.newId());
  const run = (id: string): RunRecord => ({
    id,
    flow: "broken",
    flowVersion: 1,
    status: "failed",
    input: {},
    output: null,
    error: { message: "no", type: "runtime", step: "boom" },
    cursor: { phase: "main", index: 0, attempt: 1, failed_index: 0 },
    dueAt: null,
    replayOf: null,
    external: null,
    createdAt: at,
    updatedAt: at,
    finishedAt: at,
  });
  await m.deps.runs.commit(ids.map((id) => ({ op: "insertRun" as const, run: run(id), leaseUntil: null })));
  return ids;
}

describe("POST /api/runs/bulk", () => {
  it("retries every run the filter selects and skips the ones that cannot be retried, saying why", async () => {
    const a = (await m.run("broken")).id;
    await m.clock.advance(60_000);
    const b = (await m.run("broken")).id;
    const ok = (await m.run("fine")).id;
    const since = new Date(m.clock.now() - 30_000).toISOString();
    const r = await bulk({ action: "retry", filter: { flow: "broken", status: "failed", since }, by: "ops" });
    expect(r.status).toBe(202);
    expect(r.body).toEqual({ accepted: [{ run_id: b }], skipped: [] });
    await m.settle();
    const all = await bulk({ action: "retry", run_ids: [a, ok] });
    expect(all.body.accepted).toEqual([{ run_id: a }]);
    expect(all.body.skipped).toEqual([{ run_id: ok, reason: expect.stringContaining("only failed or recovered") }]);
  });

  it("acts on each run once per request, however often it is named", async () => {
    const a = (await m.run("broken")).id;
    const r = await bulk({ action: "replay", run_ids: [a, a, a] });
    expect(r.status).toBe(202);
    expect(r.body.accepted).toEqual([{ run_id: a, new_run_id: expect.any(String) }]);
    await m.settle();
    expect((await m.api("GET", "/api/runs?flow=broken")).body.runs).toHaveLength(2);
  });

  it("refuses more than 1000 runs, named or selected, and does nothing", async () => {
    const ids = await failedRuns(1001);
    const named = await bulk({ action: "retry", run_ids: ids });
    expect(named.status).toBe(400);
    expect(named.body.issues[0].path).toBe("run_ids");
    const filtered = await bulk({ action: "retry", filter: { flow: "broken" } });
    expect(filtered.status).toBe(400);
    expect(filtered.body.error).toContain("more than 1000");
    expect((await m.api("GET", "/api/runs?status=queued")).body.runs).toEqual([]);
    const thousand = await bulk({ action: "retry", run_ids: ids.slice(0, 1000) });
    expect(thousand.status).toBe(202);
    expect(thousand.body.accepted).toHaveLength(1000);
    await m.settle();
  });

  it("needs exactly one of run_ids or filter", async () => {
    expect((await bulk({ action: "retry" })).status).toBe(400);
    expect((await bulk({ action: "retry", run_ids: ["x"], filter: {} })).status).toBe(400);
    expect((await bulk({ action: "cancel", run_ids: ["x"] })).body.issues[0].path).toBe("action");
  });

  it("with an Idempotency-Key answers the first answer again", async () => {
    const a = (await m.run("broken")).id;
    const first = await bulk({ action: "replay", run_ids: [a] }, { "idempotency-key": "b1" });
    const again = await bulk({ action: "replay", run_ids: [a] }, { "idempotency-key": "b1" });
    expect(again.body).toEqual(first.body);
    await m.settle();
    expect((await m.api("GET", "/api/runs?flow=broken")).body.runs).toHaveLength(2);
  });
});

describe("POST /api/runs/:id/replay with an edited input", () => {
  it("validates it against the flow's input schema: 400 with issues, no run", async () => {
    await m.putFlow({
      name: "typed",
      input: { type: "object", required: ["n"], properties: { n: { type: "number" } } },
      steps: [{ id: "boom", fail: { message: "no" } }],
    });
    const run = await m.run("typed", { n: 1 });
    const bad = await m.api("POST", `/api/runs/${run.id}/replay`, { input: { n: "one" } });
    expect(bad.status).toBe(400);
    expect(bad.body.issues.length).toBeGreaterThan(0);
    expect((await m.api("GET", "/api/runs?flow=typed")).body.runs).toHaveLength(1);
    const good = await m.api("POST", `/api/runs/${run.id}/replay`, { input: { n: 2 } });
    expect(good.status).toBe(202);
    await m.settle();
    expect((await m.get(good.body.run_id)).input).toEqual({ n: 2 });
  });
});
