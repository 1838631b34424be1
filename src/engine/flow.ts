// The flow format of SPEC section 2, one zod schema for files and the API.
import { z } from "zod";
import { ERROR_TYPES } from "./errors";
import { checkDefaultsError, checkReferences } from "./flow-check";
import { checkSchema } from "./input";

const errorType = z.enum(ERROR_TYPES);
const headerName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, "must be an HTTP header name");
const positiveMs = z
  .number()
  .int()
  .min(0)
  .max(7 * 24 * 3600 * 1000);

const retryFields = z.strictObject({
  max_attempts: z.number().int().min(1).max(100).optional(),
  // Mashin's and Semaphore's spelling: retries after the first try.
  max_retries: z.number().int().min(0).max(99).optional(),
  backoff: z.enum(["constant", "exponential"]).optional(),
  delay_ms: positiveMs.optional(),
  multiplier: z.number().min(1).max(100).optional(),
  max_delay_ms: positiveMs.optional(),
  jitter: z.boolean().optional(),
  retry_on: z.array(errorType).optional(),
  non_retryable: z.array(errorType).optional(),
});

export const retryPatchSchema = retryFields
  .superRefine((r, ctx) => {
    if (r.max_retries !== undefined && r.max_attempts !== undefined) {
      ctx.addIssue({ code: "custom", path: ["max_retries"], message: "use max_attempts or max_retries, not both" });
    }
  })
  .transform(({ max_retries, ...r }) => (max_retries === undefined ? r : { ...r, max_attempts: max_retries + 1 }));
export type RetryPatch = z.output<typeof retryPatchSchema>;

const WHOLE_TEMPLATE = /^\{\{[^{}]*\}\}$/;

export const errorObjectSchema = z
  .strictObject({
    status: z
      .union([z.number().int().min(400).max(599), z.string().trim().regex(WHOLE_TEMPLATE)], {
        error: 'must be an integer 400-599 or one template such as "{{ error:status }}"',
      })
      .optional(),
    message: z.string().optional(),
    headers: z.record(headerName, z.string()).optional(),
    body: z.record(z.string(), z.unknown()).optional(),
    params: z.record(z.string(), z.unknown()).optional(),
    schema: z.record(z.string(), z.unknown()).optional(),
  })
  .superRefine((o, ctx) => {
    const problem = o.schema ? checkSchema(o.schema) : undefined;
    if (problem) ctx.addIssue({ code: "custom", path: ["schema"], message: `does not compile: ${problem}` });
  });
export type ErrorObject = z.output<typeof errorObjectSchema>;

const httpSchema = z.strictObject({
  method: z
    .string()
    .transform((m) => m.toUpperCase())
    .pipe(z.enum(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])),
  url: z
    .string()
    .min(1)
    .refine((u) => u.includes("{{") || URL.canParse(u), "must be an absolute URL"),
  headers: z.record(headerName, z.string()).optional(),
  query: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  body: z.unknown().optional(),
  expect_status: z.array(z.number().int().min(100).max(599)).min(1).optional(),
  timeout_ms: z.number().int().min(1).max(600_000).optional(),
});

const STEP_KINDS = ["http", "script", "compute", "sleep", "fail", "parallel", "for_each", "flow"] as const;
export type StepKind = (typeof STEP_KINDS)[number];

const stepId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "must match [A-Za-z0-9_-]{1,64}");

/** `when`: a template (falsy skips the step) or a comparison, for branching without code. */
const whenSchema = z.union([
  z.string(),
  z.boolean(),
  z.strictObject({ equals: z.tuple([z.unknown(), z.unknown()]) }),
  z.strictObject({ not_equals: z.tuple([z.unknown(), z.unknown()]) }),
]);
export type When = z.output<typeof whenSchema>;

export interface Step {
  id: string;
  retry?: RetryPatch;
  timeout_ms?: number;
  error?: ErrorObject;
  continue_on_error?: boolean;
  async?: boolean;
  when?: When;
  notify?: boolean;
  http?: z.output<typeof httpSchema>;
  script?: { name: string; args?: unknown };
  compute?: unknown;
  sleep?: { ms: number };
  fail?: { message: string; type: z.output<typeof errorType> };
  parallel?: { branches: Record<string, Step[]>; mode: "all" | "fail_fast" };
  for_each?: { items: unknown; steps: Step[]; concurrency: number };
  flow?: { name: string; input?: unknown };
}

const stepList: z.ZodType<Step[], unknown> = z.lazy(() => z.array(stepSchema).min(1));

export const stepSchema: z.ZodType<Step, unknown> = z
  .strictObject({
    id: stepId,
    retry: retryPatchSchema.optional(),
    timeout_ms: z.number().int().min(1).max(600_000).optional(),
    error: errorObjectSchema.optional(),
    on_error: errorObjectSchema.optional(),
    continue_on_error: z.boolean().optional(),
    async: z.boolean().optional(),
    when: whenSchema.optional(),
    notify: z.boolean().optional(),
    http: httpSchema.optional(),
    script: z.strictObject({ name: z.string().min(1), args: z.unknown().optional() }).optional(),
    compute: z.unknown().optional(),
    sleep: z.strictObject({ ms: positiveMs }).optional(),
    fail: z.strictObject({ message: z.string().default("failed"), type: errorType.default("runtime") }).optional(),
    parallel: z
      .strictObject({
        branches: z.record(stepId, stepList).refine((b) => Object.keys(b).length > 0, "needs at least one branch"),
        mode: z.enum(["all", "fail_fast"]).default("all"),
      })
      .optional(),
    for_each: z
      .strictObject({
        items: z.union([z.string(), z.array(z.unknown()).max(10_000)]),
        steps: stepList,
        concurrency: z.number().int().min(1).max(50).default(1),
      })
      .optional(),
    flow: z
      .strictObject({
        name: z.string().regex(/^[a-z0-9_-]{1,64}$/, "must match [a-z0-9_-]{1,64}"),
        input: z.unknown().optional(),
      })
      .optional(),
  })
  .superRefine((step, ctx) => {
    const kinds = STEP_KINDS.filter((k) => Object.hasOwn(step, k) && step[k] !== undefined);
    if (kinds.length !== 1) {
      ctx.addIssue({
        code: "custom",
        message:
          kinds.length === 0 ? `needs one of ${STEP_KINDS.join(", ")}` : `has more than one kind: ${kinds.join(", ")}`,
      });
    }
    onErrorClash(step, ctx);
  })
  .transform(moveOnError);

/** Semaphore's `on_error` is a synonym of `error`. */
function onErrorClash(o: { error?: unknown; on_error?: unknown }, ctx: z.RefinementCtx): void {
  if (o.error !== undefined && o.on_error !== undefined)
    ctx.addIssue({ code: "custom", path: ["on_error"], message: "use error or on_error, not both" });
}

function moveOnError<T extends { error?: ErrorObject; on_error?: ErrorObject }>({
  on_error,
  ...rest
}: T): Omit<T, "on_error"> {
  return on_error === undefined ? rest : { ...rest, error: on_error };
}

export function stepKind(step: Step): StepKind {
  return STEP_KINDS.find((k) => step[k] !== undefined)!;
}

/** Steps that hold other steps: they have no attempts of their own, their inner steps do. */
export function isBlock(step: Step): boolean {
  return step.parallel !== undefined || step.for_each !== undefined;
}

const timeoutMs = z.number().int().min(1).max(600_000);

export const defaultsSchema = z
  .strictObject({
    retry: retryPatchSchema.optional(),
    timeout_ms: timeoutMs.optional(),
    error: errorObjectSchema.optional(),
    on_error: errorObjectSchema.optional(),
  })
  .superRefine((d, ctx) => {
    onErrorClash(d, ctx);
    const key = d.error ? "error" : "on_error";
    for (const issue of checkDefaultsError(d.error ?? d.on_error, key)) ctx.addIssue({ code: "custom", ...issue });
  })
  .transform(moveOnError);
export type Defaults = z.output<typeof defaultsSchema>;

export const FLOW_NAME = /^[a-z0-9_-]{1,64}$/;

export const flowSchema = z
  .strictObject({
    name: z.string().regex(FLOW_NAME, "must match [a-z0-9_-]{1,64}"),
    description: z.string().max(2000).optional(),
    input: z.record(z.string(), z.unknown()).optional(),
    retry: retryPatchSchema.optional(),
    timeout_ms: timeoutMs.optional(),
    error: errorObjectSchema.optional(),
    on_error: errorObjectSchema.optional(),
    steps: stepList,
    on_failure: z.array(stepSchema).optional(),
    on_failure_outcome: z.enum(["failed", "recovered"]).optional(),
    alerts: z.array(z.string().min(1)).optional(),
    webhook: z
      .union([
        z.strictObject({ public: z.literal(true) }),
        z.strictObject({ secret: z.string().min(8), require_timestamp: z.boolean().optional() }),
      ])
      .optional(),
  })
  .superRefine((flow, ctx) => {
    onErrorClash(flow, ctx);
    for (const issue of checkReferences(flow))
      ctx.addIssue({ code: "custom", path: issue.path, message: issue.message });
  })
  .transform(moveOnError);
export type Flow = z.output<typeof flowSchema>;

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
