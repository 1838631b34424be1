// End to end: a flow fails, the alert reaches (fake) Discord through the real @discordjs/rest client,
// the upstream recovers, a signed Retry click makes the run succeed, and the same message is edited
// to show the clicker and then the outcome.
import { afterEach, describe, expect, it } from "vitest";
import {
  ALICE,
  CHANNEL,
  click,
  findButton,
  messageText,
  runOnce,
  setupFailingFlow,
  snapshot,
  startDiscordServer,
  type DiscordEnv,
} from "./harness";

let e: DiscordEnv | undefined;
afterEach(async () => {
  await e?.stop();
  e = undefined;
});

describe("discord end to end", () => {
  it("alerts, retries on click and edits the same message with the clicker and the outcome", async () => {
    e = await startDiscordServer();
    const env = e;
    await setupFailingFlow(env);
    env.upstream.script([{ status: 500, body: { error: "db down" } }], { status: 200, body: { charged: true } });

    const failed = await runOnce(env);
    expect(failed.status).toBe("failed");
    const runId = failed.id as string;

    // The alert reaches Discord as the bot, with a nonce and no mentions.
    const post = await env.until(
      () => env.discord.callsOf("POST", /^\/channels\/\d+\/messages$/, true)[0],
      10_000,
      "the alert",
    );
    expect(post.path).toBe(`/channels/${CHANNEL}/messages`);
    expect(post.headers.authorization).toBe(`Bot ${env.discord.token}`);
    expect(post.headers["user-agent"]).toMatch(/^DiscordBot/);
    expect(post.body).toMatchObject({ enforce_nonce: true, allowed_mentions: { parse: [] } });
    expect(String(post.body!.nonce).length).toBeLessThanOrEqual(25);
    const message = snapshot(env.discord.messages[0]!);
    const embed = message.embeds[0]!;
    const text = messageText(message);
    expect(embed.title).toContain("orders");
    expect(text).toContain("charge");
    expect(text).toContain("http_status");
    expect(text).toContain("HTTP 500");
    expect(text).toContain(runId);
    expect(embed.url).toBe(`https://mend.example/runs/${runId}`);
    expect(embed.fields.find((f: { name: string }) => f.name === "Attempts").value).toBe("1");
    expect(embed.description.startsWith("```")).toBe(true);
    expect(message.components).toHaveLength(3);
    const labels = message.components[0]!.components.map((b: { label: string }) => b.label);
    expect(labels).toEqual(["Retry", "Replay", "Replay with input…", "Ack", "Resolve"]);
    expect(findButton(message, "retry")!.style).toBe(1);
    expect(message.components[1]!.components.map((b: { label: string }) => b.label)).toEqual(["Open run"]);
    // Mute… is a string select in a row of its own.
    expect(message.components[2]!.components).toHaveLength(1);
    expect(findButton(message, "mute")).toMatchObject({ type: 3, placeholder: "Mute…" });

    // The run's ledger shows the delivered alert with Discord's message id.
    const view = (await (await env.api(`/api/runs/${runId}`)).json()) as {
      alerts: { kind: string; status: string; response: { message_id: string } }[];
    };
    expect(view.alerts[0]).toMatchObject({ kind: "discord", status: "delivered" });
    expect(view.alerts[0]!.response.message_id).toBe(message.id);

    // The upstream recovers; Alice clicks Retry on the posted button.
    const res = await click(env, message, "retry", ALICE);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ type: 6 });

    const done = await env.waitForStatus(runId, ["succeeded"]);
    expect(done.status).toBe("succeeded");

    // The same message was edited: first "running…" with the clicker, then the outcome.
    const final = await env.until(
      () => {
        const m = env.discord.messages[0]!;
        return m.versions.some((v) => /succeeded/.test(messageText(v))) ? m : undefined;
      },
      10_000,
      "edit with the outcome",
    );
    expect(env.discord.messages).toHaveLength(1);
    const edits = env.discord.callsOf("PATCH", /^\/channels\/\d+\/messages\/\d+$/, true);
    expect(edits.length).toBeGreaterThanOrEqual(2);
    for (const p of edits) {
      expect(p.path).toBe(`/channels/${CHANNEL}/messages/${message.id}`);
      expect(p.body).toMatchObject({ allowed_mentions: { parse: [] } });
    }
    const versions = final.versions.map(messageText);
    expect(versions.some((v) => v.includes(`Retry by <@${ALICE.id}>`) && v.includes("running"))).toBe(true);
    const last = versions[versions.length - 1]!;
    expect(last).toContain(`<@${ALICE.id}>`);
    expect(last).toContain("succeeded");
    // Resolved: no buttons left to click (the link to the run stays).
    expect(findButton(final, "retry")).toBeUndefined();
    expect(final.components[0]!.components.map((b: { label: string }) => b.label)).toEqual(["Open run"]);
    // Exactly one extra upstream call: the retried step.
    expect(env.upstream.requests).toHaveLength(2);
  });
});
