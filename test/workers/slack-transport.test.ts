// The two Slack Web API transports (fetch for Workers, the WebClient on Node) put the same request
// on the wire and fail the same way, so the alert and click code above them is written once.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchSlackApi, type SlackApi } from "../../src/chat/slack/api";
import { webClientSlackApi } from "../../src/chat/slack/web-client";
import { slackDeliveryError } from "../../src/chat/slack/send";
import { startFakeSlack, type FakeSlack } from "../fakes/slack";

let slack: FakeSlack;
beforeAll(async () => {
  slack = await startFakeSlack();
});
afterAll(async () => {
  await slack.close();
});

const transports: [string, (token: string) => SlackApi][] = [
  ["fetch", (token) => fetchSlackApi(token, slack.apiUrl)],
  ["WebClient", (token) => webClientSlackApi(token, slack.apiUrl)],
];

describe.each(transports)("Slack transport: %s", (_name, make) => {
  it("posts form-encoded with the bearer token and returns Slack's answer", async () => {
    const before = slack.calls.length;
    const res = await make(slack.token).call("chat.postMessage", {
      channel: "C1",
      text: "hello",
      blocks: [{ type: "section", text: { type: "mrkdwn", text: "*hi*" } }],
    });
    expect(res).toMatchObject({ ok: true, channel: "C1" });
    const call = slack.calls[before]!;
    expect(call.headers.authorization).toBe(`Bearer ${slack.token}`);
    expect(call.headers["content-type"]).toContain("application/x-www-form-urlencoded");
    expect(call.args).toMatchObject({ channel: "C1", text: "hello", blocks: [{ type: "section" }] });
    const msg = slack.messages.find((m) => m.ts === res.ts)!;
    await make(slack.token).call("chat.update", { channel: "C1", ts: msg.ts, text: "edited" });
    expect(msg.text).toBe("edited");
  });

  it("maps a platform error to a permanent delivery error", async () => {
    const err = await make("xoxb-wrong")
      .call("chat.postMessage", { channel: "C1", text: "x" })
      .catch((e: unknown) => e);
    const d = slackDeliveryError(err);
    expect(d.permanent).toBe(true);
    expect(d.message).toContain("invalid_auth");
  });

  it("maps a 429 to a retryable delivery error carrying Retry-After", async () => {
    slack.rateLimit("chat.update", 1, 7);
    const err = await make(slack.token)
      .call("chat.update", { channel: "C1", ts: "1", text: "x" })
      .catch((e: unknown) => e);
    const d = slackDeliveryError(err);
    expect(d.permanent).toBeFalsy();
    expect(d.retryAfterMs).toBe(7_000);
  });
});
