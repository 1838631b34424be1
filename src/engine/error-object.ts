// Error objects (SPEC sections 4 and 12): defaults → flow → failed step, field by field.
// Everything in them is templated leniently: a missing path is null, an error object never fails.
import type { ErrorContext } from "./errors";
import type { Defaults, ErrorObject, Flow, Step } from "./flow";
import type { AttemptRecord } from "./ports";
import { validateInput } from "./input";
import { render, renderString, renderText, type TemplateScope } from "./template";

/** The steps on the way to a (possibly nested) step path: `fan[2].call`, `par.a.call`. */
export function stepChain(flow: Flow, path: string | undefined): Step[] {
  if (!path) return [];
  const tokens = path.replace(/\[\d+\]/g, "").split(".");
  const chain: Step[] = [];
  let list: Step[] | undefined = [...flow.steps, ...(flow.on_failure ?? [])];
  for (let i = 0; i < tokens.length && list; i++) {
    const step: Step | undefined = list.find((s) => s.id === tokens[i]);
    if (!step) break;
    chain.push(step);
    if (step.for_each) list = step.for_each.steps;
    else if (step.parallel) list = step.parallel.branches[tokens[++i] ?? ""];
    else list = undefined;
  }
  return chain;
}

export function layerErrorObject(defaults: Defaults, flow: Flow, stepPath: string | undefined): ErrorObject {
  const layers = [defaults.error, flow.error, ...stepChain(flow, stepPath).map((s) => s.error)];
  const out: ErrorObject = {};
  for (const layer of layers) {
    if (!layer) continue;
    for (const key of ["status", "message", "body", "params", "schema"] as const) {
      if (layer[key] !== undefined) (out as Record<string, unknown>)[key] = layer[key];
    }
    if (layer.headers) out.headers = { ...out.headers, ...layer.headers };
  }
  return out;
}

/**
 * Adds what the error object says about a failure as it happens: `params` (filled, for
 * handlers and alerts) and the error body decoded by `schema`.
 */
export function decorateError(obj: ErrorObject, error: ErrorContext, scope: TemplateScope): ErrorContext {
  let out = error;
  const body = error.details?.body;
  if (obj.schema && typeof body === "string") {
    const details = { ...error.details };
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
      const issues = validateInput(obj.schema, parsed, "body");
      if (issues.length === 0) details.body = parsed;
      else details.schema_error = issues.map((i) => `${i.path}: ${i.message}`).join("; ");
    } catch {
      details.schema_error = "the error body is not JSON";
    }
    out = { ...out, details };
  }
  if (obj.params)
    out = { ...out, params: render(obj.params, { ...scope, error: out }, "null") as Record<string, unknown> };
  return out;
}

/** Each step's latest succeeded result, from the ledger (the `steps` an error object sees). */
export function latestResults(attempts: AttemptRecord[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const a of attempts) if (a.status === "succeeded") out[a.step] = a.output;
  return out;
}

/** A whole template must give an integer 400–599; anything else answers 500. */
function toStatus(value: unknown): number {
  const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  return typeof n === "number" && Number.isInteger(n) && n >= 400 && n <= 599 ? n : 500;
}

export interface ErrorAnswer {
  status: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HEADER_VALUE = /^[\t\x20-\x7e]*$/;

/** Builds the HTTP answer for a failed run. Roots: input, steps, failed, error, run. */
export function errorAnswer(
  obj: ErrorObject,
  error: ErrorContext,
  scope: TemplateScope,
  base: Record<string, unknown>,
): ErrorAnswer {
  const s: TemplateScope = {
    input: scope.input,
    steps: scope.steps ?? {},
    failed: scope.failed ?? null,
    run: scope.run,
    error,
  };
  const status = typeof obj.status === "string" ? toStatus(renderString(obj.status, s, "null")) : (obj.status ?? 500);
  const message = obj.message !== undefined ? renderText(obj.message, s, "null") : error.message;
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj.headers ?? {})) {
    // Values come from input: CR/LF would split the header, non-ASCII makes Headers throw.
    if (!HEADER_NAME.test(k)) continue;
    const value = renderText(v, s, "null");
    headers[k] = HEADER_VALUE.test(value) ? value : encodeURIComponent(value);
  }
  const extra = obj.body ? (render(obj.body, s, "null") as Record<string, unknown>) : {};
  // The body's fields join the top level; run_id, status and error keep their meaning.
  return { status, headers, body: { ...extra, ...base, error: { ...error, message } } };
}
