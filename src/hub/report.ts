// What POST /api/failures accepts: mend's own report, or — unchanged — what a Windmill workspace
// error handler or an n8n Error Trigger workflow sends. Every shape becomes one FailureReport.
import { z } from "zod";
import { ERROR_TYPES, type ErrorType } from "../engine/errors";
import { zodIssues, type Issue } from "../engine/flow";

export type ReportFormat = "mend" | "windmill" | "n8n";

export interface FailureReport {
  format: ReportFormat;
  status: "failed" | "succeeded";
  source: string;
  job: string;
  step?: string;
  error?: { message: string; type: ErrorType; details?: Record<string, unknown> };
  input?: unknown;
  link?: string;
  retry_url?: string;
  replay_url?: string;
}

export type Normalized = { ok: true; report: FailureReport } | { ok: false; issues: Issue[]; format: ReportFormat };

const MAX_MESSAGE = 10_000;
const httpUrl = z.url({ protocol: /^https?$/, error: "must be an http or https URL" });
const required = (what: string) => ({
  error: (iss: { input: unknown }) => (iss.input === undefined ? `required: ${what}` : undefined),
});
export const sourceSchema = z
  .string(required("the reporting system's name, e.g. \"ci\" (the run's flow is external:<source>)"))
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/,
    "must be 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit",
  );

const nativeError = z.preprocess(
  (v) => (typeof v === "string" ? { message: v } : v),
  z.strictObject(
    {
      message: z.string().min(1, "must not be empty").max(MAX_MESSAGE),
      type: z.enum(ERROR_TYPES).default("runtime"),
      details: z.record(z.string(), z.unknown()).optional(),
    },
    { error: (iss) => (iss.input === undefined ? "required: { message, type? } describing the failure" : undefined) },
  ),
);

const nativeFields = {
  source: sourceSchema,
  job: z
    .string(required("the failed job's name (a later success report with the same source and job resolves it)"))
    .min(1)
    .max(200),
  step: z.string().min(1).max(200).optional(),
  input: z.unknown().optional(),
  link: httpUrl.optional(),
  retry_url: httpUrl.optional(),
  replay_url: httpUrl.optional(),
};
export const failureSchema = z.strictObject({
  ...nativeFields,
  error: nativeError,
  status: z.literal("failed").default("failed"),
});
// A success report needs no error: it closes the open failures of source + job.
const successSchema = z.strictObject({
  ...nativeFields,
  error: nativeError.optional(),
  status: z.literal("succeeded"),
});
const statusSchema = z.enum(["failed", "succeeded"]).optional();

// Windmill: the arguments of a workspace (or instance) error handler script —
// path, email, error, job_id, is_flow, workspace_id, plus started_at / schedule_path / extra args.
const windmillSchema = z.looseObject({
  workspace_id: z.string().min(1),
  job_id: z.string().min(1),
  path: z.string().optional(),
  is_flow: z.boolean().optional(),
  email: z.string().optional(),
  started_at: z.string().optional(),
  schedule_path: z.string().nullish(),
  trigger_path: z.string().nullish(),
  error: z.unknown().optional(),
  // Optional extra args the user may add to the handler in Windmill.
  source: sourceSchema.nullish(),
  link: httpUrl.nullish(),
  retry_url: httpUrl.nullish(),
  replay_url: httpUrl.nullish(),
});

// n8n: an Error Trigger item — { execution: { id, url, retryOf, error: { message, stack }, lastNodeExecuted, mode }, workflow: { id, name } },
// or for trigger errors { trigger: { error, mode }, workflow }; sent as the item or as an array of items.
const id = z.union([z.string(), z.number()]);
const n8nError = z.looseObject({
  message: z.string().optional(),
  name: z.string().optional(),
  description: z.string().nullish(),
  node: z.looseObject({ name: z.string().optional() }).optional(),
});
const n8nSchema = z.looseObject({
  workflow: z.looseObject({ id: id.optional(), name: z.string().optional() }),
  execution: z
    .looseObject({
      id: id.optional(),
      url: z.string().optional(),
      retryOf: id.nullish(),
      error: n8nError.optional(),
      lastNodeExecuted: z.string().nullish(),
      mode: z.string().optional(),
    })
    .optional(),
  trigger: z.looseObject({ error: n8nError.optional(), mode: z.string().optional() }).optional(),
  retry_url: httpUrl.nullish(),
  replay_url: httpUrl.nullish(),
});

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Which tool sent this body. */
export function detectFormat(raw: unknown): ReportFormat {
  const item = Array.isArray(raw) ? raw[0] : raw;
  if (!isObject(item) || (!Array.isArray(raw) && "source" in item && "job" in item)) return "mend";
  if (isObject(item.workflow) && (isObject(item.execution) || isObject(item.trigger))) return "n8n";
  if ("workspace_id" in item && "job_id" in item) return "windmill";
  return "mend";
}

const clip = (s: string) => (s.length > MAX_MESSAGE ? s.slice(0, MAX_MESSAGE) + "…" : s);
const validUrl = (u: unknown) => (typeof u === "string" && /^https?:\/\//i.test(u) && URL.canParse(u) ? u : undefined);
const compact = <T extends Record<string, unknown>>(o: T): T =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null)) as T;

function fromWindmill(w: z.infer<typeof windmillSchema>, raw: unknown): FailureReport {
  const e = w.error;
  const eo = isObject(e) ? e : undefined;
  const kind = w.is_flow ? "flow" : "script";
  const message =
    typeof e === "string" && e
      ? e
      : typeof eo?.message === "string" && eo.message
        ? eo.message
        : `Windmill ${kind} ${w.path || w.job_id} failed (job ${w.job_id})`;
  const stepId = typeof eo?.step_id === "string" && eo.step_id ? eo.step_id : undefined;
  return compact({
    format: "windmill" as const,
    status: "failed" as const,
    source: w.source ?? "windmill",
    job: (w.path || w.job_id).slice(0, 200),
    step: stepId,
    error: {
      message: clip(message),
      type: "runtime" as const,
      details: compact({
        name: typeof eo?.name === "string" ? eo.name : undefined,
        job_id: w.job_id,
        workspace_id: w.workspace_id,
        is_flow: w.is_flow,
        email: w.email,
        started_at: w.started_at,
        schedule_path: w.schedule_path,
        trigger_path: w.trigger_path,
      }),
    },
    input: raw,
    link: w.link ?? undefined,
    retry_url: w.retry_url ?? undefined,
    replay_url: w.replay_url ?? undefined,
  });
}

function fromN8n(n: z.infer<typeof n8nSchema>, raw: unknown): FailureReport {
  const err = n.execution?.error ?? n.trigger?.error;
  const name = n.workflow.name || (n.workflow.id !== undefined ? `workflow ${n.workflow.id}` : "workflow");
  const step = n.execution?.lastNodeExecuted || err?.node?.name || (n.trigger ? "trigger" : undefined);
  const message =
    err?.message || `n8n ${name} failed${n.execution?.id !== undefined ? ` (execution ${n.execution.id})` : ""}`;
  return compact({
    format: "n8n" as const,
    status: "failed" as const,
    source: "n8n",
    job: name.slice(0, 200),
    step: step?.slice(0, 200),
    error: {
      message: clip(message),
      type: "runtime" as const,
      details: compact({
        name: err?.name,
        description: err?.description ?? undefined,
        workflow_id: n.workflow.id,
        execution_id: n.execution?.id,
        retry_of: n.execution?.retryOf ?? undefined,
        mode: n.execution?.mode ?? n.trigger?.mode,
      }),
    },
    input: raw,
    link: validUrl(n.execution?.url),
    retry_url: n.retry_url ?? undefined,
    replay_url: n.replay_url ?? undefined,
  });
}

/** Validates and maps any accepted shape; issues name the bad fields (dotted paths). */
export function normalizeReport(raw: unknown): Normalized {
  const format = detectFormat(raw);
  if (format === "n8n") {
    const items = Array.isArray(raw) ? raw : [raw];
    const r = n8nSchema.safeParse(items[0]);
    if (!r.success)
      return {
        ok: false,
        format,
        issues: zodIssues(r.error).map((i) => (Array.isArray(raw) ? { ...i, path: i.path ? `0.${i.path}` : "0" } : i)),
      };
    return { ok: true, report: fromN8n(r.data, items[0]) };
  }
  if (format === "windmill") {
    const r = windmillSchema.safeParse(raw);
    if (!r.success) return { ok: false, format, issues: zodIssues(r.error) };
    return { ok: true, report: fromWindmill(r.data, raw) };
  }
  if (!isObject(raw))
    return {
      ok: false,
      format,
      issues: [{ path: "", message: "expected a JSON object { source, job, error: { message, type? }, … }" }],
    };
  const status = statusSchema.safeParse(raw.status);
  if (!status.success)
    return { ok: false, format, issues: zodIssues(status.error).map((i) => ({ ...i, path: "status" })) };
  const r = (status.data === "succeeded" ? successSchema : failureSchema).safeParse(raw);
  if (!r.success) return { ok: false, format, issues: zodIssues(r.error) };
  return { ok: true, report: compact({ format, ...r.data }) as FailureReport };
}
