// Standard Webhooks signatures (webhook-id, webhook-timestamp, webhook-signature) via the
// `standardwebhooks` package: the webhook handler and retry/replay callbacks sign this way.
import { Webhook } from "standardwebhooks";
import { WEBHOOK_SECRET_HINT, WEBHOOK_SECRET_RE } from "./secret-format";

export { WEBHOOK_SECRET_HINT };

export function isWebhookSecret(value: unknown): value is string {
  return typeof value === "string" && WEBHOOK_SECRET_RE.test(value);
}

/** A fresh secret: 24 random bytes, base64, with the whsec_ prefix. */
export function newWebhookSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return "whsec_" + btoa(String.fromCharCode(...bytes));
}

/** The headers of one signed POST of `body`; `id` stays the same when the message is sent again. */
export function signedHeaders(secret: string, id: string, body: string, at: Date = new Date()): Record<string, string> {
  return {
    "content-type": "application/json",
    "user-agent": "mend-webhooks/1",
    "webhook-id": id,
    "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
    "webhook-signature": new Webhook(secret).sign(id, at, body),
  };
}
