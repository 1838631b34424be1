// Registered handlers: POST, GET, PATCH, DELETE /api/handlers.
import { Hono } from "hono";
import { z } from "zod";
import type { Deps } from "../deps";
import { ERROR_TYPES } from "../engine/errors";
import { zodIssues } from "../engine/flow";
import { ApiError, badRequest } from "./errors";
import { readJson } from "./body";
import { DeliveryError } from "../handlers/types";
import { isWebhookSecret, newWebhookSecret, WEBHOOK_SECRET_HINT } from "../hub/signing";
import { sampleAlert } from "../hub/sample";
import { PLATFORMS } from "../chat/platforms";
import { targetSchema } from "../chat/target";
import type { DeliveryHealth } from "../store/outbox";

const matchSchema = z.strictObject({
  flows: z.array(z.string().min(1)).optional(),
  steps: z.array(z.string().min(1)).optional(),
  error_types: z.array(z.enum(ERROR_TYPES)).optional(),
});

const httpUrl = z.url({ protocol: /^https?$/ });

/** Handler config by kind: the built-in log and webhook, and one per chat platform. */
export const CONFIG_SCHEMAS: Record<string, z.ZodType<Record<string, unknown>>> = {
  log: z.strictObject({}),
  webhook: z.strictObject({ url: httpUrl, secret: z.string().refine(isWebhookSecret, WEBHOOK_SECRET_HINT).optional() }),
  ...Object.fromEntries(PLATFORMS.map((p) => [p.kind, targetSchema(p.channel)])),
};
type Kind = string;
const KINDS = Object.keys(CONFIG_SCHEMAS) as [Kind, ...Kind[]];

export const createSchema = z.strictObject({
  name: z.string().min(1).max(100),
  kind: z.enum(KINDS),
  config: z.record(z.string(), z.unknown()).default({}),
  match: matchSchema.nullable().optional(),
  enabled: z.boolean().default(true),
  /** Told (a notice through this handler) when another handler's alerts cannot be delivered. */
  fallback: z.boolean().default(false),
});
export const patchSchema = z.strictObject({
  name: z.string().min(1).max(100).optional(),
  config: z.record(z.string(), z.unknown()).optional(),
  match: matchSchema.nullable().optional(),
  enabled: z.boolean().optional(),
  fallback: z.boolean().optional(),
});

function checkConfig(kind: Kind, config: unknown): Record<string, unknown> {
  const r = CONFIG_SCHEMAS[kind]!.safeParse(config);
  if (!r.success)
    throw badRequest(
      `invalid ${kind} handler config`,
      zodIssues(r.error).map((i) => ({ ...i, path: i.path ? `config.${i.path}` : "config" })),
    );
  return r.data as Record<string, unknown>;
}

/** Config fields holding URLs mend will call: refused ones get a 400 naming the field. */
const URL_FIELDS = ["url", "webhook_url"] as const;

async function checkUrls(deps: Deps, config: Record<string, unknown>): Promise<void> {
  const issues = [];
  for (const field of URL_FIELDS) {
    const url = config[field];
    if (typeof url !== "string") continue;
    const refused = await deps.outbound.check(url);
    if (refused) issues.push({ path: `config.${field}`, message: refused });
  }
  if (issues.length) throw badRequest(`refused ${issues.map((i) => i.path).join(", ")}: ${issues[0]!.message}`, issues);
}

/** `health` as GET /api/handlers shows it. */
export function publicHealth(h: DeliveryHealth | undefined): Omit<DeliveryHealth, "failing"> {
  return {
    pending: h?.pending ?? 0,
    last_success_at: h?.last_success_at ?? null,
    last_error: h?.last_error ?? null,
    failing_since: h?.failing_since ?? null,
  };
}

export function handlerRoutes(deps: Deps) {
  const app = new Hono();

  app.post("/handlers", async (c) => {
    const parsed = createSchema.safeParse(await readJson(c));
    if (!parsed.success) throw badRequest("invalid handler", zodIssues(parsed.error));
    const h = parsed.data;
    const config = checkConfig(h.kind, h.config);
    await checkUrls(deps, config);
    if (h.kind === "webhook" && !config.secret) config.secret = newWebhookSecret();
    const created = await deps.handlers.insert(
      {
        id: deps.newId(),
        name: h.name,
        kind: h.kind,
        config,
        match: h.match ?? null,
        enabled: h.enabled,
        fallback: h.fallback,
      },
      deps.clock.now(),
    );
    return c.json(created, 201);
  });

  app.get("/handlers", async (c) => {
    const list = await deps.handlers.list();
    const health = await deps.outbox.health(list.map((h) => h.id));
    return c.json({ handlers: list.map((h) => ({ ...h, health: publicHealth(health.get(h.id)) })) });
  });

  app.get("/handlers/:id", async (c) => {
    const h = await deps.handlers.get(c.req.param("id"));
    if (!h) throw new ApiError(404, `unknown handler '${c.req.param("id")}'`);
    return c.json(h);
  });

  app.patch("/handlers/:id", async (c) => {
    const id = c.req.param("id");
    const existing = await deps.handlers.get(id);
    if (!existing) throw new ApiError(404, `unknown handler '${id}'`);
    const parsed = patchSchema.safeParse(await readJson(c));
    if (!parsed.success) throw badRequest("invalid handler change", zodIssues(parsed.error));
    const patch = {
      ...parsed.data,
      config: parsed.data.config === undefined ? undefined : checkConfig(existing.kind as Kind, parsed.data.config),
    };
    if (patch.config) await checkUrls(deps, patch.config);
    if (patch.config && existing.kind === "webhook" && !patch.config.secret)
      patch.config.secret = existing.config.secret;
    return c.json(await deps.handlers.update(id, patch, deps.clock.now()));
  });

  // Sends a sample alert through the handler's sender now (not via the outbox) and says what the target answered.
  app.post("/handlers/:id/test", async (c) => {
    const id = c.req.param("id");
    const h = await deps.handlers.get(id);
    if (!h) throw new ApiError(404, `unknown handler '${id}'`);
    const send = deps.senders[h.kind];
    if (!send) throw new ApiError(409, `no sender for handler kind '${h.kind}' is configured`);
    const payload = sampleAlert(deps, h.name);
    try {
      const response = await send(h.config, payload, {
        fetch: deps.outbound.fetch,
        log: deps.log,
        deliveryId: `test_${deps.newId()}`,
      });
      return c.json({ ok: true, handler_id: h.id, kind: h.kind, response: response ?? null }, 200);
    } catch (err) {
      const e = err instanceof DeliveryError ? err : new DeliveryError((err as Error)?.message ?? String(err));
      const refused = (e.response as { refused?: unknown } | undefined)?.refused;
      if (typeof refused === "string")
        return c.json(
          {
            ok: false,
            error: e.message,
            handler_id: h.id,
            issues: [
              {
                path: `config.${URL_FIELDS.find((f) => typeof h.config[f] === "string") ?? ""}`.replace(/\.$/, ""),
                message: refused,
              },
            ],
          },
          400,
        );
      return c.json({ ok: false, error: e.message, handler_id: h.id, kind: h.kind, response: e.response ?? null }, 502);
    }
  });

  app.delete("/handlers/:id", async (c) => {
    const id = c.req.param("id");
    if (!(await deps.handlers.remove(id))) throw new ApiError(404, `unknown handler '${id}'`);
    return c.body(null, 204);
  });

  return app;
}
