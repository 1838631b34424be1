// Button clicks (in-process, fake clock): signature checks, the allow-list, exactly-once, Mute… (a static_select).
import { afterEach, describe, expect, it } from "vitest";
import {
  ALICE,
  CHANNEL,
  MALLORY,
  click,
  clickPayload,
  findButton,
  messageText,
  postSigned,
  runOnce,
  setupFailingFlow,
  startSlackEnv,
  type SlackEnv,
} from "./harness";

let e: SlackEnv | undefined;
afterEach(async () => {
  await e?.stop();
  e = undefined;
});

async function failedWithAlert(env: SlackEnv) {
  await setupFailingFlow(env);
  env.upstream.script([], { status: 500, body: { error: "down" } });
  const run = await runOnce(env);
  expect(run.status).toBe("failed");
  const posted = await env.until(() => env.slack.messages[0], 10_000, "the alert");
  // A snapshot: the fake edits its messages in place.
  const message = { ...posted, blocks: posted.blocks, versions: [] };
  return { runId: run.id as string, message };
}

describe("slack clicks", () => {
  it("refuses a bad signature with 401 and runs nothing", async () => {
    e = await startSlackEnv();
    const env = e;
    const { runId, message } = await failedWithAlert(env);
    const body = new URLSearchParams({
      payload: JSON.stringify(clickPayload(env, message, "retry", ALICE)),
    }).toString();
    const bad = await postSigned(env, body, "application/x-www-form-urlencoded", { secret: "not-the-signing-secret" });
    expect(bad.status).toBe(401);
    expect(((await bad.json()) as { error: string }).error).toMatch(/signature/i);
    // Unsigned, and signed over a different body, are refused too.
    const unsigned = await env.request("/slack/events", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body,
    });
    expect(unsigned.status).toBe(401);
    await env.pass(200);
    expect((await env.waitForStatus(runId, ["failed"])).status).toBe("failed");
    expect(env.upstream.requests).toHaveLength(1);
    expect(env.slack.callsOf("chat.update")).toHaveLength(0);
    expect(env.slack.callsOf("chat.postEphemeral")).toHaveLength(0);
  });

  it("refuses a request older than 5 minutes with 401", async () => {
    e = await startSlackEnv();
    const env = e;
    const { runId, message } = await failedWithAlert(env);
    const res = await click(env, message, "retry", ALICE, { timestampS: Math.floor(env.now() / 1000) - 301 });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: string }).error).toMatch(/stale/i);
    await env.pass(200);
    expect((await env.waitForStatus(runId, ["failed"])).status).toBe("failed");
    expect(env.upstream.requests).toHaveLength(1);
    // Inside the window it is accepted.
    const ok = await click(env, message, "retry", ALICE, { timestampS: Math.floor(env.now() / 1000) - 240 });
    expect(ok.status).toBe(200);
    await env.until(() => env.upstream.requests.length === 2, 10_000, "the retry");
  });

  it("answers a user outside SLACK_ALLOWED_USERS with an ephemeral message and runs nothing", async () => {
    e = await startSlackEnv();
    const env = e;
    const { runId, message } = await failedWithAlert(env);
    for (const action of ["retry", "replay", "mute"] as const) {
      const res = await click(env, message, action, MALLORY, { choice: "1h" });
      expect(res.status).toBe(200);
    }
    const eph = await env.until(
      () =>
        env.slack.callsOf("chat.postEphemeral", true).length === 3
          ? env.slack.callsOf("chat.postEphemeral")
          : undefined,
      5_000,
      "ephemeral replies",
    );
    for (const c of eph) {
      expect(c.args).toMatchObject({ channel: CHANNEL, user: MALLORY.id });
      expect(String(c.args.text)).toMatch(/not allowed/);
    }
    await env.pass(200);
    expect((await env.waitForStatus(runId, ["failed"])).status).toBe("failed");
    expect(env.upstream.requests).toHaveLength(1);
    const runs = (await (await env.api("/api/runs")).json()) as { runs: unknown[] };
    expect(runs.runs).toHaveLength(1); // no replay run
    expect(env.slack.callsOf("chat.update")).toHaveLength(0); // the alert is untouched
    const silences = env.deps.silences;
    expect(await silences.active(env.now())).toHaveLength(0);
  });

  it("runs a double-clicked Retry once, and ignores a redelivered click after the run failed again", async () => {
    e = await startSlackEnv();
    const env = e;
    const { runId, message } = await failedWithAlert(env);
    const clicked = message;
    const answers = await Promise.all([
      click(env, clicked, "retry"),
      click(env, clicked, "retry"),
      click(env, clicked, "retry"),
    ]);
    for (const a of answers) expect(a.status).toBe(200);
    // The retry fails again (upstream still 500); the message gets fresh buttons.
    await env.until(() => messageText(env.slack.messages[0]!).includes("failed again"), 10_000, "failed again");
    await env.pass(200);
    expect(env.upstream.requests).toHaveLength(2);
    // A late redelivery of the old click (same buttons) runs nothing either.
    const late = await click(env, clicked, "retry");
    expect(late.status).toBe(200);
    await env.pass(300);
    expect(env.upstream.requests).toHaveLength(2);
    expect((await env.waitForStatus(runId, ["failed"])).status).toBe("failed");
    // The fresh buttons on the edited message work (one more retry, which now succeeds).
    env.upstream.script([], { status: 200, body: { ok: true } });
    const fresh = env.slack.messages[0]!;
    expect(findButton(fresh, "retry")!.value).not.toBe(findButton(clicked, "retry")!.value);
    await click(env, fresh, "retry");
    await env.waitForStatus(runId, ["succeeded"]);
    expect(env.upstream.requests).toHaveLength(3);
    const last = messageText(
      await env.until(
        () => (/succeeded/.test(env.slack.messages[0]!.text) ? env.slack.messages[0] : undefined),
        5_000,
        "succeeded",
      ),
    );
    expect(last).toContain(`<@${ALICE.id}>`);
  });

  it("replays on click: a new run, followed to its end in the same message", async () => {
    e = await startSlackEnv();
    const env = e;
    const { runId, message } = await failedWithAlert(env);
    env.upstream.script([], { status: 200, body: { ok: true } });
    await Promise.all([click(env, message, "replay"), click(env, message, "replay")]);
    const final = await env.until(
      () => (/Replay by .* succeeded/.test(env.slack.messages[0]!.text) ? env.slack.messages[0] : undefined),
      10_000,
      "replay outcome",
    );
    const runs = (await (await env.api("/api/runs")).json()) as { runs: { id: string; status: string }[] };
    expect(runs.runs).toHaveLength(2);
    const replay = runs.runs.find((r) => r.id !== runId)!;
    expect(replay.status).toBe("succeeded");
    expect(messageText(final)).toContain(replay.id);
    expect(env.slack.messages).toHaveLength(1);
  });

  it("Mute… 1 hour creates a silence, says so in the message, and the next failure is not sent", async () => {
    e = await startSlackEnv();
    const env = e;
    const { message } = await failedWithAlert(env);
    const res = await click(env, message, "mute", ALICE, { choice: "1h" });
    expect(res.status).toBe(200);
    const muted = await env.until(
      () => (/Muted by alice/.test(env.slack.messages[0]!.text) ? env.slack.messages[0] : undefined),
      5_000,
      "muted message",
    );
    await env.until(
      () => env.slack.replies.some((r) => r.thread_ts === muted.ts && /^Muted by alice/.test(r.text)),
      5_000,
      "the thread reply",
    );
    expect(findButton(muted, "mute")).toBeUndefined();
    expect(findButton(muted, "retry")).toBeDefined();
    const silences = await env.deps.silences.active(env.now());
    expect(silences).toHaveLength(1);
    expect(silences[0]).toMatchObject({
      flow: "orders",
      step: "charge",
      error_type: "http_status",
      created_by: expect.stringContaining(`slack:${ALICE.id}`),
    });
    const ends = Date.parse(silences[0]!.ends_at) - env.now();
    expect(ends).toBeGreaterThan(3_500_000);
    expect(ends).toBeLessThanOrEqual(3_600_000);

    const callsBefore = env.slack.calls.length;
    const again = await runOnce(env);
    expect(again.status).toBe("failed");
    await env.pass(400);
    const view = (await (await env.api(`/api/runs/${again.id as string}`)).json()) as {
      alerts: { status: string }[];
    };
    expect(view.alerts.map((a) => a.status)).toEqual(["silenced"]);
    expect(env.slack.calls.slice(callsBefore).filter((c) => c.method.startsWith("chat."))).toHaveLength(0);
    // A second pick on the same select (double click) creates no second silence.
    await click(env, message, "mute", ALICE, { choice: "1h" });
    await env.pass(200);
    expect(await env.deps.silences.active(env.now())).toHaveLength(1);
  });
});

describe("slack edits under rate limits", () => {
  it("edits the message after Retry-After when chat.update answers 429", async () => {
    e = await startSlackEnv();
    const env = e;
    const { message } = await failedWithAlert(env);
    env.slack.rateLimit("chat.update", 1, 1);
    const t0 = env.now();
    expect((await click(env, message, "mute", ALICE, { choice: "1h" })).status).toBe(200);
    await env.until(() => /Muted by alice/.test(env.slack.messages[0]!.text), 5_000, "muted after the wait");
    const updates = env.slack.callsOf("chat.update");
    expect(updates.map((u) => u.status)).toEqual([429, 200]);
    expect(updates[1]!.at - t0).toBeGreaterThanOrEqual(950);
  });
});

describe("slack clicks on external failures", () => {
  it("Retry calls the reporting system back (signed) and the message says what it answered", async () => {
    e = await startSlackEnv({ MEND_WEBHOOK_SECRET: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" });
    const env = e;
    const h = await env.api("/api/handlers", {
      method: "POST",
      json: { name: "ops-slack", kind: "slack", config: { channel: CHANNEL } },
    });
    expect(h.status).toBe(201);
    env.upstream.script([], { status: 200, body: { queued: true } });
    const rep = await env.api("/api/failures", {
      method: "POST",
      json: {
        source: "ci",
        job: "nightly",
        step: "deploy",
        error: { message: "exit 1", type: "runtime" },
        retry_url: `${env.upstream.url}/retry`,
      },
    });
    expect(rep.status).toBe(202);
    const { run_id } = (await rep.json()) as { run_id: string };
    const posted = await env.until(() => env.slack.messages[0], 5_000, "alert");
    const message = { ...posted, versions: [] };
    expect(messageText(message)).toContain("external:ci");
    await Promise.all([click(env, message, "retry"), click(env, message, "retry")]);
    const edited = await env.until(
      () => (/sent to ci/.test(env.slack.messages[0]!.text) ? env.slack.messages[0] : undefined),
      5_000,
      "callback noted",
    );
    expect(messageText(edited)).toContain("answered 200");
    await env.pass(100);
    const calls = env.upstream.requests.filter((r) => r.path === "/retry");
    expect(calls).toHaveLength(1);
    expect(calls[0]!.headers["webhook-signature"]).toBeDefined();
    expect(JSON.parse(calls[0]!.body)).toMatchObject({
      type: "retry",
      run_id,
      source: "ci",
      job: "nightly",
      requested_by: expect.stringContaining(`slack:${ALICE.id}`),
    });

    // When the job later reports success, code that resolves the run edits the alert.
    const run = (await env.deps.runs.getRun(run_id))!;
    await env.deps.clicks.resolved({ ...run, status: "succeeded" }, "ci reported success");
    const resolved = await env.until(
      () => (/Resolved: ci reported success/.test(env.slack.messages[0]!.text) ? env.slack.messages[0] : undefined),
      5_000,
      "resolved",
    );
    expect(findButton(resolved, "retry")).toBeUndefined();
  });
});
