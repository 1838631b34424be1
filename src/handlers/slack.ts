// The `slack` handler: posts a Block Kit alert (flow, failed step, error type, message, attempts,
// run id and link, Retry / Replay / Mute 1h buttons) and edits it for grouped failures and clicks.
//
// Three ways to use it:
//   - a registered handler:  POST /api/handlers { kind: "slack", config: { channel: "C0123" } }
//                            or config { webhook_url: "https://hooks.slack.com/services/…" }
//   - a flow step:           on_failure: [{ id: tell, script: { name: slack, args: { channel: C0123 } } }]
//   - a function:            await sendSlackAlert({ channel, token }, payload)   (no grouping, no DB)
//
// `channel` needs SLACK_BOT_TOKEN (chat.postMessage / chat.update at SLACK_API_URL through a
// SlackApi transport, src/bots/slack/api.ts: @slack/web-api's WebClient on Node, fetch on Workers
// and by default); `webhook_url` needs nothing else but cannot be edited later, so
// grouped failures are only counted. Rate limits: the transport never retries by itself
// (rejectRateLimitedCalls, retries: 0); a 429 becomes a DeliveryError with retryAfterMs and the
// outbox retries the delivery, which posts or edits exactly what is still missing.
// Payloads are redacted by the engine before they reach this file; nothing here adds secrets.
import type { AlertPayload } from "../engine/ports";
import type { Log } from "../deps";
import type { Config } from "../env";
import { alertFromRecord, buildAlert } from "../bots/alert";
import { targetKey, type ChatAlerts, type Editor } from "../bots/chat";
import { alertBlocks, alertText, SLACK_MESSAGE_LIMIT } from "../bots/slack/blocks";
import { DEFAULT_SLACK_API_URL, fetchSlackApiFactory, type SlackApi, type SlackApiFactory } from "../bots/slack/api";
import { retryAfterMs } from "../engine/steps";
import type { AlertRecord } from "../store/alerts";
import { DeliveryError, type Sender } from "./types";
import { UrlRefusedError } from "../net/url-safety";
import { refusedDelivery } from "./webhook";

/** Web API errors that another attempt cannot fix. */
const PERMANENT = new Set([
  "channel_not_found",
  "not_in_channel",
  "is_archived",
  "invalid_auth",
  "not_authed",
  "account_inactive",
  "token_revoked",
  "token_expired",
  "missing_scope",
  "invalid_arguments",
  "invalid_blocks",
  "invalid_form_data",
  "msg_too_long",
  "no_text",
  "restricted_action",
  "message_not_found",
  "cant_update_message",
  "edit_window_closed",
  "team_access_not_granted",
  "ekm_access_denied",
]);

/** Maps a Slack transport (src/bots/slack/api.ts) or webhook failure to what the outbox should do about it. */
export function slackDeliveryError(err: unknown): DeliveryError {
  if (err instanceof DeliveryError) return err;
  const e = err as { code?: string; retryAfter?: number; data?: { error?: string }; statusCode?: number; message?: string };
  if (e?.code === "slack_webapi_rate_limited_error") return new DeliveryError(`slack rate limited the call (retry after ${e.retryAfter ?? "?"} s)`, (e.retryAfter ?? 1) * 1000);
  if (e?.code === "slack_webapi_platform_error") {
    const code = e.data?.error ?? "unknown_error";
    return new DeliveryError(`slack answered ${code}`, undefined, { error: code }, PERMANENT.has(code));
  }
  if (e?.code === "slack_webapi_http_error") return new DeliveryError(`slack answered HTTP ${e.statusCode}`, undefined, { status: e.statusCode });
  return new DeliveryError(`slack request failed: ${e?.message ?? String(err)}`);
}

/** Posts to an incoming webhook: 200 "ok"; 429 honours Retry-After; 4xx are permanent. */
async function postWebhook(fetchFn: typeof fetch, url: string, message: { text: string; blocks: unknown[] }): Promise<void> {
  let res: Response;
  try {
    res = await fetchFn(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(message), signal: AbortSignal.timeout(15_000) });
  } catch (err) {
    // MEND_BLOCK_PRIVATE_URLS refused the URL: permanent, like the webhook handler.
    if (err instanceof UrlRefusedError) throw refusedDelivery(err);
    throw new DeliveryError(`slack webhook request failed: ${(err as Error)?.message ?? String(err)}`);
  }
  const text = (await res.text().catch(() => "")).slice(0, 200);
  if (res.ok) return;
  if (res.status === 429) throw new DeliveryError("slack webhook rate limited", retryAfterMs(res.headers.get("retry-after"), Date.now()) ?? 1000, { status: 429 });
  const permanent = res.status >= 400 && res.status < 500 && res.status !== 408;
  throw new DeliveryError(`slack webhook answered HTTP ${res.status}${text ? `: ${text}` : ""}`, undefined, { status: res.status, body: text }, permanent);
}

export interface SlackTarget {
  channel?: string;
  webhook_url?: string;
}

function parseTarget(config: Record<string, unknown>): SlackTarget {
  const channel = config.channel;
  const webhook = config.webhook_url;
  if (typeof channel === "string" && channel.trim()) return { channel: channel.trim() };
  if (typeof webhook === "string" && /^https?:\/\//.test(webhook)) return { webhook_url: webhook };
  throw new DeliveryError("slack handler config needs `channel` (with SLACK_BOT_TOKEN) or `webhook_url`", undefined, undefined, true);
}

/**
 * Stand-alone: posts one alert for `payload` (no grouping, nothing stored).
 * `{ channel, token, apiUrl? }` uses the Web API and returns { channel, ts }; `{ webhook_url }` returns {}.
 */
export async function sendSlackAlert(
  target: { channel: string; token: string; apiUrl?: string; api?: SlackApiFactory } | { webhook_url: string; fetch?: typeof fetch },
  payload: AlertPayload,
  opts: { publicUrl?: string } = {},
): Promise<{ channel?: string; ts?: string }> {
  const model = buildAlert(payload, { messageLimit: SLACK_MESSAGE_LIMIT, publicUrl: opts.publicUrl });
  const message = { text: alertText(model), blocks: alertBlocks(model) };
  if ("webhook_url" in target) {
    await postWebhook(target.fetch ?? fetch, target.webhook_url, message);
    return {};
  }
  const api = (target.api ?? fetchSlackApiFactory)(target.token, target.apiUrl ?? DEFAULT_SLACK_API_URL);
  return postMessage(api, target.channel, message);
}

/** chat.postMessage; returns the posted message's { channel, ts }. */
async function postMessage(api: SlackApi, channel: string, message: { text: string; blocks: unknown[] }): Promise<{ channel?: string; ts?: string }> {
  try {
    const res = await api.call("chat.postMessage", { channel, ...message });
    return { channel: res.channel as string | undefined, ts: res.ts as string | undefined };
  } catch (err) {
    throw slackDeliveryError(err);
  }
}

export interface SlackHandler {
  /** The Sender for kind `slack` (outbox deliveries and `script: slack`). */
  send: Sender;
  /** Re-renders an alert and edits its message (chat.update); for deps.chat.registerEditor. */
  edit: Editor;
  /** The shared Web API transport (undefined without SLACK_BOT_TOKEN). */
  api(): SlackApi | undefined;
}

/** `api` builds the Web API transport (default: fetch; the Node entry wires @slack/web-api's WebClient). */
export function createSlackHandler(deps: { config: Config; chat: ChatAlerts; log: Log; api?: SlackApiFactory }): SlackHandler {
  const { config, chat, log } = deps;
  let client: SlackApi | undefined;
  const getClient = () => {
    if (!config.SLACK_BOT_TOKEN) return undefined;
    client ??= (deps.api ?? fetchSlackApiFactory)(config.SLACK_BOT_TOKEN, config.SLACK_API_URL, log);
    return client;
  };
  const render = (alert: AlertRecord) => {
    const model = alertFromRecord(alert, { messageLimit: SLACK_MESSAGE_LIMIT, publicUrl: config.MEND_PUBLIC_URL });
    return { text: alertText(model), blocks: alertBlocks(model) };
  };
  const update = async (alert: AlertRecord) => {
    const ref = alert.ref as { channel?: string; ts?: string } | null;
    const c = getClient();
    if (!c || !ref?.channel || !ref.ts) return;
    try {
      await c.call("chat.update", { channel: ref.channel, ts: ref.ts, ...render(alert) });
    } catch (err) {
      throw slackDeliveryError(err);
    }
  };

  const send: Sender = async (cfg, payload, ctx) => {
    const target = parseTarget(cfg);
    if (target.channel && !config.SLACK_BOT_TOKEN) throw new DeliveryError("slack handler with `channel` needs SLACK_BOT_TOKEN (or use `webhook_url`)", undefined, undefined, true);
    const { alert, action } = await chat.deliver({
      kind: "slack",
      target: targetKey("slack", cfg),
      payload,
      deliveryId: ctx.deliveryId,
      post: async (a) => {
        if (target.webhook_url) {
          await postWebhook(ctx.fetch, target.webhook_url, render(a));
          return { webhook: true };
        }
        const res = await postMessage(getClient()!, target.channel!, render(a));
        return { channel: res.channel ?? target.channel, ts: res.ts };
      },
      update: target.channel ? update : undefined,
    });
    const ref = alert.ref as { channel?: string; ts?: string } | null;
    return { alert_id: alert.id, action, count: alert.count, channel: ref?.channel, ts: ref?.ts };
  };

  return { send, edit: update, api: getClient };
}
