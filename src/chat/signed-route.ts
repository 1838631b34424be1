// One signed webhook endpoint for a chat platform: the raw body is read and the platform's
// signature check runs before anything else; a bad or missing signature gets 401 and changes nothing.
import { Hono, type Context } from "hono";

export type VerifyResult = { ok: true } | { ok: false; reason: string };

/** What every signed chat request carries besides the platform's key. */
export interface SignedParts {
  /** The raw request body, exactly as received. */
  body: string;
  signature: string | null | undefined;
  /** Unix seconds. */
  timestamp: string | null | undefined;
  nowMs: number;
  toleranceS?: number;
}

/** The names of a platform's signature and timestamp headers. */
export interface SignedHeaders {
  signature: string;
  timestamp: string;
}

/** Requests whose signed timestamp is further than this from now are refused (replay protection). */
export const TOLERANCE_S = 300;

/** Both headers, present, with a timestamp (unix seconds) within the tolerance of now; else the refusal. */
export function freshSignature(
  r: SignedParts,
  names: SignedHeaders,
): { ok: false; reason: string } | { ok: true; signature: string; timestamp: string } {
  const { signature, timestamp } = r;
  if (!signature || !timestamp) return { ok: false, reason: `missing ${names.signature} or ${names.timestamp}` };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: `bad ${names.timestamp} (expected unix seconds)` };
  const toleranceS = r.toleranceS ?? TOLERANCE_S;
  if (Math.abs(Math.floor(r.nowMs / 1000) - Number(timestamp)) > toleranceS)
    return { ok: false, reason: `stale request: ${names.timestamp} is more than ${toleranceS / 60} minutes from now` };
  return { ok: true, signature, timestamp };
}

/** POST `path`: the signature (read from `headers`, checked by `verify`) first, 401 otherwise. */
export function signedRoute(
  path: string,
  headers: SignedHeaders,
  clock: { now(): number },
  verify: (parts: SignedParts) => Promise<VerifyResult>,
  handle: (raw: string, c: Context) => Promise<Response>,
): Hono {
  const app = new Hono();
  app.post(path, async (c) => {
    const raw = await c.req.text();
    const signature = c.req.header(headers.signature);
    const verdict = await verify({
      body: raw,
      signature,
      timestamp: c.req.header(headers.timestamp),
      nowMs: clock.now(),
    });
    if (!verdict.ok) return c.json({ error: verdict.reason }, 401);
    return handle(raw, c);
  });
  return app;
}
