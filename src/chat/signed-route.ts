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

/** The signed parts of a request, read from the platform's two headers. */
export function signedParts(
  c: Context,
  raw: string,
  signatureHeader: string,
  timestampHeader: string,
  nowMs: number,
): SignedParts {
  return { body: raw, signature: c.req.header(signatureHeader), timestamp: c.req.header(timestampHeader), nowMs };
}

/** Requests whose signed timestamp is further than this from now are refused (replay protection). */
export const TOLERANCE_S = 300;

/** The refusal for a signed timestamp (unix seconds) that is missing, malformed or too far from now. */
export function staleness(
  header: string,
  timestamp: string,
  nowMs: number,
  toleranceS = TOLERANCE_S,
): VerifyResult | undefined {
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: `bad ${header} (expected unix seconds)` };
  if (Math.abs(Math.floor(nowMs / 1000) - Number(timestamp)) > toleranceS)
    return { ok: false, reason: `stale request: ${header} is more than ${toleranceS / 60} minutes from now` };
  return undefined;
}

export function signedRoute(
  path: string,
  verify: (raw: string, c: Context) => Promise<VerifyResult>,
  handle: (raw: string, c: Context) => Promise<Response>,
): Hono {
  const app = new Hono();
  app.post(path, async (c) => {
    const raw = await c.req.text();
    const verdict = await verify(raw, c);
    if (!verdict.ok) return c.json({ error: verdict.reason }, 401);
    return handle(raw, c);
  });
  return app;
}
