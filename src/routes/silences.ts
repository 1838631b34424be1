// Silences: POST, GET, DELETE /api/silences. A matching failure is recorded but not sent until ends_at.
import { Hono } from "hono";
import { z } from "zod";
import type { Deps } from "../deps";
import { ERROR_TYPES } from "../engine/errors";
import { zodIssues } from "../engine/flow";
import { ApiError, badRequest } from "./errors";
import { readJson } from "./body";

const MAX_DURATION_S = 366 * 24 * 3600;

export const silenceSchema = z
  .strictObject({
    flow: z.string().min(1).max(200).optional(),
    step: z.string().min(1).max(200).optional(),
    error_type: z.enum(ERROR_TYPES).optional(),
    ends_at: z.iso
      .datetime({ offset: true, message: "must be an ISO-8601 date-time, e.g. 2030-01-01T12:00:00Z" })
      .optional(),
    duration_s: z.number().positive().max(MAX_DURATION_S).optional(),
    created_by: z.string().min(1).max(200).optional(),
    comment: z.string().max(2000).optional(),
  })
  .superRefine((s, ctx) => {
    if (s.flow === undefined && s.step === undefined && s.error_type === undefined)
      ctx.addIssue({ code: "custom", path: ["flow"], message: "give at least one matcher: flow, step or error_type" });
    if ((s.ends_at === undefined) === (s.duration_s === undefined))
      ctx.addIssue({
        code: "custom",
        path: [s.ends_at === undefined ? "ends_at" : "duration_s"],
        message: "give exactly one of ends_at (ISO date-time) or duration_s (seconds)",
      });
  });

export function silenceRoutes(deps: Deps) {
  const app = new Hono();

  app.post("/silences", async (c) => {
    const parsed = silenceSchema.safeParse(await readJson(c));
    if (!parsed.success) throw badRequest("invalid silence", zodIssues(parsed.error));
    const s = parsed.data;
    const now = deps.clock.now();
    const endsAt = s.ends_at !== undefined ? Date.parse(s.ends_at) : now + Math.round(s.duration_s! * 1000);
    if (endsAt <= now)
      throw badRequest("invalid silence", [
        { path: "ends_at", message: `must be in the future (now is ${new Date(now).toISOString()})` },
      ]);
    if (endsAt > now + MAX_DURATION_S * 1000)
      throw badRequest("invalid silence", [
        { path: "ends_at", message: `must be within ${MAX_DURATION_S / 86_400} days from now` },
      ]);
    const created = await deps.silences.create(
      {
        id: deps.newId(),
        flow: s.flow,
        step: s.step,
        errorType: s.error_type,
        endsAt,
        createdBy: s.created_by,
        comment: s.comment,
      },
      now,
    );
    return c.json(created, 201);
  });

  app.get("/silences", async (c) => c.json({ silences: await deps.silences.active(deps.clock.now()) }));

  app.get("/silences/:id", async (c) => {
    const id = c.req.param("id");
    const found = (await deps.silences.active(deps.clock.now())).find((s) => s.id === id);
    if (!found) throw new ApiError(404, `unknown or ended silence '${id}'`);
    return c.json(found);
  });

  app.delete("/silences/:id", async (c) => {
    const id = c.req.param("id");
    if (!(await deps.silences.remove(id))) throw new ApiError(404, `unknown silence '${id}'`);
    return c.body(null, 204);
  });

  return app;
}
