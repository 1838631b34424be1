// End to end: a flow fails, the alert reaches (fake) Slack, the upstream recovers, a Retry click
// makes the run succeed, and the same message is edited to show the clicker and the outcome.
import { afterEach, describe, expect, it } from "vitest";
import {
  ALICE,
  CHANNEL,
  click,
  findButton,
  messageText,
  runOnce,
  setupFailingFlow,
  startSlackServer,
  type SlackEnv,
} from "./harness";

let e: SlackEnv | undefined;
afterEach(async () => {
  await e?.stop();
  e = undefined;
});

describe("slack end to end", () => {
  it("alerts, retries on click and edits the same message with the clicker and the outcome", async () => {
    e = await startSlackServer();
    const env = e;
    await setupFailingFlow(env);
    env.upstream.script([{ status: 500, body: { error: "db down" } }], { status: 200, body: { charged: true } });

    const failed = await runOnce(env);
    expect(failed.status).toBe("failed");
    const runId = failed.id as string;

    // The alert reaches Slack through the real WebClient with the bot token.
    const post = await env.until(() => env.slack.callsOf("chat.postMessage", true)[0], 10_000, "chat.postMessage");
    expect(post.headers.authorization).toBe(`Bearer ${env.slack.token}`);
    expect(post.headers["content-type"]).toContain("application/x-www-form-urlencoded");
    expect(post.args.channel).toBe(CHANNEL);
    const message = env.slack.messages[0]!;
    const text = messageText(message);
    expect(text).toContain("orders");
    expect(text).toContain("charge");
    expect(text).toContain("http_status");
    expect(text).toContain(runId);
    expect(text).toContain(`https://mend.example/runs/${runId}`);
    expect(text).toContain("```");
    expect(findButton(message, "retry")).toBeDefined();
    expect(findButton(message, "replay")).toBeDefined();
    expect(findButton(message, "mute")).toBeDefined();

    // The run's ledger shows the delivered alert with Slack's ids.
    const view = (await (await env.api(`/api/runs/${runId}`)).json()) as {
      alerts: { kind: string; status: string; response: { ts: string } }[];
    };
    expect(view.alerts[0]).toMatchObject({ kind: "slack", status: "delivered" });
    expect(view.alerts[0]!.response.ts).toBe(message.ts);

    // The upstream recovers; Alice clicks Retry on the posted button.
    const t0 = env.now();
    const res = await click(env, message, "retry", ALICE);
    expect(res.status).toBe(200);
    // Acked well inside Slack's 3 seconds (the work goes on after the answer).
    expect(env.now() - t0).toBeLessThan(1_000);

    const done = await env.waitForStatus(runId, ["succeeded"]);
    expect(done.status).toBe("succeeded");

    // The same message (same channel + ts) was edited: first running…, then the outcome.
    const final = await env.until(
      () => {
        const m = env.slack.messages[0]!;
        return m.versions.some((v) => /succeeded/.test(v.text)) ? m : undefined;
      },
      10_000,
      "edit with the outcome",
    );
    expect(env.slack.messages).toHaveLength(1);
    const updates = env.slack.callsOf("chat.update", true);
    expect(updates.length).toBeGreaterThanOrEqual(2);
    for (const u of updates) expect(u.args).toMatchObject({ channel: CHANNEL, ts: message.ts });
    const versions = final.versions.map(messageText);
    expect(versions.some((v) => v.includes(`Retry by <@${ALICE.id}>`) && v.includes("running"))).toBe(true);
    const last = versions[versions.length - 1]!;
    expect(last).toContain(`<@${ALICE.id}>`);
    expect(last).toContain("succeeded");
    // Resolved: no buttons left to click.
    expect(findButton(final, "retry")).toBeUndefined();
    // Exactly one extra upstream call: the retried step.
    expect(env.upstream.requests).toHaveLength(2);
  });
});
