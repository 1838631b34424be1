// Reported (external) failures through the Slack handler and a fake Slack (in-process): grouped into one
// message, its ts visible on each run's alerts, and the run's link shown in the message.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHANNEL, startSlackEnv, type SlackEnv } from "../slack/harness";
import { getRun, json } from "./helpers";

let e: SlackEnv;
beforeAll(async () => {
  e = await startSlackEnv();
  const res = await e.api("/api/handlers", {
    method: "POST",
    json: { name: "ops-slack", kind: "slack", config: { channel: CHANNEL }, match: { flows: ["external:*"] } },
  });
  expect(res.status).toBe(201);
});
afterAll(() => e.stop());

const report = (body: unknown) => json<{ run_id: string }>(e.api("/api/failures", { method: "POST", json: body }));

describe("external failures in chat", () => {
  it("groups repeated reports into one Slack message whose ts GET /api/runs/:id shows for each run", async () => {
    const failure = {
      source: "ci",
      job: "nightly",
      step: "test",
      error: { message: "3 tests failed" },
      link: "https://ci.example.com/builds/42",
    };
    const first = await report(failure);
    await e.until(async () => (await getRun(e, first.run_id)).alerts[0]?.status === "delivered");
    const second = await report({ ...failure, link: "https://ci.example.com/builds/43" });
    await e.until(async () => (await getRun(e, second.run_id)).alerts[0]?.status === "delivered");

    expect(e.slack.messages).toHaveLength(1);
    const msg = e.slack.messages[0]!;
    expect(JSON.stringify(msg.blocks)).toContain("https://ci.example.com/builds/43");
    for (const id of [first.run_id, second.run_id]) {
      const alert = (await getRun(e, id)).alerts[0];
      expect(alert).toMatchObject({
        handler_name: "ops-slack",
        kind: "slack",
        status: "delivered",
        attempts: 1,
        last_error: null,
        message_id: msg.ts,
        group_count: 2,
      });
    }
  });
});
