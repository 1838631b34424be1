// POST /api/failures: other systems report failures (mend's shape, a Windmill workspace error
// handler's arguments, or an n8n Error Trigger item) and later successes.
import { Hono } from "hono";
import type { Deps } from "../deps";
import { recordFailure, resolveExternal } from "../hub/external";
import { normalizeReport } from "../hub/report";
import { badRequest } from "./errors";
import { readJson } from "./body";

const FORMAT_NAMES = {
  mend: "failure report",
  windmill: "Windmill error handler payload",
  n8n: "n8n Error Trigger payload",
} as const;

export function failureRoutes(deps: Deps) {
  const app = new Hono();

  app.post("/failures", async (c) => {
    const n = normalizeReport(await readJson(c));
    if (!n.ok) throw badRequest(`invalid ${FORMAT_NAMES[n.format]}`, n.issues);
    const report = n.report;
    // Callback URLs are checked now (after DNS) and again when called.
    const issues = [];
    for (const field of ["retry_url", "replay_url"] as const) {
      const url = report[field];
      const refused = url ? await deps.outbound.check(url) : undefined;
      if (refused) issues.push({ path: field, message: refused });
    }
    if (issues.length) throw badRequest(`refused ${issues[0]!.path}: ${issues[0]!.message}`, issues);

    if (report.status === "succeeded") {
      const resolved = await resolveExternal(deps, report.source, report.job);
      return c.json({ run_id: resolved[0]?.id ?? null, status: "succeeded", resolved: resolved.map((r) => r.id) }, 202);
    }
    const run = await recordFailure(deps, { ...report, error: report.error! });
    return c.json({ run_id: run.id, status: run.status, flow: run.flow }, 202);
  });

  return app;
}
