// The /mend slash command and the other request shapes POST /slack/events accepts.
import { afterEach, describe, expect, it } from "vitest";
import {
  ALICE,
  MALLORY,
  findButton,
  messageText,
  postSigned,
  runOnce,
  setupFailingFlow,
  slashCommand,
  startSlackEnv,
  type SlackEnv,
} from "./harness";

let e: SlackEnv | undefined;
afterEach(async () => {
  await e?.stop();
  e = undefined;
});

type Answer = {
  response_type?: string;
  text: string;
  blocks?: { type: string; elements?: { action_id: string; value: string }[] }[];
};

async function failedRun(env: SlackEnv): Promise<string> {
  await setupFailingFlow(env);
  env.upstream.script([], { status: 500, body: {} });
  const run = await runOnce(env);
  await env.until(() => env.slack.messages[0], 5_000, "alert");
  return run.id as string;
}

describe("/mend", () => {
  it("`/mend status` lists recent failed runs with their buttons, which work", async () => {
    e = await startSlackEnv();
    const env = e;
    const runId = await failedRun(env);
    const res = await slashCommand(env, "status");
    expect(res.status).toBe(200);
    const answer = (await res.json()) as Answer;
    expect(answer.response_type).toBe("ephemeral");
    expect(answer.text).toContain(runId);
    const actions = answer.blocks!.filter((b) => b.type === "actions");
    expect(actions).toHaveLength(1);
    const ids = actions[0]!.elements!.map((el) => el.action_id);
    expect(ids).toEqual(["mend_retry", "mend_replay"]);
    expect(actions[0]!.elements![0]!.value).toContain(runId);

    // Clicking Retry in the list retries the run and edits the run's alert message.
    env.upstream.script([], { status: 200, body: {} });
    const listMessage = {
      channel: "C0OPS",
      ts: "1700000009.000001",
      text: answer.text,
      blocks: answer.blocks as never,
      versions: [],
    };
    const { click } = await import("./harness");
    expect((await click(env, listMessage, "retry")).status).toBe(200);
    await env.waitForStatus(runId, ["succeeded"]);
    await env.until(() => /succeeded/.test(env.slack.messages[0]!.text), 5_000, "alert edited");

    // Nothing failed any more.
    const empty = (await (await slashCommand(env, "status")).json()) as Answer;
    expect(empty.text).toMatch(/No failed runs/);
  });

  it("`/mend retry <run>` retries once and reports the outcome; the alert message is edited too", async () => {
    e = await startSlackEnv();
    const env = e;
    const runId = await failedRun(env);
    env.upstream.script([], { status: 200, body: {} });
    const res = await slashCommand(env, `retry ${runId}`);
    expect(res.status).toBe(200);
    const answer = (await res.json()) as Answer;
    expect(answer.response_type).toBe("in_channel");
    expect(answer.text).toContain(`<@${ALICE.id}>`);
    expect(answer.text).toContain("Retry");
    await env.waitForStatus(runId, ["succeeded"]);
    // The outcome goes to response_url, and the original alert says who retried it and how it went.
    const outcome = await env.until(
      () => env.slack.responses.find((r) => /succeeded/.test(String(r.body.text))),
      5_000,
      "outcome via response_url",
    );
    expect(String(outcome.body.text)).toContain(runId);
    const edited = await env.until(
      () => (/succeeded/.test(env.slack.messages[0]!.text) ? env.slack.messages[0] : undefined),
      5_000,
      "alert edited",
    );
    expect(messageText(edited)).toContain(`Retry by <@${ALICE.id}>`);
    expect(env.upstream.requests).toHaveLength(2);

    // Retrying a run that is not failed is refused, privately.
    const again = (await (await slashCommand(env, `retry ${runId}`)).json()) as Answer;
    expect(again.response_type).toBe("ephemeral");
    expect(again.text).toMatch(/succeeded|only failed/);
    await env.pass(100);
    expect(env.upstream.requests).toHaveLength(2);
  });

  it("`/mend replay <run>` starts a new run with the same input", async () => {
    e = await startSlackEnv();
    const env = e;
    const runId = await failedRun(env);
    env.upstream.script([], { status: 200, body: {} });
    const answer = (await (await slashCommand(env, `replay ${runId}`)).json()) as Answer;
    expect(answer.text).toContain("Replay");
    const list = (await (await env.api("/api/runs")).json()) as { runs: { id: string }[] };
    expect(list.runs).toHaveLength(2);
    const replay = list.runs.find((r) => r.id !== runId)!;
    expect(answer.text).toContain(replay.id);
    const done = (await env.waitForStatus(replay.id, ["succeeded"])) as { replay_of: string; input: unknown };
    expect(done.replay_of).toBe(runId);
    expect(done.input).toEqual({ order: 1 });
    expect(env.upstream.requests).toHaveLength(2);
  });

  it("applies the allow-list to commands and explains usage", async () => {
    e = await startSlackEnv();
    const env = e;
    const runId = await failedRun(env);
    for (const text of [`retry ${runId}`, `replay ${runId}`]) {
      const answer = (await (await slashCommand(env, text, MALLORY)).json()) as Answer;
      expect(answer.response_type).toBe("ephemeral");
      expect(answer.text).toMatch(/not allowed/);
    }
    await env.pass(200);
    expect(env.upstream.requests).toHaveLength(1);
    expect(((await (await env.api("/api/runs")).json()) as { runs: unknown[] }).runs).toHaveLength(1);
    const usage = (await (await slashCommand(env, "frobnicate")).json()) as Answer;
    expect(usage.text).toMatch(/Usage/);
    const unknown = (await (await slashCommand(env, "retry 01NOSUCHRUN")).json()) as Answer;
    expect(unknown.text).toMatch(/does not exist/);
  });

  it("answers url_verification and keeps buttons working when Slack sends JSON", async () => {
    e = await startSlackEnv();
    const env = e;
    const res = await postSigned(
      env,
      JSON.stringify({ type: "url_verification", challenge: "chal-123", token: "x" }),
      "application/json",
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ challenge: "chal-123" });
    const unsigned = await env.request("/slack/events", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ type: "url_verification", challenge: "c" }),
    });
    expect(unsigned.status).toBe(401);
    const text = await postSigned(env, "hello", "text/plain");
    expect(text.status).toBe(415);
    const broken = await postSigned(env, "payload=%7Bnot-json", "application/x-www-form-urlencoded");
    expect(broken.status).toBe(400);
    // An event nobody listens to is acknowledged with an empty 200.
    const event = await postSigned(
      env,
      JSON.stringify({
        type: "event_callback",
        team_id: "T1",
        api_app_id: "A0MEND",
        event: { type: "app_mention", user: "U1", text: "hi", ts: "1.2", channel: "C1" },
        event_id: "Ev1",
        event_time: 1,
      }),
      "application/json",
    );
    expect(event.status).toBe(200);
    expect(findButton({ blocks: [] }, "retry")).toBeUndefined();
  });
});

describe("slack off", () => {
  it("has no /slack/events route until both SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are set", async () => {
    const { startTestServer } = await import("../api/server");
    const server = await startTestServer();
    try {
      const res = await fetch(`${server.url}/slack/events`, { method: "POST", body: "x" });
      expect(res.status).toBe(404);
    } finally {
      await server.stop();
    }
  });
});
