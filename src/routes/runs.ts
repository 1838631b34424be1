// Runs: list, inspect with the whole ledger, retry, replay, cancel.
import { Hono } from "hono";
import { z } from "zod";
import type { Deps } from "../deps";
import { zodIssues } from "../engine/flow";
import { ACTIVE, TERMINAL } from "../engine/ports";
import { ApiError, badRequest } from "./errors";
import { readJson } from "./body";
import { runSummary, runView } from "./present";
import { externalRunAction } from "./external-runs";
import { deliveryExtras } from "../hub/delivery-view";

const listQuery = z.strictObject({
  flow: z.string().min(1).max(200).optional(),
  status: z.enum([...ACTIVE, ...TERMINAL] as [string, ...string[]]).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().min(1).max(100).optional(),
});

const replayQuery = z.strictObject({ version: z.enum(["latest", "original"]).default("latest") });
const replayBody = z.strictObject({ input: z.unknown() }).partial();

export function runRoutes(deps: Deps) {
  const app = new Hono();

  app.get("/runs", async (c) => {
    const q = listQuery.safeParse(c.req.query());
    if (!q.success) throw badRequest("invalid query", zodIssues(q.error));
    const page = await deps.runs.listRuns(q.data);
    return c.json({ runs: page.runs.map(runSummary), next_cursor: page.next });
  });

  app.get("/runs/:id", async (c) => {
    const id = c.req.param("id");
    const run = await deps.runs.getRun(id);
    if (!run) throw new ApiError(404, `unknown run '${id}'`);
    const [attempts, alerts] = await Promise.all([deps.runs.getAttempts(id), deps.outbox.forRun(id)]);
    const extras = await deliveryExtras(deps, run, alerts);
    return c.json(runView(run, attempts, alerts, extras));
  });

  app.post("/runs/:id/retry", async (c) => {
    // An external failure's retry goes to the system that reported it (retry_url).
    const external = await externalRunAction(c, deps, "retry");
    if (external) return external;
    const run = await deps.engine.retry(c.req.param("id"));
    return c.json({ run_id: run.id, status: run.status }, 202);
  });

  app.post("/runs/:id/replay", async (c) => {
    const external = await externalRunAction(c, deps, "replay");
    if (external) return external;
    const q = replayQuery.safeParse(c.req.query());
    if (!q.success) throw badRequest("invalid query", zodIssues(q.error));
    const raw = await readJson(c, {});
    const body = replayBody.safeParse(raw);
    if (!body.success) throw badRequest("invalid replay body: expected { input }", zodIssues(body.error));
    const hasInput = raw !== null && typeof raw === "object" && Object.hasOwn(raw, "input");
    const run = await deps.engine.replay(c.req.param("id"), { original: q.data.version === "original", input: hasInput ? body.data.input : undefined });
    return c.json({ run_id: run.id, replay_of: run.replayOf, status: run.status }, 202);
  });

  app.post("/runs/:id/cancel", async (c) => {
    const run = await deps.engine.cancel(c.req.param("id"));
    return c.json({ run_id: run.id, status: run.status }, 202);
  });

  return app;
}
