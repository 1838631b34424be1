// What every chat platform must do (SPEC §5, §10), run once per platform in-process: the fake
// clock, SQLite :memory:, app.request(), and the fake Slack / Discord behind the injected fetch.
import { expect, it } from "vitest";
import { current, failingFlow, failOnce, forEachPlatform, runStatus } from "./harness";

const labels = (m: { buttons: { label: string }[] }) => m.buttons.map((b) => b.label);

forEachPlatform("%s", (start) => {
  it("offers Retry on a run its error handler recovered, and the Retry works", async () => {
    const harness = await start();
    await failingFlow(harness, { on_failure: [{ id: "note", compute: { expr: "1" } }] });
    const { runId, message } = await failOnce(harness);
    expect(await runStatus(harness, runId)).toBe("recovered");
    await harness.until(
      () => labels(current(harness, message.id)).includes("Retry"),
      5_000,
      "Retry on the recovered alert",
    );
    harness.upstream.status = 200;
    const res = await harness.driver.click(harness, current(harness, message.id), "retry");
    expect(res.status).toBe(200);
    await harness.until(async () => (await runStatus(harness, runId)) === "succeeded", 5_000, "the retried run");
    const done = await harness.until(
      () => (/succeeded/.test(current(harness, message.id).text) ? current(harness, message.id) : undefined),
      5_000,
      "the outcome",
    );
    expect(done.buttons).toEqual([]);
  });

  it("edits the message within 5 s when the run is retried through the API, and tells the thread", async () => {
    const harness = await start();
    await failingFlow(harness);
    const { runId, message } = await failOnce(harness);
    harness.upstream.status = 200;
    const t0 = harness.clock.now();
    expect((await harness.api(`/api/runs/${runId}/retry`, { json: {} })).status).toBe(202);
    await harness.until(() => /succeeded/.test(current(harness, message.id).text), 5_000, "the edit");
    expect(harness.clock.now() - t0).toBeLessThanOrEqual(5_000);
    expect(current(harness, message.id).buttons).toEqual([]);
    const replies = harness.driver.replies(message.id);
    expect(replies.some((r) => /Retry by api/.test(r))).toBe(true);
    expect(replies.some((r) => /succeeded/.test(r))).toBe(true);
  });

  it("tracks a message posted by the built-in script in on_failure: its buttons follow the run and work", async () => {
    const harness = await start();
    const script = { id: "tell", script: { name: harness.driver.kind, args: harness.driver.config() } };
    const flow = await harness.api("/api/flows/orders", {
      method: "PUT",
      json: {
        name: "orders",
        steps: [{ id: "charge", http: { method: "POST", url: "http://upstream.test/charge" } }],
        on_failure: [script, { id: "boom", fail: { message: "handler broke", type: "runtime" } }],
      },
    });
    expect(flow.status).toBeLessThan(300);
    const res = await harness.api("/hooks/orders", { json: {} });
    const { run_id } = (await res.json()) as { run_id: string };
    await harness.until(async () => (await runStatus(harness, run_id)) === "failed", 10_000, "the run to fail");
    const message = await harness.until(() => harness.driver.messages()[0], 5_000, "the script's message");
    // Posted while the run was still in on_failure; edited once it ended: now Retry can work.
    await harness.until(
      () => labels(current(harness, message.id)).includes("Retry"),
      5_000,
      "Retry once the run ended",
    );
    harness.upstream.status = 200;
    await harness.driver.click(harness, current(harness, message.id), "retry");
    await harness.until(async () => (await runStatus(harness, run_id)) === "succeeded", 5_000, "the retried run");
    expect((await harness.deps.alerts.forRun(run_id)).length).toBe(1);
  });

  it("titles an external failure <source> / <job> and shows Retry / Replay only with their callback URLs", async () => {
    const harness = await start({
      MEND_WEBHOOK_SECRET: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
      MEND_GROUP_WINDOW_S: "0",
    });
    await harness.api("/api/handlers", {
      json: { name: "ops", kind: harness.driver.kind, config: harness.driver.config() },
    });
    const report = (extra: Record<string, unknown>) =>
      harness.api("/api/failures", {
        json: { source: "ci", job: "nightly-build", error: { message: "exit 1" }, ...extra },
      });
    expect((await report({})).status).toBe(202);
    const bare = await harness.until(() => harness.driver.messages()[0], 5_000, "the first alert");
    expect(bare.text).toContain("ci / nightly-build failed");
    expect(labels(bare)).not.toContain("Retry");
    expect(labels(bare)).not.toContain("Replay");
    expect((await report({ retry_url: "http://upstream.test/retry" })).status).toBe(202);
    const withRetry = await harness.until(() => harness.driver.messages()[1], 5_000, "the second alert");
    expect(labels(withRetry)).toContain("Retry");
    expect(labels(withRetry)).not.toContain("Replay");
  });

  it("gives a group Retry all (N), which retries each still-failed run of the group once", async () => {
    const harness = await start();
    await failingFlow(harness);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await failOnce(harness)).runId);
    expect(harness.driver.messages()).toHaveLength(1);
    const message = await harness.until(
      () =>
        labels(harness.driver.messages()[0]!).includes("Retry all (3)") ? harness.driver.messages()[0] : undefined,
      5_000,
      "Retry all (3)",
    );
    harness.upstream.status = 200;
    const before = harness.upstream.requests;
    await harness.driver.click(harness, message, "retry_all");
    await harness.until(
      async () => (await Promise.all(ids.map((id) => runStatus(harness, id)))).every((s) => s === "succeeded"),
      10_000,
      "every run of the group",
    );
    expect(harness.upstream.requests - before).toBe(3);
    // A second click of the same (old) button runs nothing more.
    await harness.driver.click(harness, message, "retry_all");
    await harness.clock.advance(1_000);
    expect(harness.upstream.requests - before).toBe(3);
  });

  it("lists the group's message under every run counted into it, and the origin message under a replay", async () => {
    const harness = await start();
    await failingFlow(harness);
    const first = await failOnce(harness);
    const second = await failOnce(harness);
    expect(second.message.id).toBe(first.message.id);
    const messagesOf = async (id: string) =>
      ((await (await harness.api(`/api/runs/${id}`)).json()) as { messages: { message_id: string }[] }).messages;
    const expected = [{ platform: harness.driver.kind, channel: expect.any(String), message_id: first.message.id }];
    expect(await messagesOf(first.runId)).toEqual(expected);
    expect(await messagesOf(second.runId)).toEqual(expected);
    const res = await harness.api(`/api/runs/${first.runId}/replay`, { json: {} });
    const { run_id: replayId } = (await res.json()) as { run_id: string };
    await harness.until(async () => (await runStatus(harness, replayId)) === "failed", 10_000, "the replay to fail");
    expect(await messagesOf(replayId)).toEqual(expected);
  });

  it("tells in the group message's thread that a replay of an earlier run of the group failed again", async () => {
    const harness = await start();
    await failingFlow(harness);
    const first = await failOnce(harness);
    await failOnce(harness);
    expect((await harness.api(`/api/runs/${first.runId}/replay`, { json: {} })).status).toBe(202);
    await harness.until(
      () => harness.driver.replies(first.message.id).some((r) => /failed again/.test(r)),
      10_000,
      "failed again in the thread",
    );
    await harness.clock.advance(5_000);
    expect(harness.driver.replies(first.message.id).filter((r) => /failed again/.test(r))).toHaveLength(1);
    expect(harness.driver.messages()).toHaveLength(1);
  });

  it("tells a replay that fails again in the original message's thread, not as a new member of its group", async () => {
    const harness = await start();
    await failingFlow(harness);
    const { message } = await failOnce(harness);
    await harness.driver.click(harness, message, "replay");
    await harness.until(
      () => harness.driver.replies(message.id).some((r) => /failed again/.test(r)),
      10_000,
      "failed again in the thread",
    );
    await harness.clock.advance(5_000);
    expect(harness.driver.messages()).toHaveLength(1);
    expect(current(harness, message.id).text).not.toMatch(/2 in this group/);
    expect(labels(current(harness, message.id))).toContain("Retry");
  });

  it("posts a burst of 50 alerts to one channel whose every second post is rate limited, each once and in order, within 120 s", async () => {
    const harness = await start({ MEND_GROUP_WINDOW_S: "0" });
    await harness.api("/api/handlers", {
      json: { name: "ops", kind: harness.driver.kind, config: harness.driver.config() },
    });
    harness.driver.rateLimitEverySecondPost(1_000, 1);
    const t0 = harness.clock.now();
    for (let i = 1; i <= 50; i++) {
      const res = await harness.api("/api/failures", {
        json: { source: "ci", job: `job-${String(i).padStart(2, "0")}`, error: { message: "exit 1" } },
      });
      expect(res.status).toBe(202);
    }
    await harness.until(() => harness.driver.messages().length >= 50, 120_000, "50 messages");
    expect(harness.clock.now() - t0).toBeLessThanOrEqual(120_000);
    const jobs = harness.driver.messages().map((m) => /job-(\d\d)/.exec(m.text)?.[1]);
    expect(jobs).toEqual(Array.from({ length: 50 }, (_, i) => String(i + 1).padStart(2, "0")));
    const rows = (await (await harness.api("/api/handlers")).json()) as {
      handlers: { health?: { pending: number } }[];
    };
    expect(rows.handlers[0]!.health?.pending ?? 0).toBe(0);
  });

  it("marks a delivery to a dead channel failed, shows it in health, and tells the fallback handler", async () => {
    const harness = await start();
    const spare = harness.driver.kind === "slack" ? "C0SPARE" : "300000000000000999";
    const dead = harness.driver.kind === "slack" ? "C0GONE" : "300000000000000666";
    harness.driver.killChannel(dead);
    const fb = await harness.api("/api/handlers", {
      json: {
        name: "spare",
        kind: harness.driver.kind,
        config: harness.driver.config(spare),
        match: { flows: ["nothing-*"] },
        fallback: true,
      },
    });
    expect(fb.status).toBe(201);
    await failingFlow(harness, {}, { config: harness.driver.config(dead) });
    const res = await harness.api("/hooks/orders", { json: {} });
    const { run_id } = (await res.json()) as { run_id: string };
    const notice = await harness.until(
      () => harness.driver.messages().find((m) => /mend could not deliver 1 alert\(s\) to ops/.test(m.text)),
      10_000,
      "the notice",
    );
    expect(notice).toBeDefined();
    const view = (await (await harness.api(`/api/runs/${run_id}`)).json()) as {
      alerts: { status: string; attempts: number }[];
    };
    expect(view.alerts[0]).toMatchObject({ status: "failed", attempts: 1 });
    const list = (await (await harness.api("/api/handlers")).json()) as {
      handlers: { name: string; health: Record<string, unknown> }[];
    };
    const ops = list.handlers.find((x) => x.name === "ops")!;
    expect(ops.health).toMatchObject({
      pending: 0,
      last_success_at: null,
      failing_since: expect.any(String),
      last_error: expect.stringMatching(/channel_not_found|404/),
    });
    expect(harness.logs.some((l) => l.includes("mend could not deliver 1 alert(s) to ops"))).toBe(true);
    const page = await (await harness.app.request("/handlers")).text();
    expect(page).toMatch(/failing since/);
  });
});
