// Shared setup for the Slack tests: mend with Slack on (in-process, or the real server for the
// end-to-end test), a fake Slack Web API and a scriptable upstream, plus signed clicks built from
// the buttons the bot really posted.
import { signSlackRequest } from "../../src/chat/slack/verify";
import { failingFlowOn, inProcess, onLoopback, type Mend } from "../chat/env";
import { slackDriver } from "../chat/harness";
import { startFakeSlack, type Block, type FakeSlack, type SlackMessage } from "../fakes/slack";

export { runOnce } from "../chat/env";

export const SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5";
export const CHANNEL = "C0OPS";
export const ALICE = { id: "UALICE", username: "alice" };
export const MALLORY = { id: "UMALLORY", username: "mallory" };

export interface SlackEnv extends Mend {
  slack: FakeSlack;
}

const ENV = { SLACK_ALLOWED_USERS: ALICE.id, MEND_PUBLIC_URL: "https://mend.example" };

/** mend in-process with Slack on (the fake clock, SQLite :memory:, the fake Slack behind the injected fetch). */
export async function startSlackEnv(env: Record<string, string> = {}): Promise<SlackEnv> {
  const driver = slackDriver();
  const mend = await inProcess(driver, { ...ENV, ...env });
  return { ...mend, slack: driver.fake() };
}

/** The real server with Slack on, the fake Slack on loopback: for the end-to-end test. */
export async function startSlackServer(env: Record<string, string> = {}): Promise<SlackEnv> {
  const slack = await startFakeSlack();
  const mend = await onLoopback(
    {
      SLACK_BOT_TOKEN: slack.token,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: slack.apiUrl,
      ...ENV,
      ...env,
    },
    { outboxSchedule: [50, 50, 50, 50, 50] },
  );
  return {
    ...mend,
    slack,
    async stop() {
      await mend.stop();
      await slack.close();
    },
  };
}

/** A flow whose only step POSTs to the upstream (one attempt), alerting the `ops-slack` handler. */
export const setupFailingFlow = (
  e: SlackEnv,
  name = "orders",
  handlerConfig: Record<string, unknown> = { channel: CHANNEL },
) => failingFlowOn(e, "slack", name, handlerConfig);

export async function postSigned(
  e: SlackEnv,
  body: string,
  contentType: string,
  opts: { secret?: string; timestampS?: number } = {},
): Promise<Response> {
  const headers = await signSlackRequest(
    opts.secret ?? SIGNING_SECRET,
    body,
    opts.timestampS ?? Math.floor(e.now() / 1000),
  );
  return e.request("/slack/events", {
    method: "POST",
    headers: { ...headers, "content-type": contentType },
    body,
  });
}

/** The button (or select) of `action` on a message: its block, action_id, and a button's value. */
export function findButton(
  message: { blocks: Block[] },
  action: string,
): { block_id: string; action_id: string; value: string; type: string } | undefined {
  for (const b of message.blocks) {
    if (b.type !== "actions") continue;
    for (const el of b.elements as Block[])
      if (el.action_id === `mend_${action}`)
        return {
          block_id: b.block_id as string,
          action_id: el.action_id as string,
          value: el.value as string,
          type: el.type as string,
        };
  }
  return undefined;
}

/** The block_actions payload Slack sends when `user` clicks `action` on `message` (or picks `choice` on a select). */
export function clickPayload(
  e: SlackEnv,
  message: SlackMessage,
  action: string,
  user: { id: string; username: string },
  choice?: string,
): Record<string, unknown> {
  const b = findButton(message, action);
  if (!b) throw new Error(`no ${action} button on message ${message.ts}: ${JSON.stringify(message.blocks)}`);
  return {
    type: "block_actions",
    token: "verification-token-unused",
    api_app_id: "A0MEND",
    trigger_id: "123.456.abc",
    team: { id: "T1", domain: "fake" },
    user: { id: user.id, username: user.username, name: user.username, team_id: "T1" },
    channel: { id: message.channel, name: "ops" },
    container: { type: "message", message_ts: message.ts, channel_id: message.channel, is_ephemeral: false },
    message: { type: "message", ts: message.ts, text: message.text, blocks: message.blocks },
    response_url: `${e.slack.url}/response/${message.ts}`,
    actions: [
      b.type === "static_select"
        ? {
            type: "static_select",
            block_id: b.block_id,
            action_id: b.action_id,
            selected_option: { text: { type: "plain_text", text: String(choice) }, value: String(choice) },
            action_ts: String(e.now() / 1000),
          }
        : {
            type: "button",
            block_id: b.block_id,
            action_id: b.action_id,
            value: b.value,
            text: { type: "plain_text", text: action },
            action_ts: String(e.now() / 1000),
          },
    ],
    state: { values: {} },
  };
}

export async function click(
  e: SlackEnv,
  message: SlackMessage,
  action: string,
  user = ALICE,
  opts: { secret?: string; timestampS?: number; choice?: string } = {},
): Promise<Response> {
  const payload = clickPayload(e, message, action, user, opts.choice);
  const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  return postSigned(e, body, "application/x-www-form-urlencoded", opts);
}

export async function slashCommand(e: SlackEnv, text: string, user = ALICE): Promise<Response> {
  const body = new URLSearchParams({
    token: "unused",
    team_id: "T1",
    team_domain: "fake",
    channel_id: CHANNEL,
    channel_name: "ops",
    user_id: user.id,
    user_name: user.username,
    command: "/mend",
    text,
    api_app_id: "A0MEND",
    response_url: `${e.slack.url}/response/cmd-${e.now()}`,
    trigger_id: "123.456.def",
  }).toString();
  return postSigned(e, body, "application/x-www-form-urlencoded");
}

/** All text of a message version (fallback text + every block's text), for assertions. */
export function messageText(m: { text: string; blocks: Block[] }): string {
  return m.text + "\n" + JSON.stringify(m.blocks);
}
