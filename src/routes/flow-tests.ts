// POST /api/flows/:name/test — run a flow with mocks (SPEC §12): stores, alerts and calls nothing.
import { Hono } from "hono";
import { z } from "zod";
import type { Deps } from "../deps";
import { zodIssues } from "../engine/flow";
import { simulate, type SimulateRequest, type SimulateResult } from "../engine/simulate";
import { badRequest } from "./errors";
import { readJson } from "./body";
import { attemptView } from "./present";

const mockSchema = z.union([
  z.strictObject({ output: z.unknown() }),
  z.strictObject({
    error: z.strictObject({ message: z.string(), type: z.string().optional(), status: z.number().int().optional() }),
  }),
]);

export const testBodySchema = z.strictObject({
  input: z.unknown().optional(),
  mocks: z.record(z.string(), mockSchema).optional(),
  live: z.boolean().optional(),
});

/** Runs one flow test and answers what the run would have done. */
export async function runFlowTest(deps: Deps, req: SimulateRequest) {
  const result = await simulate(deps.engine.deps, req);
  return {
    status: result.run.status,
    output: result.run.output,
    error: result.run.error,
    steps: result.attempts.map(attemptView),
    alerts: await alertList(deps, result),
  };
}

async function alertList(deps: Deps, r: SimulateResult) {
  const names = new Map((await deps.handlers.list()).map((h) => [h.id, h.name]));
  const planned = r.alerts.map((o) => ({
    handler: o.handlerId ? (names.get(o.handlerId) ?? o.handlerId) : null,
    kind: o.kind,
    silenced: o.status === "silenced",
    error: { type: o.payload.error.type, step: o.payload.error.step, message: o.payload.error.message },
  }));
  return [...planned, ...r.notified.map((n) => ({ handler: null, kind: n.script, step: n.step, via: "script" }))];
}

export function flowTestRoutes(deps: Deps) {
  const app = new Hono();
  app.post("/flows/:name/test", async (c) => {
    const body = testBodySchema.safeParse(await readJson(c, {}));
    if (!body.success) throw badRequest("invalid flow test: expected { input, mocks, live }", zodIssues(body.error));
    const { input = {}, mocks, live } = body.data;
    return c.json(
      await runFlowTest(deps, { flow: c.req.param("name"), input, mocks: mocks as SimulateRequest["mocks"], live }),
    );
  });
  return app;
}
