// The /mend application command (status, retry <run>, replay <run>) and `npm run discord:register`.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { registerMendCommand } from "../../src/chat/discord/register";
import { startFakeDiscord } from "../fakes/discord";
import {
  ALICE,
  MALLORY,
  OPS_ROLE,
  ROLE_HOLDER,
  click,
  command,
  findButton,
  messageText,
  runOnce,
  setupFailingFlow,
  startDiscordEnv,
  type DiscordEnv,
} from "./harness";

let e: DiscordEnv | undefined;
afterEach(async () => {
  await e?.stop();
  e = undefined;
});

type Answer = {
  type: number;
  data: {
    content: string;
    flags?: number;
    components?: { type: number; components: { custom_id?: string; label: string }[] }[];
  };
};

async function failedRun(env: DiscordEnv): Promise<string> {
  await setupFailingFlow(env);
  env.upstream.script([], { status: 500, body: {} });
  const run = await runOnce(env);
  await env.until(() => env.discord.messages[0], 5_000, "alert");
  return run.id as string;
}

describe("/mend", () => {
  it("`/mend status` lists recent failed runs privately with their buttons, which work", async () => {
    e = await startDiscordEnv();
    const env = e;
    const runId = await failedRun(env);
    const res = await command(env, "status");
    expect(res.status).toBe(200);
    const answer = (await res.json()) as Answer;
    expect(answer.type).toBe(4);
    expect(answer.data.flags).toBe(64);
    expect(answer.data.content).toContain(runId);
    expect(answer.data.content).toContain("orders");
    const rows = answer.data.components!;
    expect(rows).toHaveLength(1);
    expect(rows[0]!.components.map((b) => b.custom_id!.split(":")[1])).toEqual(["retry", "replay"]);
    expect(rows[0]!.components[0]!.custom_id).toContain(runId);

    // Clicking Retry in the list retries the run and edits the run's alert message.
    env.upstream.script([], { status: 200, body: {} });
    const list = { id: "1300000000000000001", channel_id: "300000000000000001", components: rows as never };
    expect(await (await click(env, list, "retry")).json()).toEqual({ type: 6 });
    await env.waitForStatus(runId, ["succeeded"]);
    await env.until(() => /succeeded/.test(messageText(env.discord.messages[0]!)), 5_000, "alert edited");

    // Nothing failed any more.
    const empty = (await (await command(env, "status")).json()) as Answer;
    expect(empty.data.content).toMatch(/No failed runs/);
    expect(empty.data.flags).toBe(64);
  });

  it("`/mend retry <run>` retries once and reports the outcome; the alert message is edited too", async () => {
    e = await startDiscordEnv();
    const env = e;
    const runId = await failedRun(env);
    env.upstream.script([], { status: 200, body: {} });
    const res = await command(env, "retry", runId);
    expect(res.status).toBe(200);
    const answer = (await res.json()) as Answer;
    expect(answer.type).toBe(4);
    expect(answer.data.flags ?? 0).toBe(0); // in the channel
    expect(answer.data.content).toContain(`<@${ALICE.id}>`);
    expect(answer.data.content).toContain("Retry");
    await env.waitForStatus(runId, ["succeeded"]);
    // The outcome comes as a follow-up, and the original alert says who retried it and how it went.
    const outcome = await env.until(
      () => env.discord.followUps.find((f) => /succeeded/.test(String(f.body.content))),
      5_000,
      "outcome follow-up",
    );
    expect(String(outcome.body.content)).toContain(runId);
    expect(outcome.body.allowed_mentions).toEqual({ parse: [] });
    const edited = await env.until(
      () => (/succeeded/.test(messageText(env.discord.messages[0]!)) ? env.discord.messages[0] : undefined),
      5_000,
      "alert edited",
    );
    expect(messageText(edited)).toContain(`Retry by <@${ALICE.id}>`);
    expect(findButton(edited, "retry")).toBeUndefined();
    expect(env.upstream.requests).toHaveLength(2);

    // Retrying a run that is not failed is refused, privately.
    const again = (await (await command(env, "retry", runId)).json()) as Answer;
    expect(again.data.flags).toBe(64);
    expect(again.data.content).toMatch(/succeeded|only failed/);
    await env.pass(100);
    expect(env.upstream.requests).toHaveLength(2);
  });

  it("`/mend replay <run>` starts a new run with the same input", async () => {
    e = await startDiscordEnv();
    const env = e;
    const runId = await failedRun(env);
    env.upstream.script([], { status: 200, body: {} });
    const answer = (await (
      await command(env, "replay", runId, { ...ROLE_HOLDER, roles: [OPS_ROLE] })
    ).json()) as Answer;
    expect(answer.type).toBe(4);
    expect(answer.data.content).toMatch(/Replay by .*new run/);
    const list = (await (await env.api("/api/runs")).json()) as { runs: { id: string; status: string }[] };
    const replay = list.runs.find((r) => r.id !== runId)!;
    expect(answer.data.content).toContain(replay.id);
    const done = await env.waitForStatus(replay.id, ["succeeded"]);
    expect(done).toMatchObject({ replay_of: runId, input: { order: 1 } });
    await env.until(
      () => env.discord.followUps.find((f) => /Replay by .* succeeded/.test(String(f.body.content))),
      5_000,
      "outcome follow-up",
    );
  });

  it("refuses retry/replay to users off the allow-lists, answers unknown forms with usage, and 'not found' privately", async () => {
    e = await startDiscordEnv();
    const env = e;
    const runId = await failedRun(env);
    for (const sub of ["retry", "replay"] as const) {
      const a = (await (await command(env, sub, runId, MALLORY)).json()) as Answer;
      expect(a.data).toMatchObject({ flags: 64, content: expect.stringMatching(/not allowed/) });
    }
    // status is read-only: anyone may list.
    expect(((await (await command(env, "status", undefined, MALLORY)).json()) as Answer).data.content).toContain(runId);
    const missing = (await (await command(env, "retry", "01NOSUCHRUN")).json()) as Answer;
    expect(missing.data).toMatchObject({ flags: 64, content: expect.stringMatching(/does not exist/) });
    const noArg = (await (await command(env, "retry")).json()) as Answer;
    expect(noArg.data).toMatchObject({ flags: 64, content: expect.stringMatching(/Usage/) });
    await env.pass(200);
    expect(env.upstream.requests).toHaveLength(1);
    const runs = (await (await env.api("/api/runs")).json()) as { runs: unknown[] };
    expect(runs.runs).toHaveLength(1);
  });
});

describe("npm run discord:register", () => {
  it("PUTs the /mend command to /applications/{id}/commands with the bot token", async () => {
    const discord = await startFakeDiscord();
    try {
      const list = await registerMendCommand({
        token: discord.token,
        applicationId: discord.applicationId,
        apiUrl: discord.apiUrl,
      });
      expect(list.map((c) => c.name)).toEqual(["mend"]);
      const put = discord.callsOf("PUT", /^\/applications\/\d+\/commands$/)[0]!;
      expect(put.path).toBe(`/applications/${discord.applicationId}/commands`);
      expect(put.headers.authorization).toBe(`Bot ${discord.token}`);
      const cmd = (
        put.body as unknown as {
          name: string;
          options: { name: string; type: number; options?: { name: string; type: number; required: boolean }[] }[];
        }[]
      )[0]!;
      expect(cmd.options.map((o) => o.name)).toEqual(["status", "retry", "replay", "ack", "mute", "unmute"]);
      expect(cmd.options.every((o) => o.type === 1)).toBe(true);
      expect(cmd.options[1]!.options![0]).toMatchObject({ name: "run", type: 3, required: true });

      // The npm script itself (tsx entry), for one guild.
      const tsx = join(process.cwd(), "node_modules", ".bin", "tsx");
      const { stdout } = await promisify(execFile)(
        tsx,
        ["src/entry/discord-register.ts", "--guild", "400000000000000001"],
        {
          env: {
            ...process.env,
            DISCORD_BOT_TOKEN: discord.token,
            DISCORD_APPLICATION_ID: discord.applicationId,
            DISCORD_API_URL: discord.apiUrl,
          },
          timeout: 30_000,
        },
      );
      expect(stdout).toMatch(/Registered \/mend .* in guild 400000000000000001/);
      expect(discord.commands.get("guild:400000000000000001")!.map((c) => c.name)).toEqual(["mend"]);

      // A wrong token: one clear line and exit code 1.
      const failed = await promisify(execFile)(tsx, ["src/entry/discord-register.ts"], {
        env: {
          ...process.env,
          DISCORD_BOT_TOKEN: "wrong",
          DISCORD_APPLICATION_ID: discord.applicationId,
          DISCORD_API_URL: discord.apiUrl,
        },
        timeout: 30_000,
      }).then(
        () => undefined,
        (err: { code?: number; stderr?: string }) => err,
      );
      expect(failed?.code).toBe(1);
      expect(failed?.stderr?.trim().split("\n")).toHaveLength(1);
      expect(failed?.stderr).toMatch(/discord:register: Discord answered HTTP 401/);
    } finally {
      await discord.close();
    }
  });
});
