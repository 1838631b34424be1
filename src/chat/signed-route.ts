// One signed webhook endpoint for a chat platform: the raw body is read and the platform's
// signature check runs before anything else; a bad or missing signature gets 401 and changes nothing.
import { Hono, type Context } from "hono";

export type VerifyResult = { ok: true } | { ok: false; reason: string };

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
