// One attempt of one step. Returns the step's result or throws a StepError
// (carrying the attempt's last result, e.g. an HTTP response, in extra.result).
import { EngineError, StepError } from "./errors";
import type { Step } from "./flow";
import type { HttpAnswer, HttpSend, RunRecord, ScriptContext, ScriptRegistry } from "./ports";
import { jsonLargerThan, MAX_DEPTH, MAX_TEMPLATE_OUTPUT, nestsDeeperThan } from "./size";
import { render, renderText, type TemplateScope } from "./template";

export interface AttemptEnv {
  http: HttpSend;
  scripts: ScriptRegistry;
  signal: AbortSignal;
  scope: TemplateScope;
  scriptContext: Omit<ScriptContext, "signal">;
  idempotencyKey: string;
  now: () => number;
  /** Runs a child flow to its end (`flow:` steps). */
  runChild?: (flow: string, input: unknown, signal: AbortSignal) => Promise<RunRecord>;
}

const DETAIL_BODY_LIMIT = 2000;
/** Request headers whose values never go into the ledger (the redactor only knows MEND_SECRET_* values). */
const SENSITIVE_HEADER = /authorization|cookie|token|secret|signature|password|api[-_]?key|^x-.*key$/i;

const cut = (text: string) =>
  text.length > DETAIL_BODY_LIMIT ? `${text.slice(0, DETAIL_BODY_LIMIT)}…truncated…` : text;

export async function runAttempt(step: Step, env: AttemptEnv): Promise<unknown> {
  if (step.compute !== undefined) return bounded(render(step.compute, env.scope), "compute");
  if (step.fail) throw new StepError(renderText(step.fail.message, env.scope), step.fail.type);
  if (step.sleep) return null;
  if (step.http) return runHttp(step.http, env);
  if (step.script) return runScript(step.script, env);
  if (step.flow) return runChildFlow(step.flow, env);
  throw new StepError(`step '${step.id}' has no kind`, "validation");
}

async function runScript(script: NonNullable<Step["script"]>, env: AttemptEnv): Promise<unknown> {
  const fn = env.scripts.get(script.name);
  if (!fn) throw new StepError(`unknown script '${script.name}'`, "runtime");
  const args = script.args === undefined ? {} : bounded(render(script.args, env.scope), "script args");
  const aborted = new Promise<never>((_, reject) => {
    const onAbort = () => reject(coerceAbort(env.signal));
    if (env.signal.aborted) onAbort();
    else env.signal.addEventListener("abort", onAbort, { once: true });
  });
  const result = await Promise.race([
    Promise.resolve().then(() => fn(args, { ...env.scriptContext, signal: env.signal })),
    aborted,
  ]);
  return storable(result);
}

/** A script's result is stored as JSON: one that cannot be (a cycle, a BigInt) fails the step, not the commit. */
function storable(result: unknown): unknown {
  try {
    JSON.stringify(result);
  } catch (err) {
    throw new StepError(
      `the script's result cannot be stored as JSON: ${(err as Error).message.split("\n")[0]}`,
      "validation",
    );
  }
  if (nestsDeeperThan(result, MAX_DEPTH))
    throw new StepError(`the script's result nests deeper than ${MAX_DEPTH} levels`, "validation");
  return bounded(result, "script result");
}

/** A child run's output, or its failure (after its own on_failure) as this step's error. */
async function runChildFlow(spec: NonNullable<Step["flow"]>, env: AttemptEnv): Promise<unknown> {
  if (!env.runChild) throw new StepError("child flows cannot run here", "validation");
  const input = spec.input === undefined ? {} : render(spec.input, env.scope);
  let child: RunRecord;
  try {
    child = await env.runChild(spec.name, input, env.signal);
  } catch (err) {
    if (err instanceof EngineError)
      throw new StepError(`flow '${spec.name}': ${err.message}`, "validation", {
        details: { issues: err.issues ?? [] },
      });
    throw err;
  }
  if (child.status === "succeeded" || child.status === "recovered") return child.output;
  const e = child.error ?? { message: `run ${child.status}`, type: "cancelled" as const };
  const result = { run_id: child.id, status: child.status, error: e };
  throw new StepError(`flow '${spec.name}' (run ${child.id}) ${child.status}: ${e.message}`, e.type, {
    status: e.status ?? undefined,
    details: { ...e.details, run_id: child.id, step: e.step },
    result,
  });
}

export function coerceAbort(signal: AbortSignal): StepError {
  const reason: unknown = signal.reason;
  return reason instanceof StepError ? reason : new StepError("aborted", "cancelled");
}

async function runHttp(http: NonNullable<Step["http"]>, env: AttemptEnv): Promise<unknown> {
  const rawUrl = String(render(http.url, env.scope));
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    throw new StepError(`invalid URL after templates: ${rawUrl}`, "validation");
  }
  for (const [k, v] of Object.entries(http.query ?? {}))
    url.searchParams.append(k, typeof v === "string" ? renderText(v, env.scope) : String(v));
  const headers = new Headers();
  for (const [k, v] of Object.entries(http.headers ?? {})) headers.set(k, renderText(v, env.scope));
  if (!headers.has("idempotency-key")) headers.set("Idempotency-Key", env.idempotencyKey);
  let body: string | undefined;
  if (http.body !== undefined && http.method !== "GET" && http.method !== "HEAD") {
    const rendered = bounded(render(http.body, env.scope), "http body");
    if (typeof rendered === "string") body = rendered;
    else {
      body = JSON.stringify(rendered);
      if (!headers.has("content-type")) headers.set("Content-Type", "application/json");
    }
  }
  const label = `${http.method} ${url.origin}${url.pathname}`;
  // What was sent, for the run page (with the response, in an http_status error's details; SPEC §12 keeps
  // a timeout's or network error's details empty): credential headers masked here, secrets by the redactor.
  const request = () => ({
    method: http.method,
    url: url.href,
    headers: Object.fromEntries([...headers].map(([k, v]) => [k, SENSITIVE_HEADER.test(k) ? "[redacted]" : v])),
    ...(body !== undefined ? { body: cut(body) } : {}),
  });
  let res: HttpAnswer;
  try {
    res = await env.http(url, { method: http.method, headers, body, signal: env.signal });
  } catch (err) {
    if (env.signal.aborted) throw coerceAbort(env.signal);
    // The step's fetch refuses URLs (policy) and oversized bodies with StepErrors of their own.
    if (err instanceof StepError) throw err;
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new StepError(`${label} failed: ${cause?.code ?? cause?.message ?? (err as Error).message}`, "network");
  }
  let text: string;
  try {
    text = await res.text();
  } catch (err) {
    if (env.signal.aborted) throw coerceAbort(env.signal);
    if (err instanceof StepError) throw err;
    throw new StepError(`${label} failed while reading the body: ${(err as Error).message}`, "network");
  }
  const resHeaders = res.headers;
  const result = { status: res.status, headers: resHeaders, body: parseBody(text, resHeaders["content-type"] ?? null) };
  const expected = http.expect_status ? http.expect_status.includes(res.status) : res.status >= 200 && res.status < 300;
  if (expected) return result;
  const type = res.status === 401 || res.status === 403 ? "permission_denied" : "http_status";
  throw new StepError(`${label} returned ${res.status}`, type, {
    status: res.status,
    details: { body: cut(text), headers: resHeaders, request: request() },
    retryAfterMs:
      res.status === 429 || res.status === 503 ? retryAfterMs(resHeaders["retry-after"] ?? null, env.now()) : undefined,
    result,
  });
}

function parseBody(text: string, contentType: string | null): unknown {
  if (contentType && /[/+]json\b/i.test(contentType) && text.length > 0) {
    try {
      const value: unknown = JSON.parse(text);
      // Thousands of levels would overflow the stack in redaction and templates: keep such a body as text.
      return nestsDeeperThan(value, MAX_DEPTH) ? text : value;
    } catch {
      return text;
    }
  }
  return text;
}

/** A template's output, refused past MAX_TEMPLATE_OUTPUT (a value doubling itself step after step). */
function bounded<T>(value: T, what: string): T {
  if (jsonLargerThan(value, MAX_TEMPLATE_OUTPUT))
    throw new StepError(`${what} template output is larger than ${MAX_TEMPLATE_OUTPUT} bytes`, "template");
  return value;
}

export function retryAfterMs(header: string | null, now: number): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
