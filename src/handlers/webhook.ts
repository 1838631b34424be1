// The `webhook` handler: POSTs the alert as JSON, signed per Standard Webhooks. The webhook-id
// is the outbox row's id, so a redelivery carries the same id and receivers can deduplicate.
import { retryAfterMs } from "../engine/steps";
import type { AlertPayload } from "../engine/ports";
import { isWebhookSecret, signedHeaders, WEBHOOK_SECRET_HINT } from "../hub/signing";
import { UrlRefusedError } from "../net/url-safety";
import { DeliveryError, type Sender } from "./types";

/** Svix gives a receiver 15 s; a hanging one only holds up its own delivery. */
export const WEBHOOK_TIMEOUT_MS = 15_000;
const MAX_KEPT_BODY = 2_000;

/** The JSON body a receiver gets: Standard Webhooks' { type, data } with the alert as data. */
export function webhookBody(payload: AlertPayload): { type: "run.failed"; data: AlertPayload } {
  return { type: "run.failed", data: payload };
}

/** A response body as recorded: JSON when it parses, else text, cut to a readable size. */
export async function readAnswer(res: Response): Promise<unknown> {
  const text = await res.text().catch(() => "");
  if (/[/+]json\b/i.test(res.headers.get("content-type") ?? "")) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (text.length <= MAX_KEPT_BODY) return parsed;
    } catch {
      // fall through to text
    }
  }
  return text.length > MAX_KEPT_BODY ? text.slice(0, MAX_KEPT_BODY) + "…" : text;
}

/** Why a fetch threw: a timeout (AbortSignal.timeout), or one line naming the network cause when there is one. */
export function fetchFailure(err: unknown): { timeout: boolean; reason: string } {
  const e = err as Error | undefined;
  return {
    timeout: e?.name === "TimeoutError",
    reason: (e?.cause as Error | undefined)?.message ?? e?.message ?? String(err),
  };
}

/** A refused URL is a permanent failure: retrying would only be refused again. */
export function refusedDelivery(err: UrlRefusedError): DeliveryError {
  return new DeliveryError(err.message, undefined, { refused: err.reason }, true);
}

export const sendWebhook: Sender = async (config, payload, ctx) => {
  const url = config.url;
  const secret = config.secret;
  if (typeof url !== "string" || !URL.canParse(url))
    throw new DeliveryError("webhook handler config needs url (an http or https URL)", undefined, undefined, true);
  if (!isWebhookSecret(secret))
    throw new DeliveryError(`webhook handler config needs secret: ${WEBHOOK_SECRET_HINT}`, undefined, undefined, true);
  const body = JSON.stringify(webhookBody(payload));
  let res: Response;
  try {
    res = await ctx.fetch(url, {
      method: "POST",
      headers: signedHeaders(secret, ctx.deliveryId, body),
      body,
      signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
    });
  } catch (err) {
    if (err instanceof UrlRefusedError) throw refusedDelivery(err);
    const f = fetchFailure(err);
    const why = f.timeout ? `no answer within ${WEBHOOK_TIMEOUT_MS / 1000} s` : f.reason;
    throw new DeliveryError(`POST ${url} failed: ${why}`);
  }
  const answer = await readAnswer(res);
  if (res.ok) return { status: res.status, body: answer };
  const wait =
    res.status === 429 || res.status === 503 ? retryAfterMs(res.headers.get("retry-after"), Date.now()) : undefined;
  throw new DeliveryError(
    `POST ${url} answered ${res.status}`,
    wait,
    { status: res.status, body: answer },
    false,
    res.status === 429,
  );
};
