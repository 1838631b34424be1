// Property tests: parseFlow and templates never crash on hostile input.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { TemplateError } from "../../src/engine/errors";
import { parseFlow } from "../../src/engine/flow";
import { MAX_DELAY_MS, mergePolicy, nextDelay } from "../../src/engine/retry";
import { render, renderString } from "../../src/engine/template";

const VALID = {
  name: "weather",
  description: "Current weather with a fallback",
  input: { type: "object", required: ["city"] },
  retry: { max_attempts: 3, backoff: "exponential", delay_ms: 200, multiplier: 2, max_delay_ms: 10000, jitter: true },
  timeout_ms: 10000,
  error: { status: 502, message: "weather unavailable: {{ error.message }}" },
  steps: [
    {
      id: "fetch_weather",
      http: {
        method: "GET",
        url: "http://api.example/current?city={{ input.city }}",
        headers: { Authorization: "Bearer {{ secrets.WEATHER_KEY }}" },
        expect_status: [200, 404],
      },
      retry: { max_attempts: 5 },
    },
    { id: "format", compute: { temperature: "{{ steps.fetch_weather.body.temp }}", source: "live" } },
    { id: "nap", sleep: { ms: 10 } },
    { id: "call", script: { name: "log", args: { a: 1 } }, async: true, continue_on_error: true },
  ],
  on_failure: [{ id: "fallback", compute: { temperature: null, error: "{{ error:message }}" } }],
  alerts: ["ops-slack"],
  webhook: { public: true },
};

/** Every issue path must be a string of dot-separated segments whose parent exists in the input. */
function checkIssues(raw: unknown, result: ReturnType<typeof parseFlow>): void {
  if (result.ok) return;
  expect(result.issues.length).toBeGreaterThan(0);
  for (const issue of result.issues) {
    expect(typeof issue.path).toBe("string");
    expect(typeof issue.message).toBe("string");
    const parts = issue.path === "" ? [] : issue.path.split(".");
    for (const p of parts) expect(p).not.toBe("");
    let node: unknown = raw;
    for (const p of parts.slice(0, -1)) {
      expect(node !== null && typeof node === "object").toBe(true);
      node = (node as Record<string, unknown>)[p];
    }
  }
}

type Mutation = { path: (string | number)[]; op: "set"; value: unknown } | { path: (string | number)[]; op: "delete" };

function allPaths(
  value: unknown,
  prefix: (string | number)[] = [],
  out: (string | number)[][] = [],
): (string | number)[][] {
  out.push(prefix);
  if (Array.isArray(value)) value.forEach((v, i) => allPaths(v, [...prefix, i], out));
  else if (value !== null && typeof value === "object")
    for (const [k, v] of Object.entries(value)) allPaths(v, [...prefix, k], out);
  return out;
}

function mutate(base: unknown, m: Mutation): unknown {
  const copy = structuredClone(base) as Record<string | number, unknown>;
  if (m.path.length === 0) return m.op === "set" ? m.value : undefined;
  let node: Record<string | number, unknown> = copy;
  for (const p of m.path.slice(0, -1)) node = node[p] as Record<string | number, unknown>;
  const last = m.path[m.path.length - 1]!;
  if (m.op === "set") node[last] = m.value;
  else if (Array.isArray(node)) node.splice(last as number, 1);
  else delete node[last];
  return copy;
}

const PATHS = allPaths(VALID);

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ path: fc.constantFrom(...PATHS), op: fc.constant("set" as const), value: fc.jsonValue({ maxDepth: 3 }) }),
  fc.record({ path: fc.constantFrom(...PATHS), op: fc.constant("delete" as const) }),
  fc.record({
    path: fc.constantFrom(...PATHS),
    op: fc.constant("set" as const),
    value: fc.constantFrom<unknown>(
      "{{",
      "{{ }}",
      "{{ steps.nope.x }}",
      "{{ error:message }}",
      "{{ a + b }}",
      -1,
      0,
      1e12,
      "",
      null,
      [],
      {},
      "GET",
      "http://x",
    ),
  }),
);

describe("parseFlow fuzzing", () => {
  it("never throws on arbitrary JSON and names bad fields with dotted paths", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (raw) => {
        checkIssues(raw, parseFlow(raw));
      }),
      { numRuns: 150 },
    );
  });

  it("never throws on flow-shaped objects with random fields", () => {
    const flowish = fc.record(
      {
        name: fc.oneof(fc.string(), fc.constantFrom("ok", "a_b-1")),
        steps: fc.array(
          fc.dictionary(
            fc.constantFrom(
              "id",
              "http",
              "compute",
              "script",
              "sleep",
              "fail",
              "retry",
              "async",
              "timeout_ms",
              "error",
              "__proto__",
            ),
            fc.jsonValue({ maxDepth: 2 }),
          ),
          { maxLength: 4 },
        ),
        on_failure: fc.jsonValue({ maxDepth: 2 }),
        retry: fc.jsonValue({ maxDepth: 2 }),
      },
      { requiredKeys: ["steps"] },
    );
    fc.assert(
      fc.property(flowish, (raw) => {
        checkIssues(raw, parseFlow(raw));
      }),
      { numRuns: 150 },
    );
  });

  it("never throws on mutations of a valid flow", () => {
    expect(parseFlow(VALID).ok).toBe(true);
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), (ms) => {
        let raw: unknown = VALID;
        for (const m of ms) {
          if (raw === null || typeof raw !== "object") break;
          // A path may no longer exist after an earlier mutation: skip it.
          let node: unknown = raw;
          let ok = true;
          for (const p of m.path.slice(0, -1)) {
            if (node === null || typeof node !== "object") {
              ok = false;
              break;
            }
            node = (node as Record<string | number, unknown>)[p];
          }
          if (!ok || node === null || typeof node !== "object") continue;
          raw = mutate(raw, m);
        }
        checkIssues(raw, parseFlow(raw));
      }),
      { numRuns: 200 },
    );
  });
});

const scopeArb = fc.record({
  input: fc.jsonValue({ maxDepth: 3 }),
  steps: fc.dictionary(fc.constantFrom("a", "b", "c"), fc.jsonValue({ maxDepth: 2 })),
  error: fc.constant({ message: "boom", type: "runtime" }),
  secrets: fc.dictionary(fc.string({ minLength: 1, maxLength: 5 }), fc.string()),
});

const templateText = fc
  .array(
    fc.oneof(
      fc.string({ maxLength: 8 }),
      fc.constantFrom(
        "{{",
        "}}",
        "{",
        "}",
        "{{ input }}",
        "{{ input.a }}",
        "{{error:message}}",
        "{{ steps.a }}",
        "{{ input[0] }}",
        "{{ x }}",
        "{{ }}",
      ),
      fc.string({ maxLength: 12 }).map((s) => `{{ ${s} }}`),
      fc
        .tuple(
          fc.array(
            fc.constantFrom("input", "steps", "error", "a", "b", "0", "message", "__proto__", "constructor", "length"),
            { minLength: 1, maxLength: 4 },
          ),
          fc.constantFrom(".", ":"),
        )
        .map(([ps, sep]) => `{{ ${ps.join(sep)} }}`),
    ),
    { maxLength: 5 },
  )
  .map((parts) => parts.join(""));

describe("template fuzzing", () => {
  it("render either returns a value or throws a TemplateError, never anything else", () => {
    fc.assert(
      fc.property(templateText, scopeArb, (text, scope) => {
        try {
          render({ k: text, list: [text] }, scope);
        } catch (err) {
          expect(err).toBeInstanceOf(TemplateError);
          expect((err as TemplateError).type).toBe("template");
        }
      }),
      { numRuns: 300 },
    );
  });

  it("text without {{ comes back unchanged", () => {
    fc.assert(
      fc.property(
        fc.string().filter((s) => !s.includes("{{")),
        scopeArb,
        (text, scope) => {
          expect(renderString(text, scope)).toBe(text);
        },
      ),
      { numRuns: 100 },
    );
  });

  it("an exact single template returns the value itself, whatever its type", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 3 }), (value) => {
        expect(renderString("{{ input.v }}", { input: { v: value } })).toEqual(value);
      }),
      { numRuns: 100 },
    );
  });
});

describe("retry delay properties", () => {
  it("exponential backoff without max_delay_ms stops growing at one day", () => {
    const policy = mergePolicy({ max_attempts: 100, backoff: "exponential", delay_ms: 1000, multiplier: 100 });
    expect(nextDelay(policy, 50, "network", () => 0)).toBe(MAX_DELAY_MS);
    expect(MAX_DELAY_MS).toBe(86_400_000);
  });

  it("a jittered, capped delay stays within [delay/2, delay] and under max_delay_ms", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 100_000 }),
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 1, max: 8 }),
        fc.option(fc.integer({ min: 0, max: 50_000 }), { nil: undefined }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (delay_ms, multiplier, attempt, max_delay_ms, r) => {
          const policy = mergePolicy({
            max_attempts: 10,
            backoff: "exponential",
            delay_ms,
            multiplier,
            jitter: true,
            max_delay_ms,
          });
          const d = nextDelay(policy, attempt, "network", () => r)!;
          const full = delay_ms * multiplier ** (attempt - 1);
          const cap = max_delay_ms ?? MAX_DELAY_MS;
          expect(d).toBeGreaterThanOrEqual(Math.min(Math.floor(full / 2), cap));
          expect(d).toBeLessThanOrEqual(Math.min(Math.ceil(full), cap));
        },
      ),
      { numRuns: 100 },
    );
  });
});
