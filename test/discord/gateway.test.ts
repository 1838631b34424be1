// Gateway mode (DISCORD_GATEWAY=true): a real discord.js Client finds the fake gateway through GET
// /gateway/bot on the fake REST, connects (HELLO, IDENTIFY, READY), and handles INTERACTION_CREATE
// through the same code path as the HTTP endpoint, answering via POST /interactions/{id}/{token}/callback.
import { createServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { startDiscordGateway, type DiscordGateway } from "../../src/chat/discord/gateway";
import type { Json } from "../fakes/discord";
import { startFakeGateway, type FakeGateway } from "../fakes/discord-gateway";
import {
  ALICE,
  CHANNEL,
  MALLORY,
  OTHER_ROLE,
  clickInteraction,
  commandInteraction,
  findButton,
  messageText,
  modalSubmitInteraction,
  runOnce,
  setupFailingFlow,
  snapshot,
  startDiscordServer,
} from "./harness";

type ServerEnv = Awaited<ReturnType<typeof startDiscordServer>>;
let e: ServerEnv | undefined;
let gw: FakeGateway | undefined;
afterEach(async () => {
  await e?.stop();
  await gw?.close();
  e = undefined;
  gw = undefined;
});

async function startWithGateway(env: Record<string, string> = {}): Promise<{ env: ServerEnv; gateway: FakeGateway }> {
  let gateway!: FakeGateway;
  const started = await startDiscordServer({ DISCORD_GATEWAY: "true", ...env }, async (discord) => {
    gateway = await startFakeGateway({ token: discord.token, applicationId: discord.applicationId });
    discord.gatewayUrl = gateway.url;
  });
  e = started;
  gw = gateway;
  return { env: started, gateway };
}

/** The answer mend sent through POST /interactions/{id}/{token}/callback for `interaction`. */
function callbackFor(env: ServerEnv, interaction: Json, what: string) {
  return env.until(() => env.discord.callbacks.find((c) => c.id === interaction.id), 10_000, what);
}

/** A loopback port nothing listens on. */
async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address() as { port: number };
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe("discord gateway mode", () => {
  it("logs in through GET /gateway/bot, IDENTIFY and READY, and handles a Retry click end to end", async () => {
    const { env, gateway } = await startWithGateway();
    expect(await (env.server.chatStarted.discord as DiscordGateway).ready).toBe(true);
    // discord.js asked the fake REST for the gateway, then identified with the bot token.
    const info = env.discord.callsOf("GET", /^\/gateway\/bot$/);
    expect(info).toHaveLength(1);
    expect(info[0]!.headers.authorization).toBe(`Bot ${env.discord.token}`);
    expect(gateway.identifies).toHaveLength(1);
    expect(gateway.identifies[0]).toMatchObject({ token: env.discord.token, shard: [0, 1] });
    expect(typeof gateway.identifies[0]!.intents).toBe("number");

    await setupFailingFlow(env);
    env.upstream.script([{ status: 500, body: { error: "db down" } }], { status: 200, body: { ok: true } });
    const failed = await runOnce(env);
    const runId = failed.id as string;
    const posted = snapshot(await env.until(() => env.discord.messages[0], 10_000, "the alert"));

    // Someone off the allow-lists clicks: a private "not allowed" through the callback endpoint, nothing runs.
    const denied = clickInteraction(env, posted, "retry", { ...MALLORY, roles: [OTHER_ROLE] });
    gateway.dispatch("INTERACTION_CREATE", denied);
    const deniedCb = await callbackFor(env, denied, "denied callback");
    expect(deniedCb.token).toBe(denied.token);
    expect(deniedCb.body).toMatchObject({
      type: 4,
      data: { flags: 64, content: expect.stringMatching(/not allowed/) },
    });

    // Alice clicks Retry: a deferred update (type 6), the run succeeds, the message says who and how it ended.
    const clicked = clickInteraction(env, posted, "retry", ALICE);
    gateway.dispatch("INTERACTION_CREATE", clicked);
    const cb = await callbackFor(env, clicked, "click callback");
    expect(cb.body).toEqual({ type: 6 });
    expect(
      env.discord.callsOf("POST", new RegExp(`^/interactions/${clicked.id}/${clicked.token}/callback$`)),
    ).toHaveLength(1);
    await env.waitForStatus(runId, ["succeeded"]);
    const final = await env.until(
      () => (/succeeded/.test(messageText(env.discord.messages[0]!)) ? env.discord.messages[0] : undefined),
      10_000,
      "outcome",
    );
    const versions = final.versions.map(messageText);
    expect(versions.some((v) => v.includes(`Retry by <@${ALICE.id}>`) && v.includes("running"))).toBe(true);
    expect(versions[versions.length - 1]).toContain(`<@${ALICE.id}>`);
    expect(findButton(final, "retry")).toBeUndefined();
    expect(env.upstream.requests).toHaveLength(2);
    // Redelivered by the gateway (same buttons): nothing runs again.
    const again = clickInteraction(env, posted, "retry", ALICE);
    gateway.dispatch("INTERACTION_CREATE", again);
    const againCb = await callbackFor(env, again, "repeat callback");
    expect(againCb.body).toMatchObject({ type: 4, data: { flags: 64 } });
    expect(env.upstream.requests).toHaveLength(2);

    // /mend status over the gateway: an ephemeral list.
    const status = commandInteraction(env, "status");
    gateway.dispatch("INTERACTION_CREATE", status);
    const statusCb = await callbackFor(env, status, "status callback");
    expect(statusCb.body).toMatchObject({
      type: 4,
      data: { flags: 64, content: expect.stringMatching(/No failed runs/) },
    });
    // The HTTP endpoint's channel messages were never used for answers (the gateway answers via callbacks).
    expect(env.discord.messages.every((m) => m.channel_id === CHANNEL)).toBe(true);
  });

  it("answers Replay with input… with a modal and replays with the submitted input", async () => {
    const { env, gateway } = await startWithGateway();
    expect(await (env.server.chatStarted.discord as DiscordGateway).ready).toBe(true);
    await setupFailingFlow(env);
    env.upstream.script([], { status: 500, body: { error: "db down" } });
    const failed = await runOnce(env);
    const posted = snapshot(await env.until(() => env.discord.messages[0], 10_000, "the alert"));
    const clicked = clickInteraction(env, posted, "replay_input", ALICE);
    gateway.dispatch("INTERACTION_CREATE", clicked);
    // The fake refuses a modal outside Discord's limits (400), so a recorded callback is a valid one.
    const modal = await callbackFor(env, clicked, "the modal");
    expect(modal.body.type).toBe(9);
    expect(modal.body.data.components[0].component).toMatchObject({
      type: 4,
      style: 2,
      custom_id: "input_json",
      value: '{\n  "order": 1\n}',
    });
    const submitted = modalSubmitInteraction(clicked, modal.body, { input_json: '{ "order": 7 }' });
    gateway.dispatch("INTERACTION_CREATE", submitted);
    const answer = await callbackFor(env, submitted, "the submit's answer");
    expect(answer.body).toEqual({ type: 6 });
    const runs = (await (await env.api("/api/runs?flow=orders")).json()) as { runs: { id: string }[] };
    const replay = runs.runs.find((r) => r.id !== failed.id)!;
    const view = (await (await env.api(`/api/runs/${replay.id}`)).json()) as Record<string, unknown>;
    expect(view).toMatchObject({ input: { order: 7 }, replay_of: failed.id });
  });

  it("keeps the server up when the gateway cannot be reached, and stops cleanly", async () => {
    const port = await deadPort();
    e = await startDiscordServer({ DISCORD_GATEWAY: "true" }, (discord) => {
      discord.gatewayUrl = `ws://127.0.0.1:${port}`;
    });
    const env = e;
    // The REST answers, the WebSocket does not: the server is healthy and serves alerts meanwhile.
    expect((await env.request("/healthz")).status).toBe(200);
    await setupFailingFlow(env);
    env.upstream.script([], { status: 500, body: {} });
    await runOnce(env);
    await env.until(() => env.discord.messages[0], 10_000, "the alert");
    await env.until(
      () => env.logs.some((l) => /discord gateway (could not connect|connection error)/.test(l)),
      15_000,
      "a logged connection failure",
    );
    expect((await env.request("/healthz")).status).toBe(200);
    const started = env.now();
    await env.server.stop();
    expect(env.now() - started).toBeLessThan(8_000);
    await env.discord.close();
    await env.upstream.close();
    e = undefined;
  });

  it("abandons an attempt that does not reach READY in time and connects once the gateway is back", async () => {
    e = await startDiscordServer();
    const env = e;
    const port = await deadPort();
    env.discord.gatewayUrl = `ws://127.0.0.1:${port}`;
    const gateway = startDiscordGateway(
      env.deps,
      { handle: async () => undefined },
      { loginTimeoutMs: 400, backoffMs: 100 },
    );
    try {
      await env.until(() => env.discord.callsOf("GET", /^\/gateway\/bot$/).length >= 2, 10_000, "a second attempt");
      expect(env.logs.some((l) => /could not connect within/.test(l))).toBe(true);
      gw = await startFakeGateway({ token: env.discord.token, applicationId: env.discord.applicationId });
      env.discord.gatewayUrl = gw.url;
      expect(await gateway.ready).toBe(true);
      expect(gw.identifies).toHaveLength(1);
      expect(gateway.client()?.isReady()).toBe(true);
    } finally {
      await gateway.stop();
    }
    expect(gateway.client()).toBeUndefined();
  });

  it("stops trying when the bot token is refused, without crashing", async () => {
    e = await startDiscordServer({ DISCORD_GATEWAY: "true", DISCORD_BOT_TOKEN: "refused.token.x" });
    const env = e;
    expect(await (env.server.chatStarted.discord as DiscordGateway).ready).toBe(false);
    expect(env.logs.some((l) => /bot token was refused/.test(l))).toBe(true);
    expect(env.discord.callsOf("GET", /^\/gateway\/bot$/).map((c) => c.status)).toEqual([401]);
    expect((await env.request("/healthz")).status).toBe(200);
  });
});
