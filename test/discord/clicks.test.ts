// POST /discord/interactions (in-process, fake clock): Ed25519 checks, PING, the allow-lists (users and
// roles), exactly-once clicks, Replay and Mute… (a string select).
import { afterEach, describe, expect, it } from "vitest";
import {
  ALICE,
  MALLORY,
  OPS_ROLE,
  OTHER_ROLE,
  ROLE_HOLDER,
  click,
  clickInteraction,
  findButton,
  messageText,
  newKeyPair,
  postInteraction,
  runOnce,
  setupFailingFlow,
  signInteraction,
  snapshot,
  startDiscordEnv,
  type DiscordEnv,
} from "./harness";

let e: DiscordEnv | undefined;
afterEach(async () => {
  await e?.stop();
  e = undefined;
});

async function failedWithAlert(env: DiscordEnv) {
  await setupFailingFlow(env);
  env.upstream.script([], { status: 500, body: { error: "down" } });
  const run = await runOnce(env);
  expect(run.status).toBe("failed");
  const posted = await env.until(() => env.discord.messages[0], 10_000, "the alert");
  return { runId: run.id as string, message: snapshot(posted) };
}

const edits = (env: DiscordEnv) => env.discord.callsOf("PATCH", /^\/channels\//);

describe("discord interactions", () => {
  it("refuses a bad, missing or foreign signature with 401 and runs nothing", async () => {
    e = await startDiscordEnv();
    const env = e;
    const { runId, message } = await failedWithAlert(env);
    const body = JSON.stringify(clickInteraction(env, message, "retry", ALICE));
    // Signed with another key (what Discord's probes look like).
    const foreign = await postInteraction(env, body, { key: newKeyPair().privateKey });
    expect(foreign.status).toBe(401);
    expect(((await foreign.json()) as { error: string }).error).toMatch(/signature/i);
    // Signed over a different body, or a different timestamp.
    const good = signInteraction(env.keys.privateKey, body, String(Math.floor(env.now() / 1000)));
    expect((await postInteraction(env, body.replace("retry", "replay"), { headers: good })).status).toBe(401);
    expect(
      (
        await postInteraction(env, body, {
          headers: { ...good, "x-signature-timestamp": String(Number(good["x-signature-timestamp"]) + 1) },
        })
      ).status,
    ).toBe(401);
    // Missing or malformed headers.
    expect((await postInteraction(env, body, { headers: {} })).status).toBe(401);
    expect(
      (
        await postInteraction(env, body, {
          headers: { ...good, "x-signature-ed25519": "zz" + good["x-signature-ed25519"]!.slice(2) },
        })
      ).status,
    ).toBe(401);
    expect(
      (
        await postInteraction(env, body, {
          headers: { ...good, "x-signature-ed25519": good["x-signature-ed25519"]!.slice(0, 64) },
        })
      ).status,
    ).toBe(401);
    // A bad signature on a PING is refused too (it is checked before anything else).
    const ping = JSON.stringify({
      id: "1",
      application_id: env.discord.applicationId,
      type: 1,
      token: "t",
      version: 1,
    });
    expect((await postInteraction(env, ping, { key: newKeyPair().privateKey })).status).toBe(401);
    await env.pass(200);
    expect((await env.waitForStatus(runId, ["failed"])).status).toBe("failed");
    expect(env.upstream.requests).toHaveLength(1);
    expect(edits(env)).toHaveLength(0);
    expect(env.discord.followUps).toHaveLength(0);
  });

  it("answers PING with PONG", async () => {
    e = await startDiscordEnv();
    const env = e;
    const ping = JSON.stringify({
      id: "1",
      application_id: env.discord.applicationId,
      type: 1,
      token: "t",
      version: 1,
      user: { id: "1", username: "discord" },
    });
    const res = await postInteraction(env, ping);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/json");
    expect(await res.json()).toEqual({ type: 1 });
    // Not JSON (but signed): 400.
    expect((await postInteraction(env, "not json")).status).toBe(400);
  });

  it("answers a user on neither allow-list with an ephemeral 'not allowed' and runs nothing", async () => {
    e = await startDiscordEnv();
    const env = e;
    const { runId, message } = await failedWithAlert(env);
    for (const action of ["retry", "replay", "mute"] as const) {
      const res = await click(env, message, action, { ...MALLORY, roles: [OTHER_ROLE] }, "1h");
      expect(res.status).toBe(200);
      const answer = (await res.json()) as { type: number; data: { content: string; flags: number } };
      expect(answer.type).toBe(4);
      expect(answer.data.flags & 64).toBe(64);
      expect(answer.data.content).toMatch(/not allowed/);
      expect(answer.data.content).toContain(MALLORY.id);
    }
    await env.pass(300);
    expect((await env.waitForStatus(runId, ["failed"])).status).toBe("failed");
    expect(env.upstream.requests).toHaveLength(1);
    const runs = (await (await env.api("/api/runs")).json()) as { runs: unknown[] };
    expect(runs.runs).toHaveLength(1); // no replay run
    expect(edits(env)).toHaveLength(0); // the alert is untouched
    expect(await env.deps.silences.active(env.now())).toHaveLength(0);
  });

  it("lets a holder of DISCORD_ALLOWED_ROLES click, and refuses the role outside a guild (DM)", async () => {
    e = await startDiscordEnv();
    const env = e;
    const { runId, message } = await failedWithAlert(env);
    // In a DM there is no member and no roles: refused.
    const dm = clickInteraction(env, message, "retry", ROLE_HOLDER);
    const { member, ...rest } = dm;
    const dmRes = await postInteraction(
      env,
      JSON.stringify({ ...rest, user: member.user, guild_id: undefined, channel: { id: message.channel_id, type: 1 } }),
    );
    expect(((await dmRes.json()) as { data: { flags: number; content: string } }).data).toMatchObject({
      flags: 64,
      content: expect.stringMatching(/not allowed/),
    });
    await env.pass(200);
    expect(env.upstream.requests).toHaveLength(1);
    // In the guild, holding the ops role: allowed.
    env.upstream.script([], { status: 200, body: {} });
    const res = await click(env, message, "retry", { ...ROLE_HOLDER, roles: [OTHER_ROLE, OPS_ROLE] });
    expect(await res.json()).toEqual({ type: 6 });
    await env.waitForStatus(runId, ["succeeded"]);
    const m = await env.until(
      () => (/succeeded/.test(messageText(env.discord.messages[0]!)) ? env.discord.messages[0] : undefined),
      5_000,
      "outcome",
    );
    expect(messageText(m)).toContain(`Retry by <@${ROLE_HOLDER.id}>`);
  });

  it("runs a double-clicked Retry once, and ignores a redelivered click after the run failed again", async () => {
    e = await startDiscordEnv();
    const env = e;
    const { runId, message } = await failedWithAlert(env);
    const answers = await Promise.all([
      click(env, message, "retry"),
      click(env, message, "retry"),
      click(env, message, "retry"),
    ]);
    const bodies = (await Promise.all(answers.map((a) => a.json()))) as {
      type: number;
      data?: { content: string; flags: number };
    }[];
    for (const a of answers) expect(a.status).toBe(200);
    // One click started the retry (deferred update); the others were told privately it was already done.
    expect(bodies.filter((b) => b.type === 6)).toHaveLength(1);
    const dupes = bodies.filter((b) => b.type === 4);
    expect(dupes).toHaveLength(2);
    // (A click processed after the retry already failed again finds newer buttons: "changed since".)
    for (const d of dupes)
      expect(d.data).toMatchObject({ flags: 64, content: expect.stringMatching(/Already done|changed since/) });
    // The retry fails again (upstream still 500); the message gets fresh buttons.
    await env.until(() => messageText(env.discord.messages[0]!).includes("failed again"), 10_000, "failed again");
    await env.pass(200);
    expect(env.upstream.requests).toHaveLength(2);
    // A late redelivery of the old click (same buttons) runs nothing either.
    const late = (await (await click(env, message, "retry")).json()) as { type: number; data: { flags: number } };
    expect(late).toMatchObject({ type: 4, data: { flags: 64 } });
    await env.pass(300);
    expect(env.upstream.requests).toHaveLength(2);
    expect((await env.waitForStatus(runId, ["failed"])).status).toBe("failed");
    // The fresh buttons on the edited message work (one more retry, which now succeeds).
    env.upstream.script([], { status: 200, body: { ok: true } });
    const fresh = snapshot(env.discord.messages[0]!);
    expect(findButton(fresh, "retry")!.custom_id).not.toBe(findButton(message, "retry")!.custom_id);
    expect(await (await click(env, fresh, "retry")).json()).toEqual({ type: 6 });
    await env.waitForStatus(runId, ["succeeded"]);
    expect(env.upstream.requests).toHaveLength(3);
    const last = await env.until(
      () => (/succeeded/.test(messageText(env.discord.messages[0]!)) ? env.discord.messages[0] : undefined),
      5_000,
      "succeeded",
    );
    expect(messageText(last)).toContain(`<@${ALICE.id}>`);
    expect(env.discord.messages).toHaveLength(1);
  });

  it("replays on click: a new run, followed to its end in the same message", async () => {
    e = await startDiscordEnv();
    const env = e;
    const { runId, message } = await failedWithAlert(env);
    env.upstream.script([], { status: 200, body: { ok: true } });
    await Promise.all([click(env, message, "replay"), click(env, message, "replay")]);
    const final = await env.until(
      () =>
        /Replay by .* succeeded/.test(messageText(env.discord.messages[0]!)) ? env.discord.messages[0] : undefined,
      10_000,
      "replay outcome",
    );
    const runs = (await (await env.api("/api/runs")).json()) as { runs: { id: string; status: string }[] };
    expect(runs.runs).toHaveLength(2);
    const replay = runs.runs.find((r) => r.id !== runId)!;
    expect(replay.status).toBe("succeeded");
    expect(messageText(final)).toContain(replay.id);
    expect(env.discord.messages).toHaveLength(1);
  });

  it("Mute… 1 hour creates a silence, says so in the message, and the next failure is not sent", async () => {
    e = await startDiscordEnv();
    const env = e;
    const { message } = await failedWithAlert(env);
    const res = await click(env, message, "mute", ALICE, "1h");
    expect(await res.json()).toEqual({ type: 6 });
    const muted = await env.until(
      () => (/Muted by alice/.test(messageText(env.discord.messages[0]!)) ? env.discord.messages[0] : undefined),
      5_000,
      "muted message",
    );
    await env.until(
      () => env.discord.replies.some((r) => r.reference === muted.id && r.content === "Muted by alice"),
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
      created_by: expect.stringContaining(`discord:${ALICE.id}`),
    });
    const ends = Date.parse(silences[0]!.ends_at) - env.now();
    expect(ends).toBeGreaterThan(3_500_000);
    expect(ends).toBeLessThanOrEqual(3_600_000);

    const callsBefore = env.discord.calls.length;
    const again = await runOnce(env);
    expect(again.status).toBe("failed");
    await env.pass(400);
    const view = (await (await env.api(`/api/runs/${again.id as string}`)).json()) as {
      alerts: { status: string }[];
    };
    expect(view.alerts.map((a) => a.status)).toEqual(["silenced"]);
    expect(env.discord.calls.slice(callsBefore).filter((c) => c.path.startsWith("/channels/"))).toHaveLength(0);
    // A second pick on the same select (double click) creates no second silence.
    const second = (await (await click(env, message, "mute", ALICE, "1h")).json()) as {
      type: number;
      data: { flags: number };
    };
    expect(second).toMatchObject({ type: 4, data: { flags: 64 } });
    expect(await env.deps.silences.active(env.now())).toHaveLength(1);
  });

  it("answers within 3 s even when editing the alert is rate limited, and the edit lands after Retry-After", async () => {
    e = await startDiscordEnv();
    const env = e;
    const { runId, message } = await failedWithAlert(env);
    env.upstream.script([], { status: 200, body: {} });
    env.discord.rateLimit("PATCH", /^\/channels\//, 1, 4);
    const started = env.now();
    const res = await click(env, message, "retry");
    expect(await res.json()).toEqual({ type: 6 });
    expect(env.now() - started).toBeLessThan(3_000);
    await env.waitForStatus(runId, ["succeeded"]);
    const done = await env.until(
      () => (/succeeded/.test(messageText(env.discord.messages[0]!)) ? env.discord.messages[0] : undefined),
      15_000,
      "outcome after the rate limit",
    );
    expect(messageText(done)).toContain(`<@${ALICE.id}>`);
    const patches = edits(env);
    expect(patches[0]!.status).toBe(429);
    expect(patches[1]!.at - patches[0]!.at).toBeGreaterThanOrEqual(3_900);
    expect(env.upstream.requests).toHaveLength(2);
  });

  it("answers a button that is not mend's privately", async () => {
    e = await startDiscordEnv();
    const env = e;
    const { message } = await failedWithAlert(env);
    const i = clickInteraction(env, message, "retry");
    i.data.custom_id = "someone-else:button";
    const res = (await (await postInteraction(env, JSON.stringify(i))).json()) as {
      type: number;
      data: { flags: number; content: string };
    };
    expect(res).toMatchObject({ type: 4, data: { flags: 64, content: expect.stringMatching(/not one of mend's/) } });
    expect(env.upstream.requests).toHaveLength(1);
  });
});
