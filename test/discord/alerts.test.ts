// The `discord` handler (in-process, fake clock): grouping, 429s through the outbox, lost answers and the
// nonce, webhooks (no buttons: how to act instead), `script: discord`, the stand-alone function.
import { afterEach, describe, expect, it } from "vitest";
import { sendDiscordAlert } from "../../src/chat/discord/send";
import type { AlertPayload } from "../../src/engine/ports";
import { startFakeDiscord, type Json } from "../fakes/discord";
import {
  CHANNEL,
  findButton,
  messageText,
  runOnce,
  setupFailingFlow,
  startDiscordEnv,
  waitDelivered,
  type DiscordEnv,
} from "./harness";

let e: DiscordEnv | undefined;
afterEach(async () => {
  await e?.stop();
  e = undefined;
});

const POSTS = /^\/channels\/\d+\/messages$/;
const EDITS = /^\/channels\/\d+\/messages\/\d+$/;
const field = (m: { embeds: Json[] }, name: string): string | undefined =>
  (m.embeds[0]!.fields as { name: string; value: string }[]).find((f) => f.name === name)?.value;

describe("discord handler", () => {
  it("groups failures of the same flow, step and error type into one message with the count", async () => {
    e = await startDiscordEnv();
    const env = e;
    await setupFailingFlow(env);
    env.upstream.script([], { status: 500, body: {} });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const run = await runOnce(env);
      ids.push(run.id as string);
      await waitDelivered(env, run.id);
    }
    expect(env.discord.callsOf("POST", POSTS)).toHaveLength(1);
    expect(env.discord.messages).toHaveLength(1);
    const updates = env.discord.callsOf("PATCH", EDITS, true);
    expect(updates).toHaveLength(2);
    const m = env.discord.messages[0]!;
    for (const u of updates) expect(u.path).toBe(`/channels/${CHANNEL}/messages/${m.id}`);
    expect(field(m, "Failures")).toBe("3 in this group");
    expect(m.content).toContain("×3");
    // The message now shows the latest run, and its buttons act on it.
    expect(messageText(m)).toContain(ids[2]);
    expect(findButton(m, "retry")!.custom_id).toContain(ids[2]);
    const last = await waitDelivered(env, ids[2]);
    expect(last.alerts[0]!.response).toMatchObject({ action: "updated", count: 3, message_id: m.id });

    // Another flow is another group: a new message.
    await env.putFlow({
      name: "billing",
      steps: [{ id: "charge", http: { method: "POST", url: `${env.upstream.url}/charge` } }],
    });
    const other = await runOnce(env, "billing");
    await waitDelivered(env, other.id);
    expect(env.discord.messages).toHaveLength(2);
    expect(messageText(env.discord.messages[1]!)).toContain("billing");
  });

  it("starts a new message once MEND_GROUP_WINDOW_S has passed", async () => {
    e = await startDiscordEnv({ MEND_GROUP_WINDOW_S: "1" });
    const env = e;
    await setupFailingFlow(env);
    env.upstream.script([], { status: 500, body: {} });
    await waitDelivered(env, (await runOnce(env)).id);
    await waitDelivered(env, (await runOnce(env)).id);
    expect(env.discord.messages).toHaveLength(1);
    await env.pass(1100);
    await waitDelivered(env, (await runOnce(env)).id);
    expect(env.discord.messages).toHaveLength(2);
    expect(field(env.discord.messages[1]!, "Failures")).toBeUndefined();
  });

  it("honours 429 Retry-After through the outbox and delivers the alert exactly once", async () => {
    e = await startDiscordEnv();
    const env = e;
    await setupFailingFlow(env);
    env.upstream.script([], { status: 500, body: {} });
    env.discord.rateLimit("POST", POSTS, 1, 1);
    const run = await runOnce(env);
    const view = await waitDelivered(env, run.id, 15_000);
    expect(view.alerts[0]).toMatchObject({ status: "delivered", attempts: 1 });
    const posts = env.discord.callsOf("POST", POSTS);
    expect(posts.map((p) => p.status)).toEqual([429, 200]);
    // The outbox waited Retry-After (1 s), not its own 50 ms schedule; @discordjs/rest neither slept nor retried by itself.
    expect(posts[1]!.at - posts[0]!.at).toBeGreaterThanOrEqual(950);
    // Both attempts carried the same nonce.
    expect(posts[1]!.body!.nonce).toBe(posts[0]!.body!.nonce);
    await env.pass(300);
    expect(env.discord.messages).toHaveLength(1);
    expect(env.discord.callsOf("POST", POSTS)).toHaveLength(2);

    // A 429 on the grouped edit (a global one this time): retried, and the failure is counted once.
    env.discord.rateLimit("PATCH", EDITS, 1, 1, { global: true });
    const second = await runOnce(env);
    const v2 = await waitDelivered(env, second.id, 15_000);
    expect(v2.alerts[0]).toMatchObject({ status: "delivered", attempts: 1 });
    const patches = env.discord.callsOf("PATCH", EDITS);
    expect(patches.map((c) => c.status)).toEqual([429, 200]);
    expect(patches[1]!.at - patches[0]!.at).toBeGreaterThanOrEqual(950);
    expect(field(env.discord.messages[0]!, "Failures")).toBe("2 in this group");
    expect(env.discord.messages).toHaveLength(1);
  });

  it("does not post twice when Discord created the message but its answer was lost (nonce + enforce_nonce)", async () => {
    e = await startDiscordEnv();
    const env = e;
    await setupFailingFlow(env);
    env.upstream.script([], { status: 500, body: {} });
    env.discord.loseAnswers("POST", POSTS, 1);
    const run = await runOnce(env);
    const view = await waitDelivered(env, run.id, 15_000);
    expect(view.alerts[0]).toMatchObject({ status: "delivered", attempts: 2 });
    const posts = env.discord.callsOf("POST", POSTS);
    expect(posts.map((p) => p.status)).toEqual([502, 200]);
    expect(posts[1]!.body!.nonce).toBe(posts[0]!.body!.nonce);
    expect(env.discord.messages).toHaveLength(1);
    expect(view.alerts[0]!.response).toMatchObject({ message_id: env.discord.messages[0]!.id });
  });

  it("posts through a bot-less webhook: no interactive buttons, says how to act, edits its own message for the count", async () => {
    e = await startDiscordEnv({ MEND_API_TOKEN: "api-token-never-shown" });
    const env = e;
    const hook = env.discord.createWebhook(CHANNEL);
    await setupFailingFlow(env, "orders", { webhook_url: hook });
    env.upstream.script([], { status: 500, body: {} });
    const run = await runOnce(env);
    await waitDelivered(env, run.id);
    const posts = env.discord.callsOf("POST", /^\/webhooks\//);
    expect(posts).toHaveLength(1);
    expect(posts[0]!.query.get("wait")).toBe("true");
    expect(posts[0]!.headers.authorization).toBeUndefined();
    // mend sent no interactive buttons (a webhook cannot carry them), only the link to the run.
    expect(JSON.stringify(posts[0]!.body!.components)).not.toContain("custom_id");
    expect(env.discord.callsOf("POST", POSTS)).toHaveLength(0);
    const m = env.discord.messages[0]!;
    expect(m.author).toMatch(/^webhook:/);
    const how = field(m, "How to act")!;
    expect(how).toContain(
      `curl -X POST -H "Authorization: Bearer $MEND_API_TOKEN" https://mend.example/api/runs/${run.id as string}/retry`,
    );
    expect(how).toContain(`/api/runs/${run.id as string}/replay`);
    expect(how).toContain(`/mend retry ${run.id as string}`);
    expect(JSON.stringify(env.discord.calls.map((c) => c.body))).not.toContain("api-token-never-shown");

    // The next failure of the group edits the webhook's own message with the count.
    const second = await runOnce(env);
    const v = await waitDelivered(env, second.id);
    expect(v.alerts[0]!.response).toMatchObject({ action: "updated", count: 2 });
    expect(env.discord.messages).toHaveLength(1);
    const edits = env.discord.callsOf("PATCH", /^\/webhooks\/\d+\/[^/]+\/messages\/\d+$/, true);
    expect(edits).toHaveLength(1);
    expect(field(env.discord.messages[0]!, "Failures")).toBe("2 in this group");
  });

  it("gives up on a webhook that answers 404 (permanent), and keeps the server up", async () => {
    e = await startDiscordEnv();
    const env = e;
    const hook = env.discord.createWebhook(CHANNEL);
    env.discord.webhookStatus = 404;
    await setupFailingFlow(env, "orders", { webhook_url: hook });
    env.upstream.script([], { status: 500, body: {} });
    const run = await runOnce(env);
    const v = await waitDelivered(env, run.id);
    expect(v.alerts[0]).toMatchObject({ status: "failed", attempts: 1 });
    expect((await env.request("/healthz")).status).toBe(200);
  });

  it("gives up when Discord refuses the bot token (permanent 401) and keeps the server up", async () => {
    e = await startDiscordEnv({ DISCORD_BOT_TOKEN: "wrong.token.value" });
    const env = e;
    await setupFailingFlow(env);
    env.upstream.script([], { status: 500, body: {} });
    const run = await runOnce(env);
    const v = await waitDelivered(env, run.id);
    expect(v.alerts[0]).toMatchObject({ status: "failed", attempts: 1 });
    expect(env.discord.callsOf("POST", POSTS).map((c) => c.status)).toEqual([401]);
    expect((await env.request("/healthz")).status).toBe(200);
  });

  it("works as `script: discord` in on_failure and never shows secret values", async () => {
    e = await startDiscordEnv({ MEND_SECRET_API_KEY: "sk-very-secret-value" });
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
      on_failure: [{ id: "tell", script: { name: "discord", args: { channel_id: "300000000000000777" } } }],
    });
    expect(flow.status).toBe(201);
    env.upstream.script([], { status: 500, body: { echoed: "sk-very-secret-value" } });
    const run = await runOnce(env, "secretive");
    // A handler that only notifies leaves the run failed (SPEC section 12).
    expect(run.status).toBe("failed");
    const post = await env.until(() => env.discord.callsOf("POST", POSTS, true)[0], 5_000, "script post");
    expect(post.path).toBe("/channels/300000000000000777/messages");
    const all = JSON.stringify(env.discord.calls.map((c) => c.body));
    expect(all).toContain("secretive");
    expect(all).toContain("call");
    expect(all).not.toContain("sk-very-secret-value");
    expect(findButton(env.discord.messages[0]!, "retry")).toBeDefined();
  });

  it("is usable as a function, truncating long messages to the embed limits", async () => {
    const discord = await startFakeDiscord();
    try {
      const payload: AlertPayload = {
        run: { id: "01RUN", flow: "big", flow_version: 2, status: "failed", url: "https://mend.example/runs/01RUN" },
        error: { message: "**bold** ```fence``` " + "x".repeat(10_000), type: "runtime", step: "s1", attempts: 3 },
        handler: { outcome: "failed", error: { message: "y".repeat(5_000), type: "runtime" } },
        failed: { error: { message: "m", type: "runtime" } },
      };
      const res = await sendDiscordAlert(
        { channel_id: CHANNEL, token: discord.token, apiUrl: discord.apiUrl },
        payload,
      );
      // The fake refuses (400, 50035) anything over Discord's limits, so being posted proves they hold.
      expect(res.message_id).toBe(discord.messages[0]!.id);
      const embed = discord.messages[0]!.embeds[0]!;
      expect(embed.description.length).toBeLessThanOrEqual(4096);
      expect(embed.description).toContain("…");
      expect(embed.description.endsWith("\n```")).toBe(true);
      expect(embed.description.slice(3, -3)).not.toContain("```");
      const size =
        embed.title.length +
        embed.description.length +
        embed.footer.text.length +
        embed.fields.reduce((n: number, f: { name: string; value: string }) => n + f.name.length + f.value.length, 0);
      expect(size).toBeLessThanOrEqual(6000);
      expect(embed.fields.find((f: { name: string }) => f.name === "Attempts").value).toBe("3");
      expect(findButton(discord.messages[0]!, "retry")!.custom_id.length).toBeLessThanOrEqual(100);
      // Through a webhook: no interactive buttons.
      const hook = discord.createWebhook(CHANNEL);
      const viaHook = await sendDiscordAlert({ webhook_url: hook }, payload, { publicUrl: "https://mend.example" });
      expect(viaHook.message_id).toBe(discord.messages[1]!.id);
      expect(field(discord.messages[1]!, "How to act")).toContain("https://mend.example/api/runs/01RUN/retry");
      // A bad token is a permanent error.
      await expect(
        sendDiscordAlert({ channel_id: CHANNEL, token: "wrong", apiUrl: discord.apiUrl }, payload),
      ).rejects.toMatchObject({ permanent: true, message: expect.stringContaining("401") });
    } finally {
      await discord.close();
    }
  });
});
