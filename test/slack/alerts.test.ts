// The `slack` handler (in-process, fake clock): grouping, 429s through the outbox, webhooks, scripts.
import { afterEach, describe, expect, it } from "vitest";
import { sendSlackAlert } from "../../src/chat/slack/send";
import type { AlertPayload } from "../../src/engine/ports";
import { startFakeSlack } from "../fakes/slack";
import { CHANNEL, findButton, messageText, runOnce, setupFailingFlow, startSlackEnv, type SlackEnv } from "./harness";

let e: SlackEnv | undefined;
afterEach(async () => {
  await e?.stop();
  e = undefined;
});

type RunView = {
  alerts: { kind: string; status: string; attempts: number; response: Record<string, unknown> | null }[];
};
const runView = async (env: SlackEnv, id: unknown) =>
  (await (await env.api(`/api/runs/${String(id)}`)).json()) as RunView;

async function waitDelivered(env: SlackEnv, runId: unknown, timeoutMs = 10_000): Promise<RunView> {
  return env.until(
    async () => {
      const v = await runView(env, runId);
      return v.alerts.length && v.alerts.every((a) => a.status !== "pending") ? v : undefined;
    },
    timeoutMs,
    `the alerts of ${String(runId)} delivered`,
  );
}

describe("slack handler", () => {
  it("groups failures of the same flow, step and error type into one message with the count", async () => {
    e = await startSlackEnv();
    const env = e;
    await setupFailingFlow(env);
    env.upstream.script([], { status: 500, body: {} });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const run = await runOnce(env);
      ids.push(run.id as string);
      await waitDelivered(env, run.id);
    }
    expect(env.slack.callsOf("chat.postMessage")).toHaveLength(1);
    expect(env.slack.messages).toHaveLength(1);
    const updates = env.slack.callsOf("chat.update", true);
    expect(updates).toHaveLength(2);
    const m = env.slack.messages[0]!;
    for (const u of updates) expect(u.args).toMatchObject({ channel: CHANNEL, ts: m.ts });
    expect(messageText(m)).toContain("3 in this group");
    expect(m.text).toContain("×3");
    // The message now shows the latest run, and its buttons act on it.
    expect(messageText(m)).toContain(ids[2]);
    expect(findButton(m, "retry")!.value).toContain(ids[2]);
    const last = await runView(env, ids[2]);
    expect(last.alerts[0]!.response).toMatchObject({ action: "updated", count: 3, ts: m.ts });

    // Another flow is another group: a new message.
    await env.putFlow({
      name: "billing",
      steps: [{ id: "charge", http: { method: "POST", url: `${env.upstream.url}/charge` } }],
    });
    const other = await runOnce(env, "billing");
    await waitDelivered(env, other.id);
    expect(env.slack.messages).toHaveLength(2);
    expect(messageText(env.slack.messages[1]!)).toContain("billing");
  });

  it("counts runs, not sends: a `script: slack` step and a handler reporting the same run make one message, count 1", async () => {
    e = await startSlackEnv();
    const env = e;
    await env.api("/api/handlers", {
      method: "POST",
      json: { name: "ops-slack", kind: "slack", config: { channel: CHANNEL } },
    });
    await env.putFlow({
      name: "both",
      steps: [{ id: "charge", http: { method: "POST", url: `${env.upstream.url}/charge` } }],
      on_failure: [
        { id: "tell", script: { name: "slack", args: { channel: CHANNEL } } },
        { id: "boom", fail: { message: "handler broke", type: "runtime" } },
      ],
    });
    env.upstream.script([], { status: 500, body: {} });
    const run = await runOnce(env, "both");
    expect(run.status).toBe("failed");
    await waitDelivered(env, run.id);
    expect(env.slack.messages).toHaveLength(1);
    const m = env.slack.messages[0]!;
    expect(messageText(m)).not.toContain("in this group");
    // The handler's delivery refreshed the message with the final picture: the error handler failed too.
    expect(messageText(m)).toContain("handler broke");
    const second = await runOnce(env, "both");
    await waitDelivered(env, second.id);
    expect(env.slack.messages).toHaveLength(1);
    expect(messageText(env.slack.messages[0]!)).toContain("2 in this group");
  });

  it("starts a new message once MEND_GROUP_WINDOW_S has passed", async () => {
    e = await startSlackEnv({ MEND_GROUP_WINDOW_S: "1" });
    const env = e;
    await setupFailingFlow(env);
    env.upstream.script([], { status: 500, body: {} });
    await waitDelivered(env, (await runOnce(env)).id);
    await waitDelivered(env, (await runOnce(env)).id);
    expect(env.slack.messages).toHaveLength(1);
    await env.pass(1100);
    await waitDelivered(env, (await runOnce(env)).id);
    expect(env.slack.messages).toHaveLength(2);
    expect(messageText(env.slack.messages[1]!)).not.toContain("in this group");
  });

  it("honours 429 Retry-After through the outbox and delivers the alert exactly once", async () => {
    e = await startSlackEnv();
    const env = e;
    await setupFailingFlow(env);
    env.upstream.script([], { status: 500, body: {} });
    env.slack.rateLimit("chat.postMessage", 1, 1);
    const run = await runOnce(env);
    const view = await waitDelivered(env, run.id, 15_000);
    expect(view.alerts[0]).toMatchObject({ status: "delivered", attempts: 1 }); // a 429 is not a failed attempt
    const posts = env.slack.callsOf("chat.postMessage");
    expect(posts.map((p) => p.status)).toEqual([429, 200]);
    // The outbox waited Retry-After (1 s), not its own 50 ms schedule, and the WebClient did not retry by itself.
    expect(posts[1]!.at - posts[0]!.at).toBeGreaterThanOrEqual(950);
    await env.pass(300);
    expect(env.slack.messages).toHaveLength(1);
    expect(env.slack.callsOf("chat.postMessage")).toHaveLength(2);

    // A 429 on the grouped update: retried, and the failure is counted once.
    env.slack.rateLimit("chat.update", 1, 1);
    const second = await runOnce(env);
    const v2 = await waitDelivered(env, second.id, 15_000);
    expect(v2.alerts[0]).toMatchObject({ status: "delivered", attempts: 1 });
    expect(env.slack.callsOf("chat.update").map((c) => c.status)).toEqual([429, 200]);
    expect(messageText(env.slack.messages[0]!)).toContain("2 in this group");
    expect(env.slack.messages).toHaveLength(1);
  });

  it("posts through an incoming webhook (webhook_url) without the bot token and counts grouped failures", async () => {
    e = await startSlackEnv();
    const env = e;
    await setupFailingFlow(env, "orders", { webhook_url: `${env.slack.url}/webhook/T1/B1/xyz` });
    env.upstream.script([], { status: 500, body: {} });
    const run = await runOnce(env);
    await waitDelivered(env, run.id);
    expect(env.slack.responses).toHaveLength(1);
    const body = env.slack.responses[0]!.body as { text: string; blocks: { type: string }[] };
    expect(body.text).toContain("orders");
    expect(JSON.stringify(body.blocks)).toContain("mend_retry");
    expect(env.slack.callsOf("chat.postMessage")).toHaveLength(0);
    const second = await runOnce(env);
    const v = await waitDelivered(env, second.id);
    expect(v.alerts[0]!.response).toMatchObject({ action: "counted", count: 2 });
    expect(env.slack.responses).toHaveLength(1);
  });

  it("gives up on a webhook that answers 404 (permanent), and keeps the server up", async () => {
    e = await startSlackEnv();
    const env = e;
    env.slack.webhookStatus = 404;
    await setupFailingFlow(env, "orders", { webhook_url: `${env.slack.url}/webhook/gone` });
    env.upstream.script([], { status: 500, body: {} });
    const run = await runOnce(env);
    const v = await waitDelivered(env, run.id);
    expect(v.alerts[0]).toMatchObject({ status: "failed", attempts: 1 });
    expect((await env.request("/healthz")).status).toBe(200);
  });

  it("works as `script: slack` in on_failure and never shows secret values", async () => {
    e = await startSlackEnv({ MEND_SECRET_API_KEY: "sk-very-secret-value" });
    const env = e;
    const flow = await env.putFlow({
      name: "secretive",
      steps: [
        {
          id: "call",
          http: {
            method: "POST",
            url: `${env.upstream.url}/x?key={{ secrets.API_KEY }}`,
            headers: { authorization: "Bearer {{ secrets.API_KEY }}" },
          },
        },
      ],
      on_failure: [{ id: "tell", script: { name: "slack", args: { channel: "C0SCRIPT" } } }],
    });
    expect(flow.status).toBe(201);
    env.upstream.script([], { status: 500, body: { echoed: "sk-very-secret-value" } });
    const run = await runOnce(env, "secretive");
    // A handler that only notifies leaves the run failed (SPEC section 12).
    expect(run.status).toBe("failed");
    const post = await env.until(() => env.slack.callsOf("chat.postMessage", true)[0], 5_000, "script post");
    expect(post.args.channel).toBe("C0SCRIPT");
    const all = JSON.stringify(env.slack.calls.map((c) => c.args));
    expect(all).toContain("secretive");
    expect(all).toContain("call");
    expect(all).not.toContain("sk-very-secret-value");
    expect(findButton(env.slack.messages[0]!, "retry")).toBeDefined();
  });

  it("refuses a private webhook_url under MEND_BLOCK_PRIVATE_URLS, permanently", async () => {
    e = await startSlackEnv({ MEND_BLOCK_PRIVATE_URLS: "true" });
    const env = e;
    await env.putFlow({
      name: "sneaky",
      steps: [{ id: "boom", fail: { message: "no", type: "runtime" } }],
      on_failure: [{ id: "tell", script: { name: "slack", args: { webhook_url: `${env.slack.url}/webhook/x` } } }],
    });
    const run = await runOnce(env, "sneaky");
    expect(run.status).toBe("failed");
    expect(JSON.stringify(run.error)).toMatch(/refused|private|loopback/i);
    expect(env.slack.responses).toHaveLength(0);
  });

  it("sends a sample alert through POST /api/handlers/:id/test", async () => {
    e = await startSlackEnv();
    const env = e;
    const h = (await (
      await env.api("/api/handlers", {
        method: "POST",
        json: { name: "ops", kind: "slack", config: { channel: CHANNEL } },
      })
    ).json()) as { id: string };
    const res = await env.api(`/api/handlers/${h.id}/test`, { method: "POST" });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { response: { ts: string } }).response.ts).toBe(env.slack.messages[0]!.ts);
    expect(messageText(env.slack.messages[0]!)).toContain("test alert");
  });

  it("truncates long messages to Slack's limits and escapes mrkdwn", async () => {
    const slack = await startFakeSlack();
    try {
      const payload: AlertPayload = {
        run: { id: "01RUN", flow: "big", flow_version: 2, status: "failed", url: "https://mend.example/runs/01RUN" },
        error: { message: "<b>&" + "x".repeat(10_000) + "```", type: "runtime", step: "s1", attempts: 3 },
        failed: { error: { message: "m", type: "runtime" } },
      };
      const res = await sendSlackAlert({ channel: "C1", token: slack.token, apiUrl: slack.apiUrl }, payload);
      expect(res.ts).toBe(slack.messages[0]!.ts);
      const blocks = slack.messages[0]!.blocks;
      for (const b of blocks) {
        if (b.text?.text) expect(b.text.text.length).toBeLessThanOrEqual(3000);
        for (const f of b.fields ?? []) expect(f.text.length).toBeLessThanOrEqual(2000);
      }
      const code = blocks.find((b) => typeof b.text?.text === "string" && b.text.text.startsWith("```"))!.text
        .text as string;
      expect(code).toContain("&lt;b&gt;&amp;");
      expect(code).toContain("…");
      expect(code.endsWith("```")).toBe(true);
      expect(messageText(slack.messages[0]!)).toContain("3"); // attempts
      // A bad token is a permanent error.
      await expect(
        sendSlackAlert({ channel: "C1", token: "xoxb-wrong", apiUrl: slack.apiUrl }, payload),
      ).rejects.toMatchObject({ permanent: true, message: expect.stringContaining("invalid_auth") });
    } finally {
      await slack.close();
    }
  });
});
