// Ack, resolve, mute and unmute: who did it, recorded on the run; the status never changes.
import { beforeEach, describe, expect, it } from "vitest";
import { startMend, type Mend } from "./harness";

let m: Mend;
let runId: string;
beforeEach(async () => {
  m = await startMend();
  await m.putFlow({ name: "broken", steps: [{ id: "boom", fail: { message: "no", type: "validation" } }] });
  runId = (await m.run("broken")).id;
});

describe("ack", () => {
  it("records who and when; a second ack answers the first one unchanged", async () => {
    const first = await m.api("POST", `/api/runs/${runId}/ack`, { by: "alice" });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ run_id: runId, acked_by: "alice", acked_at: new Date(m.clock.now()).toISOString() });
    await m.clock.advance(60_000);
    const second = await m.api("POST", `/api/runs/${runId}/ack`, { by: "bob" });
    expect(second).toMatchObject({ status: 200, body: first.body });
    const run = await m.get(runId);
    expect(run).toMatchObject({ status: "failed", acked_by: "alice", acked_at: first.body.acked_at });
    expect(m.changes.filter((c) => c.kind === "ack")).toHaveLength(1);
  });

  it("without by is recorded as api", async () => {
    expect((await m.api("POST", `/api/runs/${runId}/ack`)).body.acked_by).toBe("api");
  });

  it("answers 404 for an unknown run", async () => {
    expect((await m.api("POST", "/api/runs/nope/ack")).status).toBe(404);
  });
});

describe("resolve", () => {
  it("keeps the run's status and records who, when and the note", async () => {
    const r = await m.api("POST", `/api/runs/${runId}/resolve`, { by: "carol", note: "fixed upstream" });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      run_id: runId,
      status: "failed",
      resolved_by: "carol",
      resolution_note: "fixed upstream",
    });
    const run = await m.get(runId);
    expect(run).toMatchObject({
      status: "failed",
      resolved_by: "carol",
      resolution_note: "fixed upstream",
      resolved_at: r.body.resolved_at,
    });
  });
});

describe("mute and unmute", () => {
  it("mute without a duration lasts until the run is resolved", async () => {
    const r = await m.api("POST", `/api/runs/${runId}/mute`, { by: "dave" });
    expect(r.status).toBe(200);
    expect(r.body.silence).toMatchObject({
      flow: "broken",
      step: "boom",
      error_type: "validation",
      created_by: "dave",
      until_resolved: runId,
      run_id: runId,
    });
    expect((await m.api("GET", "/api/silences")).body.silences).toHaveLength(1);
    // A failure like it is silenced meanwhile.
    const again = await m.run("broken");
    expect(again.alerts.map((a: { status: string }) => a.status)).toEqual(["silenced"]);
    await m.api("POST", `/api/runs/${runId}/resolve`);
    expect((await m.api("GET", "/api/silences")).body.silences).toEqual([]);
  });

  it("mute with duration_s ends then; unmute ends every silence covering the run", async () => {
    const r = await m.api("POST", `/api/runs/${runId}/mute`, { duration_s: 3600 });
    expect(r.body.silence.ends_at).toBe(new Date(m.clock.now() + 3_600_000).toISOString());
    expect(r.body.silence.run_id).toBe(runId);
    await m.api("POST", "/api/silences", { flow: "bro*", duration_s: 60 });
    const un = await m.api("POST", `/api/runs/${runId}/unmute`, { by: "erin" });
    expect(un.status).toBe(200);
    expect(un.body.ended).toHaveLength(2);
    expect((await m.api("GET", "/api/silences")).body.silences).toEqual([]);
    const nothing = await m.api("POST", `/api/runs/${runId}/unmute`);
    expect(nothing.status).toBe(409);
  });

  it("a second mute of a muted run answers the covering silence and adds none", async () => {
    const first = await m.api("POST", `/api/runs/${runId}/mute`, { duration_s: 60 });
    const second = await m.api("POST", `/api/runs/${runId}/mute`, { duration_s: 600 });
    expect(second.body.silence.id).toBe(first.body.silence.id);
    expect((await m.api("GET", "/api/silences")).body.silences).toHaveLength(1);
  });
});

describe("GET /api/runs/:id", () => {
  it("lists the chat messages about the run", async () => {
    const now = m.clock.now();
    const state = { payload: {}, gen: 1, target_run: runId, deliveries: [] } as never;
    await m.deps.alerts.create({
      id: "a1",
      target: "slack:C1",
      kind: "slack",
      runId,
      groupKey: "g",
      count: 1,
      ref: { channel: "C1", ts: "1700000000.000100" },
      state,
      createdAt: now,
    });
    await m.deps.alerts.create({
      id: "a2",
      target: "discord:D1",
      kind: "discord",
      runId,
      groupKey: "g",
      count: 1,
      ref: { channel_id: "D1", message_id: "42" },
      state,
      createdAt: now,
    });
    await m.deps.alerts.create({
      id: "a3",
      target: "slack:C2",
      kind: "slack",
      runId,
      groupKey: "g",
      count: 1,
      ref: null,
      state,
      createdAt: now,
    });
    const run = await m.get(runId);
    expect(run.messages).toEqual([
      { platform: "slack", channel: "C1", message_id: "1700000000.000100" },
      { platform: "discord", channel: "D1", message_id: "42" },
    ]);
    expect(run).toMatchObject({
      acked_by: null,
      acked_at: null,
      resolved_by: null,
      resolved_at: null,
      resolution_note: null,
    });
  });
});

describe("run summaries", () => {
  it("carry the job of an external failure", async () => {
    const ext = await m.report();
    const list = await m.api("GET", "/api/runs");
    expect(list.body.runs.find((r: { id: string }) => r.id === ext)).toMatchObject({
      flow: "external:ci",
      job: "nightly-build",
    });
    expect(list.body.runs.find((r: { id: string }) => r.id === runId)).toMatchObject({ job: null });
  });
});
