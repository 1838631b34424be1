// {{ path }} templates. Paths only: no expressions, no code. `a:b` reads like `a.b`.
import { TemplateError } from "./errors";

// `item` and `index` exist only inside a for_each's steps (checked when a flow is saved).
export const TEMPLATE_ROOTS = ["input", "steps", "error", "failed", "run", "secrets", "item", "index"] as const;
export type TemplateScope = Partial<Record<(typeof TEMPLATE_ROOTS)[number], unknown>>;

const ANY = /\{\{\s*([^{}]*?)\s*\}\}/g;
const WHOLE = /^\{\{\s*([^{}]*?)\s*\}\}$/;
const SEGMENT = /^[A-Za-z0-9_-]+$/;

export function parsePath(path: string): string[] {
  const normalized = path.replace(/\[(\d+)\]/g, ".$1").replace(/:/g, ".");
  const parts = normalized.split(".");
  if (parts.length === 0 || parts.some((p) => !SEGMENT.test(p))) throw new TemplateError(`bad template path '${path}'`);
  if (!(TEMPLATE_ROOTS as readonly string[]).includes(parts[0]!)) {
    throw new TemplateError(`unknown template root '${parts[0]}' in '${path}' (use ${TEMPLATE_ROOTS.join(", ")})`);
  }
  return parts;
}

/** Missing paths throw a `template` error, or render null in lenient places (error objects, `when`). */
export type Missing = "throw" | "null";

// Paths come from flow definitions, so the same few are looked up on every run: parse each once.
const parsed = new Map<string, string[]>();

function partsOf(path: string): string[] {
  let parts = parsed.get(path);
  if (!parts) {
    parts = parsePath(path);
    if (parsed.size >= 10_000) parsed.clear();
    parsed.set(path, parts);
  }
  return parts;
}

export function lookup(scope: TemplateScope, path: string, missing: Missing = "throw"): unknown {
  const parts = partsOf(path);
  let value: unknown = scope;
  for (const part of parts) {
    if (value === null || typeof value !== "object" || !Object.hasOwn(value, part)) {
      if (missing === "null") return null;
      throw new TemplateError(`template path '${path}' is missing`);
    }
    value = (value as Record<string, unknown>)[part];
  }
  if (value === undefined) {
    if (missing === "null") return null;
    throw new TemplateError(`template path '${path}' is missing`);
  }
  return value;
}

function stringify(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

export function renderString(text: string, scope: TemplateScope, missing: Missing = "throw"): unknown {
  const whole = WHOLE.exec(text);
  if (whole) return lookup(scope, whole[1]!, missing);
  if (!text.includes("{{")) return text;
  return text.replace(ANY, (_, path: string) => stringify(lookup(scope, path, missing)));
}

/** Fills a field that must be text: a value that is not a string is stringified (objects as JSON). */
export function renderText(text: string, scope: TemplateScope, missing: Missing = "throw"): string {
  return stringify(renderString(text, scope, missing));
}

/** Fills a URL template: each value is percent-encoded, so a value cannot change the URL's shape. */
export function renderUrl(text: string, scope: TemplateScope): string {
  return text.replace(ANY, (_, path: string) => encodeURIComponent(stringify(lookup(scope, path))));
}

/** Fills every string inside a JSON value; keys are left as they are. */
export function render(value: unknown, scope: TemplateScope, missing: Missing = "throw"): unknown {
  if (typeof value === "string") return renderString(value, scope, missing);
  if (Array.isArray(value)) return value.map((v) => render(v, scope, missing));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = render(v, scope, missing);
    return out;
  }
  return value;
}

/** Template paths used in a value, for checking flows when they are saved. */
export function templatePaths(value: unknown, out: string[] = []): string[] {
  if (typeof value === "string") for (const m of value.matchAll(ANY)) out.push(m[1]!);
  else if (Array.isArray(value)) value.forEach((v) => templatePaths(v, out));
  else if (value !== null && typeof value === "object") Object.values(value).forEach((v) => templatePaths(v, out));
  return out;
}
