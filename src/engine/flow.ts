// The flow format of SPEC section 2, one zod schema for files and the API.
import { z } from "zod";
import { ERROR_TYPES } from "./errors";
import { parsePath, templatePaths } from "./template";

const errorType = z.enum(ERROR_TYPES);
const headerName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, "must be an HTTP header name");
const positiveMs = z.number().int().min(0).max(7 * 24 * 3600 * 1000);

export const retryPatchSchema = z.strictObject({
  max_attempts: z.number().int().min(1).max(100).optional(),
  backoff: z.enum(["constant", "exponential"]).optional(),
  delay_ms: positiveMs.optional(),
  multiplier: z.number().min(1).max(100).optional(),
  max_delay_ms: positiveMs.optional(),
  jitter: z.boolean().optional(),
  retry_on: z.array(errorType).optional(),
  non_retryable: z.array(errorType).optional(),
});

export const errorObjectSchema = z.strictObject({
  status: z.number().int().min(400).max(599).optional(),
  message: z.string().optional(),
  headers: z.record(headerName, z.string()).optional(),
  body: z.record(z.string(), z.unknown()).optional(),
});
export type ErrorObject = z.infer<typeof errorObjectSchema>;

const httpSchema = z.strictObject({
  method: z
    .string()
    .transform((m) => m.toUpperCase())
    .pipe(z.enum(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])),
  url: z.string().min(1).refine((u) => u.includes("{{") || URL.canParse(u), "must be an absolute URL"),
  headers: z.record(headerName, z.string()).optional(),
  query: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  body: z.unknown().optional(),
  expect_status: z.array(z.number().int().min(100).max(599)).min(1).optional(),
  timeout_ms: z.number().int().min(1).max(600_000).optional(),
});

const STEP_KINDS = ["http", "script", "compute", "sleep", "fail"] as const;
export type StepKind = (typeof STEP_KINDS)[number];

const stepId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "must match [A-Za-z0-9_-]{1,64}");

export const stepSchema = z
  .strictObject({
    id: stepId,
    retry: retryPatchSchema.optional(),
    timeout_ms: z.number().int().min(1).max(600_000).optional(),
    error: errorObjectSchema.optional(),
    continue_on_error: z.boolean().optional(),
    async: z.boolean().optional(),
    http: httpSchema.optional(),
    script: z.strictObject({ name: z.string().min(1), args: z.unknown().optional() }).optional(),
    compute: z.unknown().optional(),
    sleep: z.strictObject({ ms: positiveMs }).optional(),
    fail: z.strictObject({ message: z.string().default("failed"), type: errorType.default("runtime") }).optional(),
  })
  .superRefine((step, ctx) => {
    const kinds = STEP_KINDS.filter((k) => Object.hasOwn(step, k) && step[k] !== undefined);
    if (kinds.length !== 1) {
      ctx.addIssue({
        code: "custom",
        message: kinds.length === 0 ? `needs one of ${STEP_KINDS.join(", ")}` : `has more than one kind: ${kinds.join(", ")}`,
      });
    }
  });
export type Step = z.infer<typeof stepSchema>;

export function stepKind(step: Step): StepKind {
  return STEP_KINDS.find((k) => step[k] !== undefined)!;
}

export const defaultsSchema = z.strictObject({
  retry: retryPatchSchema.optional(),
  timeout_ms: z.number().int().min(1).max(600_000).optional(),
  error: errorObjectSchema.optional(),
});
export type Defaults = z.infer<typeof defaultsSchema>;

export const FLOW_NAME = /^[a-z0-9_-]{1,64}$/;

export const flowSchema = z
  .strictObject({
    name: z.string().regex(FLOW_NAME, "must match [a-z0-9_-]{1,64}"),
    description: z.string().max(2000).optional(),
    input: z.record(z.string(), z.unknown()).optional(),
    retry: retryPatchSchema.optional(),
    timeout_ms: z.number().int().min(1).max(600_000).optional(),
    error: errorObjectSchema.optional(),
    steps: z.array(stepSchema).min(1),
    on_failure: z.array(stepSchema).optional(),
    alerts: z.array(z.string().min(1)).optional(),
    webhook: z.union([z.strictObject({ public: z.literal(true) }), z.strictObject({ secret: z.string().min(8) })]).optional(),
  })
  .superRefine((flow, ctx) => {
    const seen = new Map<string, string>();
    const all: [string, Step[]][] = [["steps", flow.steps], ["on_failure", flow.on_failure ?? []]];
    for (const [list, steps] of all) {
      steps.forEach((step, i) => {
        const where = seen.get(step.id);
        if (where) ctx.addIssue({ code: "custom", path: [list, i, "id"], message: `duplicate step id '${step.id}' (also ${where})` });
        else seen.set(step.id, `${list}.${i}`);
      });
    }
    for (const [list, steps] of all) {
      steps.forEach((step, i) => {
        for (const path of templatePaths(step)) {
          try {
            const parts = parsePath(path);
            if (parts[0] === "steps" && parts[1] !== undefined && !seen.has(parts[1])) {
              ctx.addIssue({ code: "custom", path: [list, i], message: `template '${path}' names unknown step '${parts[1]}'` });
            }
          } catch (err) {
            ctx.addIssue({ code: "custom", path: [list, i], message: (err as Error).message });
          }
        }
      });
    }
  });
export type Flow = z.infer<typeof flowSchema>;

export interface Issue {
  path: string;
  message: string;
}

/** A key that a dotted path cannot show as it is ("" or "a.b") is written quoted. */
function segment(key: PropertyKey): string {
  const s = String(key);
  return s === "" || s.includes(".") ? JSON.stringify(s) : s;
}

export function zodIssues(error: z.ZodError): Issue[] {
  return error.issues.map((i) => ({ path: i.path.map(segment).join("."), message: i.message }));
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; issues: Issue[] };

export function parseFlow(raw: unknown): Parsed<Flow> {
  const r = flowSchema.safeParse(raw);
  return r.success ? { ok: true, value: r.data } : { ok: false, issues: zodIssues(r.error) };
}

export function parseDefaults(raw: unknown): Parsed<Defaults> {
  const r = defaultsSchema.safeParse(raw);
  return r.success ? { ok: true, value: r.data } : { ok: false, issues: zodIssues(r.error) };
}
