// The OpenAPI 3.1 document for every /api and /hooks route, built from the zod schemas the routes
// validate with (zod's own JSON Schema output: OpenAPI 3.1 schemas are JSON Schema 2020-12, and the
// flow schema is recursive, which zod-to-openapi cannot follow). A new /api or /hooks route is added
// here too: test/ops/openapi.test.ts compares this list with the app's routes.
import { z } from "zod";
import { defaultsSchema, flowSchema } from "../engine/flow";
import { ERROR_TYPES } from "../engine/errors";
import { ACTIVE, TERMINAL } from "../engine/ports";
import { failureSchema } from "../hub/report";
import { createSchema as handlerCreate, patchSchema as handlerPatch } from "./handlers";
import { bodies as actionBodies, bulkBody, replayQuery } from "./run-actions";
import { listQuery } from "./runs";
import { silenceSchema } from "./silences";
import { testBodySchema } from "./flow-tests";

interface Answer {
  description: string;
  schema?: z.ZodType;
}

interface RouteConfig {
  method: "get" | "put" | "post" | "patch" | "delete";
  path: string;
  summary: string;
  description?: string;
  request?: {
    params?: z.ZodObject;
    query?: z.ZodObject;
    body?: { schema: z.ZodType; required: boolean; description?: string };
  };
  responses: Record<number, Answer>;
}

const json = (schema: z.ZodType, description: string): Answer => ({ description, schema });
const body = (schema: z.ZodType, description?: string) => ({ required: true, description, schema });
const optionalBody = (schema: z.ZodType) => ({ required: false, schema });

const problem = z.object({
  error: z.string().describe("one line saying what is wrong"),
  issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
const errors = {
  400: json(problem, "invalid input: `issues` names every bad field"),
  401: json(problem, "missing or bad bearer token (when MEND_API_TOKEN is set)"),
};
const notFound = { 404: json(problem, "not found") };

const status = z.enum([...ACTIVE, ...TERMINAL] as [string, ...string[]]);
const errorContext = z.object({
  message: z.string(),
  type: z.enum(ERROR_TYPES),
  step: z.string().optional(),
  attempts: z.number().int().optional(),
  status: z.number().int().nullable().optional(),
  details: z.record(z.string(), z.unknown()).optional(),
  params: z.record(z.string(), z.unknown()).optional(),
});
const runSummary = z.object({
  id: z.string(),
  flow: z.string(),
  flow_version: z.number().int(),
  status,
  job: z.string().nullable().describe("the reported job of an external failure (flow external:<source>)"),
  created_at: z.string(),
  finished_at: z.string().nullable(),
  acked_by: z.string().nullable(),
});
const attempt = z.object({
  step: z.string(),
  phase: z.string(),
  attempt: z.number().int(),
  status: z.enum(["running", "succeeded", "failed", "skipped"]),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
  duration_ms: z.number().nullable(),
  output: z.unknown(),
  error: errorContext.nullable(),
});
const alert = z.looseObject({
  id: z.string(),
  handler_id: z.string().nullable(),
  kind: z.string(),
  status: z.string(),
  attempts: z.number().int(),
});
const runView = runSummary.extend({
  input: z.unknown(),
  output: z.unknown(),
  error: errorContext.nullable(),
  replay_of: z.string().nullable(),
  acked_at: z.string().nullable(),
  resolved_by: z.string().nullable(),
  resolved_at: z.string().nullable(),
  resolution_note: z.string().nullable(),
  external: z.record(z.string(), z.unknown()).optional(),
  steps: z.array(attempt),
  alerts: z.array(alert),
  messages: z.array(
    z.object({ platform: z.string(), channel: z.string().nullable(), message_id: z.string().nullable() }),
  ),
});
const bulkAnswer = z.object({
  accepted: z.array(z.object({ run_id: z.string(), new_run_id: z.string().optional() })),
  skipped: z.array(z.object({ run_id: z.string(), reason: z.string() })),
});
const ACTION_SUMMARY = {
  retry: "Retry a failed run from its failed step (an external run: call its system back)",
  replay: "Start a new run with the same (or a new) input",
  cancel: "Cancel an active run",
  ack: "Acknowledge a failed run (someone is on it)",
  resolve: "Mark a failed run as resolved",
  mute: "Silence alerts for the run's flow and step",
  unmute: "End the run's mute",
} satisfies Record<keyof typeof actionBodies, string>;
const actionAnswer = z.looseObject({ run_id: z.string().optional(), status: z.string().optional() });
const accepted = z.looseObject({ run_id: z.string(), status, replay_of: z.string().nullable().optional() });
const handler = z.looseObject({
  id: z.string(),
  name: z.string(),
  kind: z.string(),
  config: z.record(z.string(), z.unknown()),
  enabled: z.boolean(),
});
const silence = z.looseObject({ id: z.string(), ends_at: z.unknown() });
const flowSummary = z.looseObject({ name: z.string(), version: z.number().int() });
const id = (what: string) => z.object({ id: z.string().describe(what) });
const flowName = z.object({ name: z.string().describe("the flow's name") });

const routes: RouteConfig[] = [
  {
    method: "get",
    path: "/api/openapi.json",
    summary: "This document",
    responses: { 200: json(z.record(z.string(), z.unknown()), "OpenAPI 3.1") },
  },
  {
    method: "get",
    path: "/api/docs",
    summary: "A reference page for this document",
    responses: { 200: { description: "HTML" } },
  },
  {
    method: "put",
    path: "/api/flows/{name}",
    summary: "Create or update a flow (JSON or YAML); a changed definition becomes a new version",
    request: { params: flowName, body: body(flowSchema) },
    responses: { 200: json(flowSummary, "unchanged or updated"), 201: json(flowSummary, "created"), ...errors },
  },
  {
    method: "get",
    path: "/api/flows",
    summary: "List flows",
    responses: { 200: json(z.object({ flows: z.array(z.looseObject({ name: z.string() })) }), "flows"), ...errors },
  },
  {
    method: "get",
    path: "/api/flows/{name}",
    summary: "A flow's definition (latest or ?version=)",
    request: { params: flowName, query: z.object({ version: z.string().optional() }) },
    responses: {
      200: json(
        z.object({
          name: z.string(),
          version: z.number().int(),
          definition: flowSchema,
          versions: z.array(z.unknown()),
        }),
        "the flow",
      ),
      ...errors,
      ...notFound,
    },
  },
  {
    method: "post",
    path: "/api/flows/{name}/test",
    summary: "Run a flow with mocks: nothing is stored, alerted or called (unless live: true)",
    request: { params: flowName, body: optionalBody(testBodySchema) },
    responses: {
      200: json(
        z.object({
          status,
          output: z.unknown(),
          error: errorContext.nullable(),
          steps: z.array(attempt),
          alerts: z.array(z.looseObject({ kind: z.string() })),
        }),
        "what the run did",
      ),
      ...errors,
      ...notFound,
    },
  },
  {
    method: "get",
    path: "/api/defaults",
    summary: "Flow defaults",
    responses: { 200: json(defaultsSchema, "defaults"), ...errors },
  },
  {
    method: "put",
    path: "/api/defaults",
    summary: "Replace the flow defaults",
    request: { body: body(defaultsSchema) },
    responses: { 200: json(defaultsSchema, "saved"), ...errors },
  },
  {
    method: "get",
    path: "/api/runs",
    summary: "List runs, newest first",
    request: { query: listQuery },
    responses: {
      200: json(z.object({ runs: z.array(runSummary), next_cursor: z.string().nullable() }), "a page of runs"),
      ...errors,
    },
  },
  {
    method: "get",
    path: "/api/runs/{id}",
    summary: "A run with its step attempts and alerts",
    request: { params: id("run id") },
    responses: { 200: json(runView, "the run"), ...errors, ...notFound },
  },
  ...Object.entries(actionBodies).map(
    ([action, schema]): RouteConfig => ({
      method: "post",
      path: `/api/runs/{id}/${action}`,
      summary: ACTION_SUMMARY[action as keyof typeof actionBodies],
      description: "An Idempotency-Key header makes a repeated request answer what the first one did.",
      request: {
        params: id("run id"),
        ...(action === "replay" ? { query: replayQuery } : {}),
        body: optionalBody(schema as z.ZodType),
      },
      responses: {
        200: json(actionAnswer, "done (or already done)"),
        202: json(actionAnswer, "queued"),
        ...errors,
        ...notFound,
        409: json(problem, "not possible in the run's status"),
      },
    }),
  ),
  {
    method: "post",
    path: "/api/runs/bulk",
    summary: "Retry or replay many runs, by id or by filter",
    request: { body: body(bulkBody) },
    responses: { 202: json(bulkAnswer, "what happened to each run (at most 1000)"), ...errors },
  },
  {
    method: "post",
    path: "/api/handlers",
    summary: "Create an alert handler",
    request: { body: body(handlerCreate) },
    responses: { 201: json(handler, "created"), ...errors },
  },
  {
    method: "get",
    path: "/api/handlers",
    summary: "List handlers",
    responses: { 200: json(z.object({ handlers: z.array(handler) }), "handlers"), ...errors },
  },
  {
    method: "get",
    path: "/api/handlers/{id}",
    summary: "A handler",
    request: { params: id("handler id") },
    responses: { 200: json(handler, "the handler"), ...errors, ...notFound },
  },
  {
    method: "patch",
    path: "/api/handlers/{id}",
    summary: "Change a handler",
    request: { params: id("handler id"), body: body(handlerPatch) },
    responses: { 200: json(handler, "updated"), ...errors, ...notFound },
  },
  {
    method: "post",
    path: "/api/handlers/{id}/test",
    summary: "Send a test alert through a handler",
    request: { params: id("handler id") },
    responses: {
      200: json(z.looseObject({ ok: z.literal(true), handler_id: z.string() }), "delivered"),
      502: json(z.looseObject({ ok: z.literal(false), error: z.string() }), "the target refused it"),
      ...errors,
      ...notFound,
    },
  },
  {
    method: "delete",
    path: "/api/handlers/{id}",
    summary: "Delete a handler",
    request: { params: id("handler id") },
    responses: { 204: { description: "deleted" }, ...errors, ...notFound },
  },
  {
    method: "post",
    path: "/api/failures",
    summary:
      "Report a failure from another system (mend's shape, a Windmill error handler's or an n8n Error Trigger's)",
    request: { body: body(failureSchema, "mend's own shape; Windmill and n8n payloads are accepted unchanged") },
    responses: {
      202: json(z.looseObject({ run_id: z.string().nullable(), status }), "recorded as an external run"),
      ...errors,
    },
  },
  {
    method: "post",
    path: "/api/silences",
    summary: "Silence alerts that match",
    request: { body: body(silenceSchema) },
    responses: { 201: json(silence, "created"), ...errors },
  },
  {
    method: "get",
    path: "/api/silences",
    summary: "Active silences",
    responses: { 200: json(z.object({ silences: z.array(silence) }), "silences"), ...errors },
  },
  {
    method: "get",
    path: "/api/silences/{id}",
    summary: "An active silence",
    request: { params: id("silence id") },
    responses: { 200: json(silence, "the silence"), ...errors, ...notFound },
  },
  {
    method: "delete",
    path: "/api/silences/{id}",
    summary: "End a silence",
    request: { params: id("silence id") },
    responses: { 204: { description: "ended" }, ...errors, ...notFound },
  },
  {
    method: "post",
    path: "/hooks/{flow}",
    summary: "Start a run of a flow; ?wait=true answers with its outcome",
    description:
      "Bearer token when MEND_API_TOKEN is set, unless the flow has its own `webhook` setting (public, or signed with X-Mend-Signature).",
    request: {
      params: z.object({ flow: z.string() }),
      query: z.object({ wait: z.enum(["true", "false"]).optional() }),
      body: optionalBody(z.unknown()),
    },
    responses: {
      200: json(
        z.looseObject({ run_id: z.string(), status, output: z.unknown() }),
        "with ?wait=true: the run succeeded",
      ),
      202: json(accepted, "queued"),
      ...errors,
      ...notFound,
    },
  },
];

type JsonSchema = Record<string, unknown>;

/**
 * Converts zod schemas to JSON Schema 2020-12 and hoists each one's `$defs` (recursive parts) into
 * components.schemas, rewriting the references, so every `$ref` resolves inside the document.
 */
class SchemaSet {
  readonly components: Record<string, JsonSchema> = {};
  private n = 0;

  convert(schema: z.ZodType): JsonSchema {
    const out = z.toJSONSchema(schema, {
      target: "draft-2020-12",
      io: "input",
      unrepresentable: "any",
      cycles: "ref",
      reused: "inline",
    }) as JsonSchema;
    delete out.$schema;
    const defs = (out.$defs ?? {}) as Record<string, JsonSchema>;
    delete out.$defs;
    const prefix = `s${this.n++}_`;
    const rename = (node: unknown): unknown => {
      if (Array.isArray(node)) return node.map(rename);
      if (node === null || typeof node !== "object") return node;
      const copy: JsonSchema = {};
      for (const [k, v] of Object.entries(node))
        copy[k] =
          k === "$ref" && typeof v === "string" ? v.replace("#/$defs/", `#/components/schemas/${prefix}`) : rename(v);
      return copy;
    };
    for (const [name, def] of Object.entries(defs)) this.components[prefix + name] = rename(def) as JsonSchema;
    return rename(out) as JsonSchema;
  }

  parameters(where: "path" | "query", schema: z.ZodObject | undefined): JsonSchema[] {
    if (!schema) return [];
    const s = this.convert(schema) as { properties?: Record<string, JsonSchema>; required?: string[] };
    return Object.entries(s.properties ?? {}).map(([name, p]) => ({
      name,
      in: where,
      required: where === "path" || (s.required ?? []).includes(name),
      schema: p,
    }));
  }
}

const content = (set: SchemaSet, schema: z.ZodType) => ({ "application/json": { schema: set.convert(schema) } });

/** The document, built once per app. */
export function openApiDocument(version: string): Record<string, unknown> {
  const set = new SchemaSet();
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const op: Record<string, unknown> = {
      summary: r.summary,
      ...(r.description ? { description: r.description } : {}),
    };
    const parameters = [...set.parameters("path", r.request?.params), ...set.parameters("query", r.request?.query)];
    if (parameters.length) op.parameters = parameters;
    const b = r.request?.body;
    if (b)
      op.requestBody = {
        required: b.required,
        ...(b.description ? { description: b.description } : {}),
        content: content(set, b.schema),
      };
    op.responses = Object.fromEntries(
      Object.entries(r.responses).map(([code, a]) => [
        code,
        { description: a.description, ...(a.schema ? { content: content(set, a.schema) } : {}) },
      ]),
    );
    (paths[r.path] ??= {})[r.method] = op;
  }
  return {
    openapi: "3.1.0",
    info: { title: "mend", version, description: "Chat-ops error-handler hub: flows, runs, alert handlers, silences." },
    security: [{ bearer: [] }],
    paths,
    components: {
      schemas: set.components,
      securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "MEND_API_TOKEN" } },
    },
  };
}
