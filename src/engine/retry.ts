import type { ErrorType } from "./errors";

export interface RetryPolicy {
  max_attempts: number;
  backoff: "constant" | "exponential";
  delay_ms: number;
  multiplier: number;
  max_delay_ms?: number;
  jitter: boolean;
  retry_on?: ErrorType[];
  non_retryable?: ErrorType[];
}

export type RetryPolicyPatch = Partial<RetryPolicy>;

export const DEFAULT_RETRY: RetryPolicy = {
  max_attempts: 1,
  backoff: "constant",
  delay_ms: 0,
  multiplier: 2,
  jitter: false,
};

/** Without max_delay_ms, exponential backoff still stops growing at one day. */
export const MAX_DELAY_MS = 24 * 3600 * 1000;

// Errors that another attempt cannot fix unless a policy lists them in retry_on.
const NEVER_BY_DEFAULT: ErrorType[] = ["template", "validation", "cancelled"];

/** Layers policies field by field: later patches win. */
export function mergePolicy(...layers: (RetryPolicyPatch | undefined)[]): RetryPolicy {
  const out: RetryPolicy = { ...DEFAULT_RETRY };
  for (const layer of layers) {
    if (!layer) continue;
    for (const [k, v] of Object.entries(layer)) if (v !== undefined) (out as unknown as Record<string, unknown>)[k] = v;
  }
  return out;
}

export function isRetryable(policy: RetryPolicy, type: ErrorType): boolean {
  if (policy.non_retryable?.includes(type)) return false;
  if (policy.retry_on) return policy.retry_on.includes(type);
  return !NEVER_BY_DEFAULT.includes(type);
}

/**
 * Delay before attempt `attempt + 1`, or undefined when `attempt` was the last.
 * Jitter spreads the delay uniformly over [delay/2, delay]; a Retry-After hint
 * raises the wait to at least that long, both capped by max_delay_ms.
 */
export function nextDelay(
  policy: RetryPolicy,
  attempt: number,
  type: ErrorType,
  random: () => number,
  retryAfterMs?: number,
): number | undefined {
  if (attempt >= policy.max_attempts || !isRetryable(policy, type)) return undefined;
  let delay = policy.backoff === "exponential" ? policy.delay_ms * policy.multiplier ** (attempt - 1) : policy.delay_ms;
  if (policy.jitter) delay = delay / 2 + random() * (delay / 2);
  if (retryAfterMs !== undefined) delay = Math.max(delay, retryAfterMs);
  delay = Math.min(delay, policy.max_delay_ms ?? MAX_DELAY_MS);
  return Math.max(0, Math.round(delay));
}
