// Runs: list, and inspect one with its whole ledger. Actions on runs: src/routes/run-actions.ts.
import { Hono } from "hono";
import { z } from "zod";
import type { Deps } from "../deps";
import { zodIssues } from "../engine/flow";
import { ACTIVE, TERMINAL } from "../engine/ports";
import { ApiError, badRequest } from "./errors";
import { runSummary, runView } from "./present";
import { deliveryExtras } from "../hub/delivery-view";
import { messagesOf } from "../runs/messages";
import { runActionRoutes } from "./run-actions";

export const listQuery = z.strictObject({
  flow: z.string().min(1).max(200).optional(),
  status: z.enum([...ACTIVE, ...TERMINAL] as [string, ...string[]]).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().min(1).max(100).optional(),
});

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
    const [attempts, alerts, messages] = await Promise.all([
      deps.runs.getAttempts(id),
      deps.outbox.forRun(id),
      messagesOf(deps.alerts, run),
    ]);
    const extras = await deliveryExtras(deps, run, alerts);
    return c.json({ ...runView(run, attempts, alerts, extras), messages });
  });

  app.route("/", runActionRoutes(deps));
  return app;
}
