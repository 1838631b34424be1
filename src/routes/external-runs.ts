// Retry / Replay of a run that reports an external failure: answered here, before the engine
// (which refuses them), by calling the reporting system back (src/hub/callbacks.ts).
import type { Context } from "hono";
import { z } from "zod";
import type { Deps } from "../deps";
import { zodIssues } from "../engine/flow";
import { CallbackError, requestCallback, type CallbackAction } from "../hub/callbacks";
import { externalOf } from "../hub/external";
import { badRequest } from "./errors";
import { readJson } from "./body";

const bodySchema = z.strictObject({ requested_by: z.string().min(1).max(200).optional(), input: z.unknown().optional() });

/** The answer for an external run's retry/replay, or undefined when the run is not external (or unknown). */
export async function externalRunAction(c: Context, deps: Deps, action: CallbackAction): Promise<Response | undefined> {
  const run = await deps.runs.getRun(c.req.param("id") ?? "");
  if (!run || !externalOf(run)) return undefined;
  const raw = await readJson(c, {});
  const body = bodySchema.safeParse(raw);
  if (!body.success) throw badRequest(`invalid ${action} body: expected { requested_by?, input? }`, zodIssues(body.error));
  const hasInput = action === "replay" && typeof raw === "object" && raw !== null && Object.hasOwn(raw, "input");
  try {
    const answer = await requestCallback(deps, run, action, body.data.requested_by ?? "api", hasInput ? { input: body.data.input } : {});
    const callback = { url: answer.url, status: answer.status, body: answer.body, message_id: answer.message_id };
    return c.json({ run_id: run.id, status: run.status, action, callback, ...(action === "replay" ? { replay_of: run.id } : {}) }, 202);
  } catch (err) {
    if (!(err instanceof CallbackError)) throw err;
    const a = err.answer;
    const callback = a ? { url: a.url, status: a.status, body: a.body, message_id: a.message_id } : undefined;
    return c.json(
      { error: err.message, run_id: run.id, ...(callback ? { callback } : {}), ...(err.field ? { issues: [{ path: err.field, message: err.message }] } : {}) },
      err.status,
    );
  }
}
