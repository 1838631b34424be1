// The error object a waiting caller gets: defaults → flow → failed step, field by field.
import type { ErrorContext } from "./errors";
import type { Defaults, ErrorObject, Flow } from "./flow";
import { renderString, type TemplateScope } from "./template";

export function layerErrorObject(defaults: Defaults, flow: Flow, stepId: string | undefined): ErrorObject {
  const step = [...flow.steps, ...(flow.on_failure ?? [])].find((s) => s.id === stepId);
  const layers = [defaults.error, flow.error, step?.error];
  const out: ErrorObject = {};
  for (const layer of layers) {
    if (!layer) continue;
    if (layer.status !== undefined) out.status = layer.status;
    if (layer.message !== undefined) out.message = layer.message;
    if (layer.body !== undefined) out.body = layer.body;
    if (layer.headers) out.headers = { ...out.headers, ...layer.headers };
  }
  return out;
}

export interface ErrorAnswer {
  status: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

/** Builds the HTTP answer for a failed run; templates that cannot be filled keep their raw text. */
export function errorAnswer(obj: ErrorObject, error: ErrorContext, scope: TemplateScope, base: Record<string, unknown>): ErrorAnswer {
  const fill = (text: string): string => {
    try {
      const v = renderString(text, { ...scope, error });
      return typeof v === "string" ? v : JSON.stringify(v);
    } catch {
      return text;
    }
  };
  const message = obj.message !== undefined ? fill(obj.message) : error.message;
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj.headers ?? {})) headers[k] = fill(v);
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj.body ?? {})) extra[k] = typeof v === "string" ? fill(v) : v;
  // The body's fields join the top level; run_id, status and error keep their meaning.
  return { status: obj.status ?? 500, headers, body: { ...extra, ...base, error: { ...error, message } } };
}
