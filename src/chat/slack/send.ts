// The `slack` handler: posts a Block Kit alert (flow, failed step, error type, message, attempts,
// run id and link, the buttons of ../actions.ts) and edits it for grouped failures and clicks.
//
// Three ways to use it:
//   - a registered handler:  POST /api/handlers { kind: "slack", config: { channel: "C0123" } }
//                            or config { webhook_url: "https://hooks.slack.com/services/…" }
//   - a flow step:           on_failure: [{ id: tell, script: { name: slack, args: { channel: C0123 } } }]
//   - a function:            await sendSlackAlert({ channel, token }, payload)   (no grouping, no DB)
//
// `channel` needs SLACK_BOT_TOKEN (chat.postMessage / chat.update at SLACK_API_URL through a
// SlackApi transport, ./api.ts: @slack/web-api's WebClient on Node, fetch on Workers
// and by default); `webhook_url` needs nothing else but cannot be edited later, so
// grouped failures are only counted. Rate limits: the transport never retries by itself
// (rejectRateLimitedCalls, retries: 0); a 429 becomes a DeliveryError with retryAfterMs and the
// outbox retries the delivery, which posts or edits exactly what is still missing.
// Payloads are redacted by the engine before they reach this file; nothing here adds secrets.
import type { AlertPayload } from "../../engine/ports";
import { buildAlert } from "../model";
import { alertBlocks, alertText, SLACK_MESSAGE_LIMIT } from "./blocks";
import { DEFAULT_SLACK_API_URL, fetchSlackApiFactory, type SlackApi, type SlackApiFactory } from "./api";
import { retryAfterMs } from "../../engine/steps";
import { DeliveryError } from "../../handlers/types";
import { UrlRefusedError } from "../../net/url-safety";
import { refusedDelivery } from "../../handlers/webhook";

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

/** Maps a Slack transport (./api.ts) or webhook failure to what the outbox should do about it. */
export function slackDeliveryError(err: unknown): DeliveryError {
  if (err instanceof DeliveryError) return err;
  const e = err as {
    code?: string;
    retryAfter?: number;
    data?: { error?: string };
    statusCode?: number;
    message?: string;
  };
  if (e?.code === "slack_webapi_rate_limited_error")
    return new DeliveryError(
      `slack rate limited the call (retry after ${e.retryAfter ?? "?"} s)`,
      (e.retryAfter ?? 1) * 1000,
      { status: 429 },
      false,
      true,
    );
  if (e?.code === "slack_webapi_platform_error") {
    const code = e.data?.error ?? "unknown_error";
    // Slack sometimes says so in the body of a 200 instead of a 429.
    if (code === "ratelimited" || code === "rate_limited")
      return new DeliveryError(`slack answered ${code}`, 1000, { error: code }, false, true);
    return new DeliveryError(`slack answered ${code}`, undefined, { error: code }, PERMANENT.has(code));
  }
  if (e?.code === "slack_webapi_http_error")
    return new DeliveryError(`slack answered HTTP ${e.statusCode}`, undefined, { status: e.statusCode });
  return new DeliveryError(`slack request failed: ${e?.message ?? String(err)}`);
}

/** Posts to an incoming webhook: 200 "ok"; 429 honours Retry-After; 4xx are permanent. */
export async function postWebhook(
  fetchFn: typeof fetch,
  url: string,
  message: { text: string; blocks: unknown[] },
): Promise<void> {
  let res: Response;
  try {
    res = await fetchFn(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(message),
      signal: AbortSignal.timeout(15_000),
    });
  } catch (err) {
    // MEND_BLOCK_PRIVATE_URLS refused the URL: permanent, like the webhook handler.
    if (err instanceof UrlRefusedError) throw refusedDelivery(err);
    throw new DeliveryError(`slack webhook request failed: ${(err as Error)?.message ?? String(err)}`);
  }
  const text = (await res.text().catch(() => "")).slice(0, 200);
  if (res.ok) return;
  if (res.status === 429)
    throw new DeliveryError(
      "slack webhook rate limited",
      retryAfterMs(res.headers.get("retry-after"), Date.now()) ?? 1000,
      { status: 429 },
      false,
      true,
    );
  const permanent = res.status >= 400 && res.status < 500 && res.status !== 408;
  throw new DeliveryError(
    `slack webhook answered HTTP ${res.status}${text ? `: ${text}` : ""}`,
    undefined,
    { status: res.status, body: text },
    permanent,
  );
}

/**
 * Stand-alone: posts one alert for `payload` (no grouping, nothing stored).
 * `{ channel, token, apiUrl? }` uses the Web API and returns { channel, ts }; `{ webhook_url }` returns {}.
 */
export async function sendSlackAlert(
  target:
    | { channel: string; token: string; apiUrl?: string; api?: SlackApiFactory }
    | { webhook_url: string; fetch?: typeof fetch },
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
export async function postMessage(
  api: SlackApi,
  channel: string,
  message: { text: string; blocks: unknown[] },
): Promise<{ channel?: string; ts?: string }> {
  try {
    const res = await api.call("chat.postMessage", { channel, ...message });
    return { channel: res.channel as string | undefined, ts: res.ts as string | undefined };
  } catch (err) {
    throw slackDeliveryError(err);
  }
}
