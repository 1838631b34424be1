// Unit tests of the pieces: v0 verification, the alert model, and the chat layer on SQLite
// (grouping redeliveries, and the durable path that reports a followed run's end).
import { afterEach, describe, expect, it } from "vitest";
import { buildAlert, decodeButton, encodeButton, statusLine } from "../../src/chat/model";
import { truncate } from "../../src/chat/truncate";
import { signSlackRequest, verifySlackRequest } from "../../src/chat/slack/verify";
import type { AlertPayload } from "../../src/engine/ports";
import { parseFlow } from "../../src/engine/flow";
import { parseEnv } from "../../src/env";
import { createServices } from "../../src/services";
import { openSqlite } from "../../src/store/sqlite-node";
import { z } from "zod";
import type { AnyChatPlatform } from "../../src/chat/platform";
import { DeliveryError } from "../../src/handlers/types";
import { isAllowed } from "../../src/chat/slack/interactions";
import { slackDeliveryError } from "../../src/chat/slack/send";

const SECRET = "shhh";
const NOW = 1_700_000_000_000;

describe("verifySlackRequest", () => {
  const body = "payload=%7B%22type%22%3A%22block_actions%22%7D";
  it("accepts Slack's v0 signature and refuses anything else", async () => {
    const h = await signSlackRequest(SECRET, body, NOW / 1000);
    const base = {
      signingSecret: SECRET,
      body,
      timestamp: h["x-slack-request-timestamp"],
      signature: h["x-slack-signature"],
      nowMs: NOW,
    };
    expect(await verifySlackRequest(base)).toEqual({ ok: true });
    expect(await verifySlackRequest({ ...base, body: body + "x" })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/signature/i),
    });
    expect(await verifySlackRequest({ ...base, signingSecret: "other" })).toMatchObject({ ok: false });
    expect(
      await verifySlackRequest({ ...base, signature: h["x-slack-signature"].replace("v0=", "v1=") }),
    ).toMatchObject({ ok: false, reason: expect.stringMatching(/version/) });
    expect(await verifySlackRequest({ ...base, signature: undefined })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/missing/),
    });
    expect(await verifySlackRequest({ ...base, timestamp: "12abc" })).toMatchObject({ ok: false });
  });

  it("has a 5-minute window both ways, checked before the signature", async () => {
    const h = await signSlackRequest(SECRET, body, NOW / 1000);
    const base = {
      signingSecret: SECRET,
      body,
      timestamp: h["x-slack-request-timestamp"],
      signature: h["x-slack-signature"],
    };
    expect(await verifySlackRequest({ ...base, nowMs: NOW + 300_000 })).toEqual({ ok: true });
    expect(await verifySlackRequest({ ...base, nowMs: NOW + 301_000 })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/stale/),
    });
    expect(await verifySlackRequest({ ...base, nowMs: NOW - 301_000 })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/stale/),
    });
  });
});

describe("slack helpers", () => {
  it("allow-list: empty means anyone, otherwise only listed ids", () => {
    expect(isAllowed([], "UANY")).toBe(true);
    expect(isAllowed(["U1", "U2"], "U2")).toBe(true);
    expect(isAllowed(["U1"], "U2")).toBe(false);
  });

  it("maps Web API errors to what the outbox should do", () => {
    expect(slackDeliveryError({ code: "slack_webapi_rate_limited_error", retryAfter: 7 })).toMatchObject({
      retryAfterMs: 7000,
      permanent: false,
    });
    expect(
      slackDeliveryError({ code: "slack_webapi_platform_error", data: { error: "channel_not_found" } }),
    ).toMatchObject({ permanent: true });
    expect(slackDeliveryError({ code: "slack_webapi_platform_error", data: { error: "fatal_error" } })).toMatchObject({
      permanent: false,
    });
    expect(slackDeliveryError({ code: "slack_webapi_http_error", statusCode: 503 })).toMatchObject({
      permanent: false,
      message: expect.stringContaining("503"),
    });
    expect(slackDeliveryError(new Error("socket hang up"))).toMatchObject({ permanent: false });
  });
});

const payload = (over: Partial<AlertPayload["error"]> = {}, run: Partial<AlertPayload["run"]> = {}): AlertPayload => ({
  run: { id: "01RUNA", flow: "orders", flow_version: 3, status: "failed", ...run },
  error: { message: "boom", type: "http_status", step: "charge", attempts: 4, status: 502, ...over },
  failed: { error: { message: "boom", type: "http_status" } },
});

describe("alert model", () => {
  it("carries what every platform shows, with the run link and encoded buttons", () => {
    const m = buildAlert(payload(), { messageLimit: 100, publicUrl: "https://mend.example/", alertId: "01ALERT" });
    expect(m).toMatchObject({
      flow: "orders",
      flowVersion: 3,
      step: "charge",
      errorType: "http_status",
      message: "boom",
      attempts: 4,
      status: 502,
      runId: "01RUNA",
      runUrl: "https://mend.example/runs/01RUNA",
      count: 1,
      tone: "failed",
    });
    expect(m.buttons.map((b) => b.action)).toEqual(["retry", "replay", "replay_input", "ack", "resolve", "mute"]);
    expect(decodeButton(m.buttons[0]!.id)).toEqual({ action: "retry", alertId: "01ALERT", runId: "01RUNA", gen: 0 });
    expect(m.buttons.every((b) => b.id.length <= 100)).toBe(true);
    expect(decodeButton("mend:explode:a:b:1")).toBeUndefined();
    const mute = encodeButton({ action: "mute", alertId: "", runId: "R", gen: 7 });
    expect(decodeButton(mute, "4h")).toEqual({ action: "mute", alertId: "", runId: "R", gen: 7, choice: "4h" });
    // A select needs one of its choices; a button takes none.
    expect(decodeButton(mute)).toBeUndefined();
    expect(decodeButton(mute, "2h")).toBeUndefined();
    expect(decodeButton(m.buttons[0]!.id, "1h")).toBeUndefined();
  });

  it("truncates with an ellipsis inside the limit", () => {
    expect(truncate("abcdef", 4)).toBe("abc…");
    expect(truncate("abc", 3)).toBe("abc");
    expect(buildAlert(payload({ message: "x".repeat(50) }), { messageLimit: 10 }).message).toHaveLength(10);
  });

  it("says who clicked and how it ended; hides buttons while running and once fixed", () => {
    const by = { id: "U1", name: "ann" };
    const base = { payload: payload(), gen: 2, target_run: "01RUNA", deliveries: [] };
    const running = buildAlert(payload(), {
      messageLimit: 100,
      state: { ...base, activity: { action: "retry", by, at: NOW, run_id: "01RUNA", phase: "running" } },
    });
    expect(running.buttons).toEqual([]);
    expect(statusLine(running, (u) => `@${u.name}`)).toBe("Retry by @ann — running…");
    const fixed = buildAlert(payload(), {
      messageLimit: 100,
      state: {
        ...base,
        facts: { status: "succeeded" },
        activity: { action: "retry", by, at: NOW, run_id: "01RUNA", phase: "done", outcome: "succeeded" },
      },
    });
    expect(fixed.buttons).toEqual([]);
    expect(fixed.tone).toBe("resolved");
    expect(statusLine(fixed, (u) => `@${u.name}`)).toMatch(/Retry by @ann — succeeded/);
    const again = buildAlert(payload(), {
      messageLimit: 100,
      state: {
        ...base,
        activity: {
          action: "replay",
          by,
          at: NOW,
          run_id: "01RUNB",
          phase: "done",
          outcome: "failed",
          error: { message: "still down", type: "network" },
        },
      },
    });
    expect(again.buttons.map((b) => b.action)).toEqual(["retry", "replay", "replay_input", "ack", "resolve", "mute"]);
    expect(decodeButton(again.buttons[0]!.id)!.gen).toBe(2);
    expect(statusLine(again, (u) => `@${u.name}`)).toBe("Replay by @ann — failed again (run 01RUNB): still down");
  });
});

describe("chat layer on SQLite", () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0)) await c();
  });

  /** A chat platform `test` whose connection records what it is asked to do. */
  const record = { posted: [] as string[], edits: [] as { id: string; count: number }[], failPost: false };
  const testPlatform: AnyChatPlatform = {
    kind: "test",
    name: "Test",
    env: {},
    credentials: [],
    channel: { field: "channel", id: z.string() },
    limits: { message: 500, buttons: 5 },
    connect: () => ({
      bot: true,
      post: async (_target, model, o) => {
        if (record.failPost) {
          record.failPost = false;
          throw new DeliveryError("rate limited", 1000);
        }
        record.posted.push(o.alertId);
        return { ts: model.runId };
      },
      canEdit: () => true,
      edit: async (_ref, model) => void record.edits.push({ id: model.alertId, count: model.count }),
      reply: async () => undefined,
    }),
  };

  function services(env: Record<string, string> = {}) {
    const db = openSqlite(":memory:");
    const { deps } = createServices({
      config: parseEnv({ MEND_DB: ":memory:", ...env }),
      db,
      log: () => undefined,
      platforms: [testPlatform],
    });
    closers.push(async () => {
      await deps.engine.idle();
      await db.close();
    });
    record.posted = [];
    record.edits = [];
    return deps;
  }

  it("counts a redelivered failure once and posts what a failed post left missing", async () => {
    const deps = services();
    record.failPost = true;
    const deliver = (deliveryId: string, runId: string) =>
      deps.chat.deliver({
        kind: "test",
        config: { channel: "C1" },
        payload: payload({}, { id: runId }),
        deliveryId,
        fetch,
      });
    await expect(deliver("d1", "R1")).rejects.toThrow("rate limited");
    expect((await deliver("d1", "R1")).action).toBe("posted");
    expect((await deliver("d2", "R2")).action).toBe("updated");
    const again = await deliver("d2", "R2");
    expect(again.alert.count).toBe(2);
    expect(record.posted).toHaveLength(1);
    expect(record.edits.map((e) => e.count)).toEqual([2, 2]);
    // Concurrent deliveries of one group end in one message.
    const all = await Promise.all(["d3", "d4", "d5"].map((d, i) => deliver(d, `R${3 + i}`)));
    expect(new Set(all.map((r) => r.alert.id)).size).toBe(1);
    expect((await deps.alerts.get(all[0]!.alert.id))!.count).toBe(5);
  });

  it("reports the end of a followed run from the scheduler tick (no in-memory waiter)", async () => {
    const deps = services();
    const flow = parseFlow({ name: "guard", steps: [{ id: "check", fail: { message: "nope", type: "validation" } }] });
    if (!flow.ok) throw new Error("bad flow");
    await deps.flows.put(flow.value, Date.now());
    const run = await deps.engine.start({ flow: "guard", input: {} });
    await deps.engine.waitFor(run.id, 5_000);
    const edits = record.edits;
    const { alert } = await deps.chat.deliver({
      kind: "test",
      config: { channel: "C9" },
      payload: payload({}, { id: run.id, flow: "guard" }),
      deliveryId: "x",
      fetch,
    });
    // As if a click in an earlier process had started a retry whose end that process never reported.
    await deps.chat.change(
      alert.id,
      (a) => ({
        state: {
          ...a.state,
          activity: { action: "retry", by: { id: "U1" }, at: Date.now(), run_id: run.id, phase: "running" },
        },
      }),
      { edit: false },
    );
    expect(edits).toHaveLength(0);
    expect(await deps.updates.tick()).toBe(1);
    expect(edits).toHaveLength(1);
    const done = (await deps.alerts.get(alert.id))!;
    expect(done.state.activity).toMatchObject({ phase: "done", outcome: "failed" });
    expect(done.state.gen).toBe(alert.state.gen + 1);
    // Reported once: a second tick finds nothing to follow.
    expect(await deps.updates.tick()).toBe(0);
    expect(edits).toHaveLength(1);
  });
});
