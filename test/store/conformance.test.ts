// One store, two SQLite backends: every test here runs on better-sqlite3 and on D1 (workerd's,
// through miniflare) and must pass unchanged on both. It pins what the engine, the outbox and the
// chat layer rely on: atomic batches, compare-and-set updates, leases, JSON columns, D1's limits.
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { parseFlow } from "../../src/engine/flow";
import type { AttemptRecord, OutboxRecord, RunRecord, Write } from "../../src/engine/ports";
import { createServices } from "../../src/services";
import { parseEnv } from "../../src/env";
import { ActionRepo, AlertRepo, type AlertState } from "../../src/store/alerts";
import type { Database } from "../../src/store/database";
import { FlowRepo } from "../../src/store/flows";
import { HandlerRepo } from "../../src/store/handlers";
import { OutboxRepo } from "../../src/store/outbox";
import { RunRepo } from "../../src/store/runs";
import { SilenceRepo } from "../../src/store/silences";
import { d1Backend, sqliteBackend, type Backend } from "./backends";

const T0 = 1_800_000_000_000;

function run(id: string, over: Partial<RunRecord> = {}): RunRecord {
  return {
    id,
    flow: "orders",
    flowVersion: 1,
    status: "queued",
    input: { order: 1, note: "ünïcødé ✓", nested: { list: [1, 2.5, null, true] } },
    output: null,
    error: null,
    cursor: { phase: "main", index: 0, attempt: 0 },
    dueAt: T0,
    replayOf: null,
    parentRun: id === "R1" ? "P0" : null,
    external: null,
    createdAt: T0,
    updatedAt: T0,
    finishedAt: null,
    ...over,
  };
}

function attempt(runId: string, step: string, n: number, over: Partial<AttemptRecord> = {}): AttemptRecord {
  return {
    runId,
    step,
    attempt: n,
    phase: "main",
    status: "running",
    startedAt: T0,
    finishedAt: null,
    durationMs: null,
    output: null,
    error: null,
    ...over,
  };
}

function outboxRow(id: string, runId: string, over: Partial<OutboxRecord> = {}): OutboxRecord {
  return {
    id,
    runId,
    handlerId: null,
    kind: "log",
    payload: {
      run: { id: runId, flow: "orders", flow_version: 1, status: "failed" },
      failed: { error: { message: "boom", type: "runtime" } },
      error: { message: "boom", type: "runtime" },
    },
    status: "pending",
    attempts: 0,
    nextAttemptAt: T0,
    lastError: null,
    response: null,
    createdAt: T0,
    deliveredAt: null,
    ...over,
  };
}

const backends: Backend[] = [sqliteBackend(), d1Backend()];
afterAll(async () => {
  for (const b of backends) await b.dispose();
});

describe.each(backends.map((b) => [b.name, b] as const))("store conformance on %s", (_name, backend) => {
  let d: Database;
  let runs: RunRepo;
  beforeEach(async () => {
    d = await backend.open();
    runs = new RunRepo(d);
  });

  it("commits a run, its attempts and its outbox rows in one batch and reads them back", async () => {
    const writes: Write[] = [
      { op: "insertRun", run: run("R1"), leaseUntil: T0 + 60_000 },
      { op: "putAttempt", attempt: attempt("R1", "fetch", 1) },
      {
        op: "putAttempt",
        attempt: attempt("R1", "fetch", 1, {
          status: "failed",
          finishedAt: T0 + 5,
          durationMs: 5,
          error: { message: "HTTP 500", type: "http_status", status: 500 },
        }),
      },
      {
        op: "putAttempt",
        attempt: attempt("R1", "fetch", 2, {
          status: "succeeded",
          finishedAt: T0 + 9,
          durationMs: 4,
          output: { status: 200, body: { temp: 21.5 } },
        }),
      },
      // More rows than D1's 100 bound parameters allow in one multi-row insert.
      {
        op: "insertOutbox",
        rows: Array.from({ length: 12 }, (_, i) => outboxRow(`O${String(i).padStart(2, "0")}`, "R1")),
      },
    ];
    await runs.commit(writes);
    const got = await runs.getRun("R1");
    const noMarks = { ackedBy: null, ackedAt: null, resolvedBy: null, resolvedAt: null, resolutionNote: null };
    expect(got).toEqual({ ...run("R1"), marks: noMarks });
    const attempts = await runs.getAttempts("R1");
    expect(attempts.map((a) => [a.step, a.attempt, a.status])).toEqual([
      ["fetch", 1, "failed"],
      ["fetch", 2, "succeeded"],
    ]);
    expect(attempts[0]!.error).toEqual({ message: "HTTP 500", type: "http_status", status: 500 });
    expect(attempts[1]!.output).toEqual({ status: 200, body: { temp: 21.5 } });
    const rows = await new OutboxRepo(d).forRun("R1");
    expect(rows).toHaveLength(12);
    expect(rows[0]!.payload.error.message).toBe("boom");
  });

  it("rolls a whole batch back when one statement fails", async () => {
    await runs.commit([{ op: "insertRun", run: run("R1"), leaseUntil: null }]);
    await expect(
      d.batch(
        runs.writeItems([
          { op: "insertRun", run: run("R2"), leaseUntil: null },
          { op: "insertRun", run: run("R1"), leaseUntil: null },
        ]),
      ),
    ).rejects.toThrow();
    expect(await runs.getRun("R2")).toBeUndefined();
  });

  it("group commit: one bad write does not sink the writes committed next to it", async () => {
    await runs.commit([{ op: "insertRun", run: run("R1"), leaseUntil: null }]);
    const results = await Promise.allSettled([
      runs.commit([{ op: "insertRun", run: run("R2"), leaseUntil: null }]),
      runs.commit([{ op: "insertRun", run: run("R1"), leaseUntil: null }]),
      runs.commit([{ op: "insertRun", run: run("R3"), leaseUntil: null }]),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(await runs.getRun("R2")).toBeDefined();
    expect(await runs.getRun("R3")).toBeDefined();
  });

  it("transition is a compare-and-set on the status", async () => {
    await runs.commit([
      { op: "insertRun", run: run("R1", { status: "failed", dueAt: null, finishedAt: T0 }), leaseUntil: null },
    ]);
    const both = await Promise.all([
      runs.transition("R1", "failed", { status: "queued", dueAt: T0, finishedAt: null }),
      runs.transition("R1", "failed", { status: "queued", dueAt: T0, finishedAt: null }),
    ]);
    expect(both.filter(Boolean)).toHaveLength(1);
    expect((await runs.getRun("R1"))!.status).toBe("queued");
    expect(await runs.transition("R1", "failed", { status: "queued" })).toBe(false);
  });

  it("claimDue leases due runs once, honours leases and orders by due time", async () => {
    await runs.commit([
      { op: "insertRun", run: run("A", { status: "retrying", dueAt: T0 + 20 }), leaseUntil: null },
      { op: "insertRun", run: run("B", { status: "queued", dueAt: T0 + 10 }), leaseUntil: null },
      { op: "insertRun", run: run("C", { status: "retrying", dueAt: T0 + 5_000 }), leaseUntil: null },
      { op: "insertRun", run: run("D", { status: "running", dueAt: T0 }), leaseUntil: T0 + 60_000 },
      { op: "insertRun", run: run("E", { status: "failed", dueAt: null, finishedAt: T0 }), leaseUntil: null },
    ]);
    expect(await runs.nextDueAt()).toBe(T0 + 10);
    const [first, second] = await Promise.all([
      runs.claimDue(T0 + 100, 60_000, 10),
      runs.claimDue(T0 + 100, 60_000, 10),
    ]);
    const claimed = [...first!, ...second!].map((r) => r.id).sort();
    expect(claimed).toEqual(["A", "B"]);
    expect(await runs.claimDue(T0 + 100, 60_000, 10)).toEqual([]);
    // A lapsed lease (a crashed worker) makes the run claimable again.
    const later = await runs.claimDue(T0 + 70_000, 60_000, 1);
    expect(later.map((r) => r.id)).toEqual(["D"]);
    expect(later[0]!.input).toEqual(run("D").input);
    expect(await runs.nextDueAt()).toBe(T0 + 5_000);
  });

  it("cancelRun ends an active run and closes its running attempts, once", async () => {
    await runs.commit([
      { op: "insertRun", run: run("R1", { status: "running" }), leaseUntil: T0 + 60_000 },
      { op: "putAttempt", attempt: attempt("R1", "slow", 1) },
    ]);
    expect(await runs.cancelRun("R1", T0 + 50)).toBe(true);
    expect(await runs.cancelRun("R1", T0 + 60)).toBe(false);
    const r = (await runs.getRun("R1"))!;
    expect(r).toMatchObject({ status: "cancelled", finishedAt: T0 + 50, dueAt: null, error: { type: "cancelled" } });
    expect((await runs.getAttempts("R1"))[0]).toMatchObject({
      status: "failed",
      finishedAt: T0 + 50,
      error: { type: "cancelled" },
    });
    // A cancelled run's row is never changed by the engine's later writes.
    await runs.commit([{ op: "updateRun", id: "R1", set: { status: "succeeded" } }]);
    expect((await runs.getRun("R1"))!.status).toBe("cancelled");
  });

  it("lists runs newest first with a cursor and filters", async () => {
    await runs.commit(
      ["R1", "R2", "R3", "R4", "R5"].map(
        (id, i) =>
          ({
            op: "insertRun",
            run: run(id, { status: i % 2 ? "failed" : "succeeded", flow: i < 3 ? "a" : "b" }),
            leaseUntil: null,
          }) as Write,
      ),
    );
    const p1 = await runs.listRuns({ limit: 2 });
    expect(p1.runs.map((r) => r.id)).toEqual(["R5", "R4"]);
    const p2 = await runs.listRuns({ limit: 2, cursor: p1.next! });
    expect(p2.runs.map((r) => r.id)).toEqual(["R3", "R2"]);
    const p3 = await runs.listRuns({ limit: 2, cursor: p2.next! });
    expect(p3).toMatchObject({ next: null });
    expect((await runs.listRuns({ limit: 10, status: "failed" })).runs.map((r) => r.id)).toEqual(["R4", "R2"]);
    expect((await runs.listRuns({ limit: 10, flow: "b", status: "failed" })).runs.map((r) => r.id)).toEqual(["R4"]);
  });

  it("outbox: claims due rows with a lease, records delivery and failures", async () => {
    const outbox = new OutboxRepo(d);
    await runs.commit([
      { op: "insertRun", run: run("R1"), leaseUntil: null },
      { op: "insertOutbox", rows: [outboxRow("O1", "R1"), outboxRow("O2", "R1", { nextAttemptAt: T0 + 1_000 })] },
    ]);
    expect(await outbox.nextDueAt()).toBe(T0);
    const [a, b] = await Promise.all([outbox.claimDue(T0 + 10, 60_000, 10), outbox.claimDue(T0 + 10, 60_000, 10)]);
    expect([...a!, ...b!].map((r) => r.id)).toEqual(["O1"]);
    await outbox.failedAttempt("O1", 1, T0 + 5_000, "HTTP 429", { status: 429 });
    await outbox.delivered("O2", 1, T0 + 20, { ts: "1.2" });
    const rows = await outbox.forRun("R1");
    expect(rows.find((r) => r.id === "O1")).toMatchObject({
      status: "pending",
      attempts: 1,
      nextAttemptAt: T0 + 5_000,
      lastError: "HTTP 429",
      response: { status: 429 },
    });
    expect(rows.find((r) => r.id === "O2")).toMatchObject({
      status: "delivered",
      deliveredAt: T0 + 20,
      response: { ts: "1.2" },
    });
    await outbox.failedAttempt("O1", 2, null, "gave up", null);
    expect(await outbox.nextDueAt()).toBeNull();
  });

  it("flows: versions, unchanged puts, defaults", async () => {
    const flows = new FlowRepo(d);
    const f = (steps: unknown[]) => {
      const p = parseFlow({ name: "hello", description: "hi", steps });
      if (!p.ok) throw new Error(JSON.stringify(p.issues));
      return p.value;
    };
    expect(await flows.put(f([{ id: "a", compute: 1 }]), T0)).toMatchObject({ version: 1, created: true });
    expect(await flows.put(f([{ id: "a", compute: 1 }]), T0 + 1)).toMatchObject({ version: 1, changed: false });
    expect(await flows.put(f([{ id: "a", compute: 2 }]), T0 + 2)).toMatchObject({
      version: 2,
      created: false,
      changed: true,
    });
    expect((await new FlowRepo(d).get("hello"))!.version).toBe(2);
    expect((await flows.get("hello", 1))!.flow.steps[0]).toMatchObject({ compute: 1 });
    expect(await flows.list()).toEqual([{ name: "hello", version: 2, description: "hi" }]);
    expect((await flows.versionsOf("hello")).map((v) => v.version)).toEqual([1, 2]);
    await flows.putDefaults({ timeout_ms: 1234 });
    expect(await new FlowRepo(d).getDefaults()).toEqual({ timeout_ms: 1234 });
  });

  it("handlers and silences round-trip their JSON and booleans", async () => {
    const handlers = new HandlerRepo(d);
    await handlers.insert(
      {
        id: "H1",
        name: "ops",
        kind: "webhook",
        config: { url: "http://x", secret: "whsec_x" },
        match: { flows: ["ord*"] },
        enabled: false,
      },
      T0,
    );
    expect(await new HandlerRepo(d).get("H1")).toMatchObject({
      config: { url: "http://x" },
      match: { flows: ["ord*"] },
      enabled: false,
    });
    expect(await handlers.update("H1", { enabled: true, match: null }, T0 + 1)).toMatchObject({
      enabled: true,
      match: null,
    });
    expect(await handlers.remove("H1")).toBe(true);
    expect(await handlers.remove("H1")).toBe(false);
    const silences = new SilenceRepo(d);
    await silences.create({ id: "S1", flow: "ord*", errorType: "http_status", endsAt: T0 + 1_000 }, T0);
    expect(await silences.matching(T0 + 10, "orders", { message: "x", type: "http_status" })).toMatchObject({
      id: "S1",
    });
    expect(await silences.matching(T0 + 2_000, "orders", { message: "x", type: "http_status" })).toBeUndefined();
    expect(await silences.remove("S1")).toBe(true);
    expect(await silences.remove("S1")).toBe(false);
  });

  it("alerts: compare-and-set updates, json_extract lookups, exactly-once action keys", async () => {
    const alerts = new AlertRepo(d);
    const payload = outboxRow("x", "R1").payload;
    const state: AlertState = { payload, gen: 1, target_run: "R1", deliveries: ["d1"] };
    const a = await alerts.create({
      id: "A1",
      target: "slack:C1",
      kind: "slack",
      runId: "R1",
      groupKey: "g",
      count: 1,
      ref: null,
      state,
      createdAt: T0,
    });
    expect(await alerts.findOpen("slack:C1", "g", T0 - 1)).toMatchObject({ id: "A1" });
    const [u1, u2] = await Promise.all([
      alerts.update("A1", a.updatedAt, { count: 2, ref: { channel: "C1", ts: "1.1" } }, T0 + 1),
      alerts.update("A1", a.updatedAt, { count: 3 }, T0 + 1),
    ]);
    expect([u1, u2].filter(Boolean)).toHaveLength(1);
    expect(await alerts.following()).toEqual([]);
    const cur = (await alerts.get("A1"))!;
    await alerts.update(
      "A1",
      cur.updatedAt,
      {
        state: {
          ...cur.state,
          activity: { action: "retry", by: { id: "U1" }, at: T0, run_id: "R1", phase: "running" },
        },
      },
      T0 + 2,
    );
    expect((await alerts.following()).map((x) => x.id)).toEqual(["A1"]);
    expect((await alerts.latestForRun("R1", "slack"))!.state.activity).toMatchObject({ phase: "running" });
    const actions = new ActionRepo(d);
    const claims = await Promise.all([
      actions.claim("retry:A1:R1:1", "R1", T0),
      actions.claim("retry:A1:R1:1", "R1", T0),
    ]);
    expect(claims.filter(Boolean)).toHaveLength(1);
    await actions.setResult("retry:A1:R1:1", { status: "started" });
    expect(await actions.get("retry:A1:R1:1")).toMatchObject({ runId: "R1", result: { status: "started" } });
  });

  it("runs a flow with a retry and an on_failure handler through the engine", async () => {
    const config = parseEnv({ MEND_DB: ":memory:" });
    let calls = 0;
    const upstream = (async () =>
      new Response(JSON.stringify({ n: ++calls }), {
        status: calls < 2 ? 503 : 500,
        headers: { "content-type": "application/json" },
      })) as typeof fetch;
    const { deps, scheduler } = createServices({ config, db: d, fetch: upstream, log: () => undefined, pollMs: 20 });
    const flow = parseFlow({
      name: "flaky",
      retry: { max_attempts: 3, delay_ms: 30, backoff: "constant" },
      steps: [{ id: "call", http: { method: "GET", url: "http://upstream.test/x" } }],
      on_failure: [{ id: "fallback", compute: { source: "fallback", error: "{{ error.type }}" } }],
    });
    if (!flow.ok) throw new Error("bad flow");
    await deps.flows.put(flow.value, Date.now());
    scheduler.start();
    try {
      const started = await deps.engine.start({ flow: "flaky", input: {} });
      const done = await deps.engine.waitFor(started.id, 10_000);
      expect(done).toMatchObject({ status: "recovered", output: { source: "fallback", error: "http_status" } });
      const attempts = await deps.runs.getAttempts(started.id);
      expect(attempts.map((x) => `${x.step}#${x.attempt}:${x.status}`)).toEqual([
        "call#1:failed",
        "call#2:failed",
        "call#3:failed",
        "fallback#1:succeeded",
      ]);
      // The failure's alert went through the outbox (the default `log` handler).
      await expect
        .poll(async () => (await deps.outbox.forRun(started.id)).map((o) => o.status), { timeout: 5_000 })
        .toEqual(["delivered"]);
    } finally {
      scheduler.stop();
      await deps.engine.idle();
      await deps.dispatcher.idle();
    }
  });
});
