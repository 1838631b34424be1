// The retry policy as a pure function: layering and delays.
import { describe, expect, it } from "vitest";
import { DEFAULT_RETRY, isRetryable, mergePolicy, nextDelay } from "../../src/engine/retry";

const fixed = (r: number) => () => r;

describe("mergePolicy", () => {
  it("tries once when nothing is configured", () => {
    expect(mergePolicy().max_attempts).toBe(1);
    expect(mergePolicy(undefined, undefined)).toEqual(DEFAULT_RETRY);
  });

  it("layers defaults, flow and step field by field, later layers winning", () => {
    const p = mergePolicy(
      { max_attempts: 4, delay_ms: 50, jitter: true },
      { delay_ms: 200, backoff: "exponential" },
      { max_attempts: 6 },
    );
    expect(p).toMatchObject({ max_attempts: 6, delay_ms: 200, backoff: "exponential", jitter: true, multiplier: 2 });
  });

  it("does not let an undefined field of a later layer erase an earlier one", () => {
    expect(mergePolicy({ delay_ms: 300 }, { delay_ms: undefined }).delay_ms).toBe(300);
  });
});

describe("nextDelay", () => {
  it("waits delay_ms between every attempt with constant backoff", () => {
    const p = mergePolicy({ max_attempts: 4, backoff: "constant", delay_ms: 250 });
    expect([1, 2, 3].map((a) => nextDelay(p, a, "http_status", fixed(0.5)))).toEqual([250, 250, 250]);
  });

  it("stops after max_attempts total tries", () => {
    const p = mergePolicy({ max_attempts: 3, delay_ms: 10 });
    expect(nextDelay(p, 2, "http_status", fixed(0))).toBe(10);
    expect(nextDelay(p, 3, "http_status", fixed(0))).toBeUndefined();
  });

  it("multiplies the delay after each attempt with exponential backoff", () => {
    const p = mergePolicy({ max_attempts: 5, backoff: "exponential", delay_ms: 100, multiplier: 3 });
    expect([1, 2, 3, 4].map((a) => nextDelay(p, a, "network", fixed(0)))).toEqual([100, 300, 900, 2700]);
  });

  it("uses a multiplier of 2 when exponential backoff names none", () => {
    const p = mergePolicy({ max_attempts: 4, backoff: "exponential", delay_ms: 100 });
    expect([1, 2, 3].map((a) => nextDelay(p, a, "network", fixed(0)))).toEqual([100, 200, 400]);
  });

  it("never waits longer than max_delay_ms", () => {
    const p = mergePolicy({
      max_attempts: 6,
      backoff: "exponential",
      delay_ms: 1000,
      multiplier: 10,
      max_delay_ms: 5000,
    });
    expect([1, 2, 3].map((a) => nextDelay(p, a, "network", fixed(0)))).toEqual([1000, 5000, 5000]);
  });

  it("spreads a jittered delay between half and all of it, following random()", () => {
    const p = mergePolicy({ max_attempts: 3, delay_ms: 1000, jitter: true });
    expect(nextDelay(p, 1, "timeout", fixed(0))).toBe(500);
    expect(nextDelay(p, 1, "timeout", fixed(0.5))).toBe(750);
    expect(nextDelay(p, 1, "timeout", fixed(0.999))).toBe(1000);
  });

  it("does not jitter when jitter is off", () => {
    const p = mergePolicy({ max_attempts: 3, delay_ms: 1000 });
    expect(nextDelay(p, 1, "timeout", fixed(0))).toBe(1000);
  });

  it("waits at least a Retry-After hint", () => {
    const p = mergePolicy({ max_attempts: 3, delay_ms: 100 });
    expect(nextDelay(p, 1, "http_status", fixed(0), 4000)).toBe(4000);
  });

  it("keeps its own delay when Retry-After is shorter", () => {
    const p = mergePolicy({ max_attempts: 3, delay_ms: 3000 });
    expect(nextDelay(p, 1, "http_status", fixed(0), 1000)).toBe(3000);
  });

  it("caps a Retry-After hint by max_delay_ms", () => {
    const p = mergePolicy({ max_attempts: 3, delay_ms: 100, max_delay_ms: 2000 });
    expect(nextDelay(p, 1, "http_status", fixed(0), 60_000)).toBe(2000);
  });

  it("does not retry on a Retry-After hint once attempts are used up", () => {
    const p = mergePolicy({ max_attempts: 1 });
    expect(nextDelay(p, 1, "http_status", fixed(0), 1000)).toBeUndefined();
  });
});

describe("which errors are retried", () => {
  it("retries runtime, network, timeout, http_status and permission_denied errors by default", () => {
    const p = mergePolicy({ max_attempts: 2 });
    for (const t of ["runtime", "network", "timeout", "http_status", "permission_denied"] as const)
      expect(isRetryable(p, t)).toBe(true);
  });

  it("does not retry template, validation or cancelled errors by default", () => {
    const p = mergePolicy({ max_attempts: 2 });
    for (const t of ["template", "validation", "cancelled"] as const)
      expect(nextDelay(p, 1, t, fixed(0))).toBeUndefined();
  });

  it("retries only the types listed in retry_on", () => {
    const p = mergePolicy({ max_attempts: 3, retry_on: ["timeout"] });
    expect(nextDelay(p, 1, "timeout", fixed(0))).toBe(0);
    expect(nextDelay(p, 1, "http_status", fixed(0))).toBeUndefined();
  });

  it("lets retry_on opt in to a type that is not retried by default", () => {
    expect(isRetryable(mergePolicy({ retry_on: ["template"] }), "template")).toBe(true);
  });

  it("never retries a type listed in non_retryable, even when retry_on lists it too", () => {
    const p = mergePolicy({ max_attempts: 3, non_retryable: ["permission_denied"] });
    expect(nextDelay(p, 1, "permission_denied", fixed(0))).toBeUndefined();
    expect(nextDelay(p, 1, "http_status", fixed(0))).toBe(0);
    expect(isRetryable(mergePolicy({ retry_on: ["network"], non_retryable: ["network"] }), "network")).toBe(false);
  });
});
