// The `discord` handler: posts an embed (flow, failed step, error type, message, attempts, run id
// and link) with rows of buttons (the table in ../actions.ts) and edits it for grouped failures
// and clicks.
//
// Three ways to use it:
//   - a registered handler:  POST /api/handlers { kind: "discord", config: { channel_id: "1234…" } }
//                            or config { webhook_url: "https://discord.com/api/webhooks/<id>/<token>" }
//   - a flow step:           on_failure: [{ id: tell, script: { name: discord, args: { channel_id: "1234…" } } }]
//   - a function:            await sendDiscordAlert({ channel_id, token }, payload)   (no grouping, no DB)
//
// `channel_id` needs DISCORD_BOT_TOKEN: POST /channels/{id}/messages through a DiscordApi (./api.ts) at
// DISCORD_API_URL (v10) with `nonce` + `enforce_nonce` (a redelivery of a message Discord already
// created returns that message instead of a second one) and `allowed_mentions: { parse: [] }`;
// edits are PATCH /channels/{id}/messages/{id}. `webhook_url` needs nothing else: it posts with
// ?wait=true and edits its own message for grouped failures (PATCH …/messages/{id}), but a webhook
// that no application owns cannot carry interactive buttons, so such an alert says how to act
// instead (the run link, the API calls, the /mend command).
//
// Rate limits: the REST client never waits or retries by itself (rejectOnRateLimit for every
// route, retries: 0), so a 429 — or a bucket it knows is empty — becomes a DeliveryError with
// retryAfterMs and the outbox retries the delivery, which posts or edits exactly what is missing.
// Payloads are redacted by the engine before they reach this file; nothing here adds secrets.
import type { AlertPayload } from "../../engine/ports";
import { buildAlert } from "../model";
import { alertMessage, DISCORD_MESSAGE_LIMIT, type DiscordMessage, type HowToAct } from "./components";
import { DeliveryError } from "../../handlers/types";
import { UrlRefusedError } from "../../net/url-safety";
import { refusedDelivery } from "../../handlers/webhook";
import { answerError, DISCORD_TIMEOUT_MS, readJson, type DiscordApi } from "./api";
import { restDiscordApi } from "./rest";

/** `https://…/webhooks/{id}/{token}` + `suffix`, keeping `thread_id`, with extra query parameters. */
export function webhookUrl(url: string, suffix: string, query: Record<string, string> = {}): string {
  const u = new URL(url);
  const thread = u.searchParams.get("thread_id");
  u.pathname = u.pathname.replace(/\/+$/, "") + suffix;
  u.search = "";
  if (thread) u.searchParams.set("thread_id", thread);
  for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
  return u.toString();
}

/** Calls a webhook URL: 2xx → the JSON answer; 429 honours Retry-After; 4xx (404: the webhook is gone) are permanent. */
export async function callWebhook(
  fetchFn: typeof fetch,
  method: "POST" | "PATCH",
  url: string,
  body: unknown,
): Promise<Record<string, unknown>> {
  let res: Response;
  try {
    res = await fetchFn(url, {
      method,
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(DISCORD_TIMEOUT_MS),
    });
  } catch (err) {
    if (err instanceof UrlRefusedError) throw refusedDelivery(err);
    throw new DeliveryError(`discord webhook request failed: ${(err as Error)?.message ?? String(err)}`);
  }
  const { text, json } = await readJson(res);
  if (res.ok) return json && typeof json === "object" ? (json as Record<string, unknown>) : {};
  throw answerError(
    "the webhook",
    res.status,
    res.status === 429 && json === undefined ? { retry_after: Number(res.headers.get("retry-after") ?? 1) } : json,
    text,
  );
}

/** Discord's `nonce` is at most 25 characters: stable per alert, so a redelivery reuses it. */
export function nonceFor(alertId: string): string {
  return alertId.length <= 25 ? alertId : alertId.slice(-25);
}

function randomNonce(): string {
  return crypto.randomUUID().replace(/-/g, "").slice(0, 25);
}

export async function postToChannel(
  api: DiscordApi,
  channelId: string,
  message: DiscordMessage,
  nonce: string,
): Promise<{ channel_id: string; message_id: string }> {
  const res = (await api.call("POST", `/channels/${channelId}/messages`, {
    ...message,
    nonce,
    enforce_nonce: true,
  })) as { id: string; channel_id?: string };
  return { channel_id: res.channel_id ?? channelId, message_id: res.id };
}

export async function postToWebhook(
  fetchFn: typeof fetch,
  url: string,
  message: DiscordMessage,
): Promise<{ webhook: true; channel_id?: string; message_id?: string }> {
  const res = await callWebhook(fetchFn, "POST", webhookUrl(url, "", { wait: "true" }), message);
  return {
    webhook: true,
    channel_id: typeof res.channel_id === "string" ? res.channel_id : undefined,
    message_id: typeof res.id === "string" ? res.id : undefined,
  };
}

/**
 * Stand-alone: posts one alert for `payload` (no grouping, nothing stored).
 * `{ channel_id, token, apiUrl? }` posts as the bot and returns { channel_id, message_id };
 * `{ webhook_url }` posts through the webhook (no interactive buttons) and returns the same ids when
 * Discord gave them.
 */
export async function sendDiscordAlert(
  target:
    | { channel_id: string; token: string; apiUrl?: string; nonce?: string }
    | { webhook_url: string; fetch?: typeof fetch },
  payload: AlertPayload,
  opts: { publicUrl?: string; howTo?: HowToAct } = {},
): Promise<{ channel_id?: string; message_id?: string }> {
  const model = buildAlert(payload, { messageLimit: DISCORD_MESSAGE_LIMIT, publicUrl: opts.publicUrl });
  if ("webhook_url" in target) {
    const r = await postToWebhook(
      target.fetch ?? fetch,
      target.webhook_url,
      alertMessage(model, { webhook: true, howTo: { publicUrl: opts.publicUrl, ...opts.howTo } }),
    );
    return { channel_id: r.channel_id, message_id: r.message_id };
  }
  const api = restDiscordApi(target.token, target.apiUrl ?? "https://discord.com/api");
  return postToChannel(api, target.channel_id, alertMessage(model), target.nonce ?? randomNonce());
}
