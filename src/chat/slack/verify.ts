// Slack request signing, v0: X-Slack-Signature = "v0=" + hex(HMAC-SHA256(secret, "v0:{ts}:{raw body}")).
// Pure (the clock is passed in) and WebCrypto-only, so it runs on Node and Workers alike.
import { hmacSha256Hex, timingSafeEqualStr } from "../../crypto";

import { freshSignature, type SignedHeaders, type SignedParts, type VerifyResult } from "../signed-route";

export const SLACK_HEADERS: SignedHeaders = { signature: "X-Slack-Signature", timestamp: "X-Slack-Request-Timestamp" };

export type { VerifyResult };

/** signature: X-Slack-Signature; timestamp: X-Slack-Request-Timestamp. */
export interface SlackSignedRequest extends SignedParts {
  signingSecret: string;
}

export async function verifySlackRequest(r: SlackSignedRequest): Promise<VerifyResult> {
  const signed = freshSignature(r, SLACK_HEADERS);
  if (!signed.ok) return signed;
  if (!signed.signature.startsWith("v0=")) return { ok: false, reason: "unsupported signature version (expected v0=)" };
  const expected = "v0=" + (await hmacSha256Hex(r.signingSecret, `v0:${signed.timestamp}:${r.body}`));
  if (!timingSafeEqualStr(signed.signature, expected)) return { ok: false, reason: "bad X-Slack-Signature" };
  return { ok: true };
}

/** Signs a body as Slack does (tests and local tools). */
export async function signSlackRequest(
  signingSecret: string,
  body: string,
  timestampS: number,
): Promise<{ "x-slack-request-timestamp": string; "x-slack-signature": string }> {
  const ts = String(timestampS);
  return {
    "x-slack-request-timestamp": ts,
    "x-slack-signature": "v0=" + (await hmacSha256Hex(signingSecret, `v0:${ts}:${body}`)),
  };
}
