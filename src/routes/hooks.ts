// POST /hooks/:flow — trigger a run; ?wait=true answers with its outcome.
import { Hono, type Context } from "hono";
import type { Deps } from "../deps";
import { hmacSha256Hex, timingSafeEqualStr } from "../crypto";
import { errorAnswer, latestResults, layerErrorObject } from "../engine/error-object";
import type { Flow } from "../engine/flow";
import type { RunRecord } from "../engine/ports";
import { ApiError } from "./errors";
import { readJson } from "./body";
import { bearerToken } from "./bearer";

const WAIT_MS = 30_000;

export function bearerOk(c: Context, token: string | undefined): boolean {
  if (!token) return true;
  const given = bearerToken(c);
  return given !== undefined && timingSafeEqualStr(given, token);
}

/** A signed trigger whose X-Mend-Timestamp is further than this from now is refused (replay protection). */
export const HOOK_TOLERANCE_S = 300;

const SIGNATURE_HINT =
  "sha256=<hex HMAC-SHA256 of '<X-Mend-Timestamp>.<raw body>', or of the raw body without a timestamp>";

/**
 * X-Mend-Signature over "<X-Mend-Timestamp>.<raw body>" (Stripe's scheme) when a timestamp is sent, which
 * also bounds replays to 5 minutes; over the raw body alone (GitHub's) unless the flow requires a timestamp.
 */
async function checkSignature(
  c: Context,
  deps: Deps,
  hook: { secret: string; require_timestamp?: boolean },
  raw: string,
): Promise<void> {
  const given = c.req.header("x-mend-signature") ?? "";
  const ts = c.req.header("x-mend-timestamp");
  if (ts === undefined) {
    if (hook.require_timestamp)
      throw new ApiError(401, "missing X-Mend-Timestamp (unix seconds): this flow requires signed timestamps");
    const expected = "sha256=" + (await hmacSha256Hex(hook.secret, raw));
    if (!timingSafeEqualStr(given, expected))
      throw new ApiError(401, `missing or bad X-Mend-Signature (${SIGNATURE_HINT})`);
    return;
  }
  if (!/^\d{1,12}$/.test(ts)) throw new ApiError(401, "bad X-Mend-Timestamp (expected unix seconds)");
  if (Math.abs(Math.floor(deps.clock.now() / 1000) - Number(ts)) > HOOK_TOLERANCE_S) {
    throw new ApiError(401, "stale request: X-Mend-Timestamp is more than 5 minutes from now");
  }
  const expected = "sha256=" + (await hmacSha256Hex(hook.secret, `${ts}.${raw}`));
  if (!timingSafeEqualStr(given, expected))
    throw new ApiError(401, `missing or bad X-Mend-Signature (${SIGNATURE_HINT})`);
}

async function authorize(c: Context, deps: Deps, flow: Flow | undefined, raw: string): Promise<void> {
  const hook = flow?.webhook;
  if (hook && "public" in hook) return;
  if (hook && "secret" in hook) return checkSignature(c, deps, hook, raw);
  if (!bearerOk(c, deps.config.MEND_API_TOKEN)) throw new ApiError(401, "missing or bad bearer token");
}

export async function waitedAnswer(c: Context, deps: Deps, run: RunRecord): Promise<Response> {
  const ended = await deps.engine.waitFor(run.id, WAIT_MS);
  if (!ended) return c.json({ run_id: run.id, status: (await deps.runs.getRun(run.id))?.status ?? run.status }, 202);
  if (ended.status === "succeeded" || ended.status === "recovered")
    return c.json({ run_id: ended.id, status: ended.status, output: ended.output }, 200);
  const error = ended.error ?? { message: `run ${ended.status}`, type: "cancelled" as const };
  const found = await deps.flows.get(ended.flow, ended.flowVersion);
  const obj = found ? layerErrorObject(await deps.flows.getDefaults(), found.flow, error.step) : {};
  // Templates are paths from a root: without the text `steps` the ledger read is not needed.
  const steps = JSON.stringify(obj).includes("steps") ? latestResults(await deps.runs.getAttempts(ended.id)) : {};
  const scope = {
    input: ended.input,
    steps,
    failed: ended.cursor.failed ?? null,
    run: { id: ended.id, flow: ended.flow, flow_version: ended.flowVersion },
  };
  const answer = errorAnswer(obj, error, scope, { run_id: ended.id, status: ended.status });
  return c.json(answer.body, answer.status as 500, answer.headers);
}

export function hookRoutes(deps: Deps) {
  const app = new Hono();
  app.post("/:flow", async (c) => {
    const name = c.req.param("flow");
    const found = await deps.flows.get(name);
    const raw = await c.req.text();
    if (!found) {
      if (!bearerOk(c, deps.config.MEND_API_TOKEN)) throw new ApiError(401, "missing or bad bearer token");
      throw new ApiError(404, `unknown flow '${name}'`);
    }
    await authorize(c, deps, found.flow, raw);
    // The same body read: Hono keeps the text `raw` came from.
    const input = await readJson(c, {});
    // The version whose webhook setting was just checked is the one that runs.
    const run = await deps.engine.start({ flow: name, version: found.version, input });
    if (c.req.query("wait") === "true") return waitedAnswer(c, deps, run);
    return c.json({ run_id: run.id, status: run.status }, 202);
  });
  return app;
}
