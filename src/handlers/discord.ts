// The `discord` handler: posts an embed (flow, failed step, error type, message, attempts, run id
// and link) with one row of buttons — Retry, Replay, Mute 1h — and edits it for grouped failures
// and clicks.
//
// Three ways to use it:
//   - a registered handler:  POST /api/handlers { kind: "discord", config: { channel_id: "1234…" } }
//                            or config { webhook_url: "https://discord.com/api/webhooks/<id>/<token>" }
//   - a flow step:           on_failure: [{ id: tell, script: { name: discord, args: { channel_id: "1234…" } } }]
//   - a function:            await sendDiscordAlert({ channel_id, token }, payload)   (no grouping, no DB)
//
// `channel_id` needs DISCORD_BOT_TOKEN: POST /channels/{id}/messages through @discordjs/rest at
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
import type { REST } from "@discordjs/rest";
import type { AlertPayload } from "../engine/ports";
import type { Log } from "../deps";
import type { Config } from "../env";
import { alertFromRecord, buildAlert } from "../bots/alert";
import { targetKey, type ChatAlerts, type Editor } from "../bots/chat";
import { alertMessage, DISCORD_MESSAGE_LIMIT, type DiscordMessage, type HowToAct } from "../bots/discord/components";
import type { AlertRecord } from "../store/alerts";
import { DeliveryError, type Sender } from "./types";
import { UrlRefusedError } from "../net/url-safety";
import { refusedDelivery } from "./webhook";
import { retryAfterMs } from "../engine/steps";

export const DEFAULT_DISCORD_API_URL = "https://discord.com/api";
const TIMEOUT_MS = 15_000;

/** A REST client (API v10) that leaves waiting and retrying to the outbox. */
export async function discordRest(token: string | undefined, apiUrl = DEFAULT_DISCORD_API_URL): Promise<REST> {
  // Imported on first use: only needed when Discord is used.
  const { REST } = await import("@discordjs/rest");
  const rest = new REST({
    api: apiUrl.replace(/\/+$/, ""),
    version: "10",
    // Never sleep on a 429 or a known-empty bucket: throw RateLimitError (with retryAfter) instead.
    rejectOnRateLimit: () => true,
    // A retried POST could post twice; the outbox retries with the same nonce instead.
    retries: 0,
    timeout: TIMEOUT_MS,
  });
  if (token) rest.setToken(token);
  return rest;
}

/** Maps a REST or webhook failure to what the outbox should do about it. */
export function discordDeliveryError(err: unknown): DeliveryError {
  if (err instanceof DeliveryError) return err;
  if (err instanceof UrlRefusedError) return refusedDelivery(err);
  const e = err as { name?: string; message?: string; status?: number; code?: number | string; retryAfter?: number; global?: boolean; route?: string; rawError?: unknown };
  const name = String(e?.name ?? "");
  if (name.startsWith("RateLimitError") && typeof e.retryAfter === "number") {
    return new DeliveryError(`discord rate limited ${e.route ?? "the call"} (retry after ${Math.ceil(e.retryAfter)} ms${e.global ? ", global" : ""})`, Math.max(0, e.retryAfter), { status: 429, global: Boolean(e.global) });
  }
  if (name.startsWith("DiscordAPIError") && typeof e.status === "number") {
    // 4xx other than 408/429 will not get better by trying again (unknown channel, missing access, bad body…).
    const permanent = e.status >= 400 && e.status < 500 && e.status !== 408 && e.status !== 429;
    return new DeliveryError(`discord answered HTTP ${e.status} (code ${String(e.code)}): ${e.message ?? ""}`.trim(), undefined, { status: e.status, code: e.code }, permanent);
  }
  if (name === "HTTPError" && typeof e.status === "number") return new DeliveryError(`discord answered HTTP ${e.status}`, undefined, { status: e.status });
  if (/Expected token/.test(e?.message ?? "")) return new DeliveryError(`discord request failed: ${e.message}`, undefined, undefined, true);
  return new DeliveryError(`discord request failed: ${e?.message ?? String(err)}`);
}

/** Discord's JSON `retry_after` (seconds) first, else the Retry-After header. */
function parseRetryAfterMs(header: string | null, body: unknown): number | undefined {
  const fromBody = (body as { retry_after?: unknown } | null)?.retry_after;
  if (typeof fromBody === "number" && fromBody >= 0) return fromBody * 1000;
  return retryAfterMs(header, Date.now());
}

/** `https://…/webhooks/{id}/{token}` + `suffix`, keeping `thread_id`, with extra query parameters. */
function webhookUrl(url: string, suffix: string, query: Record<string, string> = {}): string {
  const u = new URL(url);
  const thread = u.searchParams.get("thread_id");
  u.pathname = u.pathname.replace(/\/+$/, "") + suffix;
  u.search = "";
  if (thread) u.searchParams.set("thread_id", thread);
  for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
  return u.toString();
}

/** Calls a webhook URL: 2xx → the JSON answer; 429 honours Retry-After; 4xx (404: the webhook is gone) are permanent. */
async function callWebhook(fetchFn: typeof fetch, method: "POST" | "PATCH", url: string, body: unknown): Promise<Record<string, unknown>> {
  let res: Response;
  try {
    res = await fetchFn(url, { method, headers: { "content-type": "application/json" }, body: JSON.stringify(body), signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (err) {
    if (err instanceof UrlRefusedError) throw refusedDelivery(err);
    throw new DeliveryError(`discord webhook request failed: ${(err as Error)?.message ?? String(err)}`);
  }
  const text = await res.text().catch(() => "");
  let json: unknown = undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (res.ok) return json && typeof json === "object" ? (json as Record<string, unknown>) : {};
  if (res.status === 429) throw new DeliveryError("discord webhook rate limited", parseRetryAfterMs(res.headers.get("retry-after"), json) ?? 1000, { status: 429 });
  const permanent = res.status >= 400 && res.status < 500 && res.status !== 408;
  throw new DeliveryError(`discord webhook answered HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ""}`, undefined, { status: res.status, body: text.slice(0, 200) }, permanent);
}

export interface DiscordTarget {
  channel_id?: string;
  webhook_url?: string;
}

function parseTarget(config: Record<string, unknown>): DiscordTarget {
  const channel = config.channel_id;
  const webhook = config.webhook_url;
  if (typeof channel === "string" && /^\d{5,30}$/.test(channel.trim())) return { channel_id: channel.trim() };
  if (typeof channel === "number" && Number.isSafeInteger(channel)) return { channel_id: String(channel) };
  if (typeof webhook === "string" && /^https?:\/\//.test(webhook)) return { webhook_url: webhook };
  throw new DeliveryError("discord handler config needs `channel_id` (a channel id, with DISCORD_BOT_TOKEN) or `webhook_url`", undefined, undefined, true);
}

/** Discord's `nonce` is at most 25 characters: stable per alert, so a redelivery reuses it. */
export function nonceFor(alertId: string): string {
  return alertId.length <= 25 ? alertId : alertId.slice(-25);
}

function randomNonce(): string {
  return crypto.randomUUID().replace(/-/g, "").slice(0, 25);
}

async function postToChannel(rest: REST, channelId: string, message: DiscordMessage, nonce: string): Promise<{ channel_id: string; message_id: string }> {
  try {
    const res = (await rest.post(`/channels/${channelId}/messages`, { body: { ...message, nonce, enforce_nonce: true } })) as { id: string; channel_id?: string };
    return { channel_id: res.channel_id ?? channelId, message_id: res.id };
  } catch (err) {
    throw discordDeliveryError(err);
  }
}

async function postToWebhook(fetchFn: typeof fetch, url: string, message: DiscordMessage): Promise<{ webhook: true; channel_id?: string; message_id?: string }> {
  const res = await callWebhook(fetchFn, "POST", webhookUrl(url, "", { wait: "true" }), message);
  return { webhook: true, channel_id: typeof res.channel_id === "string" ? res.channel_id : undefined, message_id: typeof res.id === "string" ? res.id : undefined };
}

/**
 * Stand-alone: posts one alert for `payload` (no grouping, nothing stored).
 * `{ channel_id, token, apiUrl? }` posts as the bot and returns { channel_id, message_id };
 * `{ webhook_url }` posts through the webhook (no interactive buttons) and returns the same ids when
 * Discord gave them.
 */
export async function sendDiscordAlert(
  target: { channel_id: string; token: string; apiUrl?: string; nonce?: string } | { webhook_url: string; fetch?: typeof fetch },
  payload: AlertPayload,
  opts: { publicUrl?: string; howTo?: HowToAct } = {},
): Promise<{ channel_id?: string; message_id?: string }> {
  const model = buildAlert(payload, { messageLimit: DISCORD_MESSAGE_LIMIT, publicUrl: opts.publicUrl });
  if ("webhook_url" in target) {
    const r = await postToWebhook(target.fetch ?? fetch, target.webhook_url, alertMessage(model, { webhook: true, howTo: { publicUrl: opts.publicUrl, ...opts.howTo } }));
    return { channel_id: r.channel_id, message_id: r.message_id };
  }
  const rest = await discordRest(target.token, target.apiUrl);
  return postToChannel(rest, target.channel_id, alertMessage(model), target.nonce ?? randomNonce());
}

export interface DiscordHandler {
  /** The Sender for kind `discord` (outbox deliveries and `script: discord`). */
  send: Sender;
  /** Re-renders an alert and edits its message (PATCH /channels/{c}/messages/{m}), retrying a 429 a few times; for deps.chat.registerEditor. */
  edit: Editor;
  /** The shared REST client (undefined without DISCORD_BOT_TOKEN). */
  rest(): Promise<REST | undefined>;
}

type Ref = { channel_id?: string; message_id?: string; webhook?: boolean } | null;

export function createDiscordHandler(deps: { config: Config; chat: ChatAlerts; log: Log }): DiscordHandler {
  const { config, chat } = deps;
  let rest: Promise<REST> | undefined;
  const getRest = () => {
    if (!config.DISCORD_BOT_TOKEN) return undefined;
    rest ??= discordRest(config.DISCORD_BOT_TOKEN, config.DISCORD_API_URL);
    return rest;
  };
  const howTo: HowToAct = {
    publicUrl: config.MEND_PUBLIC_URL,
    apiToken: Boolean(config.MEND_API_TOKEN),
    command: Boolean(config.DISCORD_BOT_TOKEN && config.DISCORD_PUBLIC_KEY && config.DISCORD_APPLICATION_ID),
  };
  const model = (alert: AlertRecord) => alertFromRecord(alert, { messageLimit: DISCORD_MESSAGE_LIMIT, publicUrl: config.MEND_PUBLIC_URL });
  const render = (alert: AlertRecord) => alertMessage(model(alert));
  const renderWebhook = (alert: AlertRecord) => alertMessage(model(alert), { webhook: true, howTo });

  /** The bot's edit of its own message; a webhook's message is edited through its URL by `send`. */
  const edit: Editor = async (alert) => {
    const ref = alert.ref as Ref;
    if (!ref?.channel_id || !ref.message_id || ref.webhook) return;
    const r = await getRest();
    if (!r) return;
    try {
      await r.patch(`/channels/${ref.channel_id}/messages/${ref.message_id}`, { body: render(alert) });
    } catch (err) {
      throw discordDeliveryError(err);
    }
  };

  /**
   * The editor for clicks and followed runs (deps.chat): no outbox stands behind these edits, so a
   * rate-limited or failed edit is tried again a few times (waiting Retry-After, at most 15 s)
   * before it is given up and logged. Each edit draws the whole message, so the last one wins.
   */
  const editSoon: Editor = async (alert) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await edit(alert);
      } catch (err) {
        const e = discordDeliveryError(err);
        if (e.permanent || attempt >= 3) throw e;
        await new Promise((r) => setTimeout(r, Math.min(15_000, Math.max(e.retryAfterMs ?? 500 * attempt, 50))));
      }
    }
  };

  const send: Sender = async (cfg, payload, ctx) => {
    const target = parseTarget(cfg);
    if (target.channel_id && !config.DISCORD_BOT_TOKEN) throw new DeliveryError("discord handler with `channel_id` needs DISCORD_BOT_TOKEN (or use `webhook_url`)", undefined, undefined, true);
    const { alert, action } = await chat.deliver({
      kind: "discord",
      target: targetKey("discord", cfg),
      payload,
      deliveryId: ctx.deliveryId,
      post: async (a) => {
        if (target.webhook_url) return postToWebhook(ctx.fetch, target.webhook_url, renderWebhook(a));
        return postToChannel((await getRest())!, target.channel_id!, render(a), nonceFor(a.id));
      },
      update: async (a) => {
        const ref = a.ref as Ref;
        if (!target.webhook_url) return edit(a);
        // A webhook edits its own messages: the grouped count shows there too.
        if (ref?.message_id) await callWebhook(ctx.fetch, "PATCH", webhookUrl(target.webhook_url, `/messages/${ref.message_id}`), renderWebhook(a));
      },
    });
    const ref = alert.ref as Ref;
    return { alert_id: alert.id, action, count: alert.count, channel_id: ref?.channel_id, message_id: ref?.message_id };
  };

  return { send, edit: editSoon, rest: async () => getRest() };
}
