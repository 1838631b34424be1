// Errors become data at one boundary: coerceError turns anything thrown into
// an ErrorContext-shaped StepError. Classes carry a literal `type`.

export const ERROR_TYPES = [
  "timeout",
  "http_status",
  "network",
  "permission_denied",
  "runtime",
  "template",
  "validation",
  "cancelled",
] as const;
export type ErrorType = (typeof ERROR_TYPES)[number];

export function isErrorType(value: unknown): value is ErrorType {
  return typeof value === "string" && (ERROR_TYPES as readonly string[]).includes(value);
}

/** The error context of SPEC section 3, as stored and as seen by templates. */
export interface ErrorContext {
  message: string;
  type: ErrorType;
  step?: string;
  attempts?: number;
  /** The HTTP status of a failed `http` step, else null. */
  status?: number | null;
  /** `{}` when there is nothing to add (a body and headers for HTTP failures). */
  details?: Record<string, unknown>;
  /** The error object's `params`, filled when the run failed. */
  params?: Record<string, unknown>;
}

export class StepError extends Error {
  override readonly name = "StepError";
  constructor(
    message: string,
    readonly type: ErrorType,
    readonly extra: {
      status?: number;
      details?: Record<string, unknown>;
      retryAfterMs?: number;
      result?: unknown;
    } = {},
  ) {
    super(message);
  }
}

export class TemplateError extends StepError {
  constructor(message: string) {
    super(message, "template");
  }
}

export function coerceError(thrown: unknown): StepError {
  if (thrown instanceof StepError) return thrown;
  if (thrown instanceof Error) {
    const t = (thrown as { type?: unknown }).type;
    if (thrown.name === "AbortError" || thrown.name === "TimeoutError") return new StepError(thrown.message, "timeout");
    return new StepError(thrown.message || thrown.name, isErrorType(t) ? t : "runtime");
  }
  if (typeof thrown === "string") return new StepError(thrown, "runtime");
  return new StepError("non-error value thrown: " + safeString(thrown), "runtime");
}

function safeString(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

export function toContext(err: StepError, step: string, attempts: number): ErrorContext {
  return {
    message: err.message,
    type: err.type,
    step,
    attempts,
    status: err.extra.status ?? null,
    details: err.extra.details ?? {},
  };
}

/** A refused request (unknown run, wrong state, bad input): mapped to 4xx at the HTTP edge. */
export class EngineError extends Error {
  override readonly name = "EngineError";
  constructor(
    readonly code: "not_found" | "conflict" | "invalid",
    message: string,
    readonly issues?: { path: string; message: string }[],
  ) {
    super(message);
  }
}
