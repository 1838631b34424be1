// POST /api/runs/:id/{retry,replay,cancel,ack,resolve,mute,unmute} and /api/runs/bulk: validate,
// call the run actions service (src/runs/actions.ts), answer what it says.
import { Hono, type Context } from "hono";
import { z } from "zod";
import type { Deps } from "../deps";
import { zodIssues } from "../engine/flow";
import { ACTIVE, TERMINAL } from "../engine/ports";
import type { ActionRequest, RunActionName } from "../runs/actions";
import { BULK_MAX } from "../runs/bulk";
import { actorOf } from "./actor";
import { readJson } from "./body";
import { badRequest } from "./errors";

const MAX_MUTE_S = 366 * 24 * 3600;
const by = { by: z.string().min(1).max(200).optional(), requested_by: z.string().min(1).max(200).optional() };
const version = z.enum(["original", "latest"]);
export const bodies = {
  retry: z.strictObject({ ...by, version: version.optional(), from_step: z.string().min(1).max(200).optional() }),
  replay: z.strictObject({ ...by, input: z.unknown().optional() }),
  cancel: z.strictObject(by),
  ack: z.strictObject(by),
  resolve: z.strictObject({ ...by, note: z.string().max(2000).optional() }),
  mute: z.strictObject({ ...by, duration_s: z.number().positive().max(MAX_MUTE_S).optional() }),
  unmute: z.strictObject(by),
} satisfies Record<RunActionName, z.ZodType>;
export const replayQuery = z.strictObject({ version: version.default("latest") });

const isoTime = z.iso.datetime({ offset: true, message: "must be an ISO-8601 date-time, e.g. 2030-01-01T12:00:00Z" });
export const bulkBody = z.strictObject({
  ...by,
  action: z.enum(["retry", "replay"]),
  run_ids: z.array(z.string().min(1).max(100)).min(1).max(BULK_MAX, `at most ${BULK_MAX} runs per request`).optional(),
  filter: z
    .strictObject({
      flow: z.string().min(1).max(200).optional(),
      status: z.enum([...ACTIVE, ...TERMINAL] as [string, ...string[]]).optional(),
      since: isoTime.optional(),
      until: isoTime.optional(),
    })
    .optional(),
  version: version.optional(),
});

const KEY_RE = /^[\x21-\x7e]{1,255}$/;

/** The Idempotency-Key header, checked: 1-255 visible ASCII characters. */
export function idempotencyKey(c: Context): string | undefined {
  const key = c.req.header("idempotency-key");
  if (key === undefined) return undefined;
  if (!KEY_RE.test(key))
    throw badRequest("invalid Idempotency-Key", [
      { path: "Idempotency-Key", message: "must be 1-255 visible ASCII characters" },
    ]);
  return key;
}

function answer(c: Context, o: { httpStatus: number; body: Record<string, unknown>; replayed?: boolean }): Response {
  if (o.replayed) c.header("Idempotent-Replayed", "true");
  return c.json(o.body, o.httpStatus as 200);
}

async function parse<T extends z.ZodType>(
  c: Context,
  schema: T,
  what: string,
): Promise<{ raw: unknown; data: z.infer<T> }> {
  const raw = await readJson(c, {});
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw badRequest(`invalid ${what} body`, zodIssues(parsed.error));
  return { raw, data: parsed.data };
}

export function runActionRoutes(deps: Deps) {
  const app = new Hono();

  app.post("/runs/bulk", async (c) => {
    const key = idempotencyKey(c);
    const { data } = await parse(c, bulkBody, "bulk");
    const f = data.filter;
    const filter = f && {
      flow: f.flow,
      status: f.status,
      since: f.since ? Date.parse(f.since) : undefined,
      until: f.until ? Date.parse(f.until) : undefined,
    };
    const actor = actorOf(c, data.by ?? data.requested_by);
    return answer(
      c,
      await deps.runActions.bulk({
        action: data.action,
        runIds: data.run_ids,
        filter,
        version: data.version,
        by: actor,
        idempotencyKey: key,
      }),
    );
  });

  for (const action of Object.keys(bodies) as RunActionName[]) {
    app.post(`/runs/:id/${action}`, async (c) => {
      const key = idempotencyKey(c);
      const { raw, data } = await parse(c, bodies[action], action);
      const d = data as Record<string, unknown>;
      const req: ActionRequest = {
        action,
        runId: c.req.param("id") ?? "",
        by: actorOf(c, (d.by ?? d.requested_by) as string | undefined),
        idempotencyKey: key,
      };
      if (action === "retry") Object.assign(req, { version: d.version, fromStep: d.from_step });
      if (action === "replay") {
        const q = replayQuery.safeParse(c.req.query());
        if (!q.success) throw badRequest("invalid query", zodIssues(q.error));
        req.version = q.data.version;
        if (typeof raw === "object" && raw !== null && Object.hasOwn(raw, "input")) req.input = { value: d.input };
      }
      if (action === "resolve") req.note = d.note as string | undefined;
      if (action === "mute")
        req.muteMs = d.duration_s === undefined ? null : Math.round((d.duration_s as number) * 1000);
      return answer(c, await deps.runActions.perform(req));
    });
  }

  return app;
}
