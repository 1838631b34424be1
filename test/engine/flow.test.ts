// The flow schema: what parses and how bad fields are named.
import { describe, expect, it } from "vitest";
import { parseDefaults, parseFlow } from "../../src/engine/flow";

function issues(raw: unknown) {
  const r = parseFlow(raw);
  if (r.ok) throw new Error("expected issues");
  return r.issues;
}

describe("parseFlow", () => {
  it("accepts the SPEC's example flow", () => {
    const r = parseFlow({
      name: "weather",
      input: { type: "object", required: ["city"] },
      retry: {
        max_attempts: 3,
        backoff: "exponential",
        delay_ms: 200,
        multiplier: 2,
        max_delay_ms: 10000,
        jitter: true,
      },
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
      ],
      on_failure: [
        { id: "fallback", compute: { temperature: null, source: "unavailable", error: "{{ error.message }}" } },
      ],
      alerts: ["ops-slack"],
    });
    expect(r.ok).toBe(true);
  });

  it("upper-cases the http method", () => {
    const r = parseFlow({ name: "f", steps: [{ id: "a", http: { method: "post", url: "http://x.test/" } }] });
    expect(r.ok && r.value.steps[0]!.http!.method).toBe("POST");
  });

  it("gives a fail step the message 'failed' and type runtime by default", () => {
    const r = parseFlow({ name: "f", steps: [{ id: "a", fail: {} }] });
    expect(r.ok && r.value.steps[0]!.fail).toEqual({ message: "failed", type: "runtime" });
  });

  it("names a bad field with a dotted path", () => {
    expect(issues({ name: "f", steps: [{ id: "a", http: { method: "GET", url: "not a url" } }] })).toEqual([
      { path: "steps.0.http.url", message: expect.any(String) },
    ]);
  });

  it("names every bad field, not only the first", () => {
    const paths = issues({
      name: "Bad Name",
      steps: [
        { id: "a", compute: 1, retry: { max_attempts: 0 } },
        { id: "b", sleep: { ms: -1 } },
      ],
    }).map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(["name", "steps.0.retry.max_attempts", "steps.1.sleep.ms"]));
  });

  it("requires at least one step", () => {
    expect(issues({ name: "f", steps: [] }).map((i) => i.path)).toEqual(["steps"]);
  });

  it("refuses a step with no kind or with two kinds", () => {
    expect(issues({ name: "f", steps: [{ id: "a" }] })[0]).toMatchObject({
      path: "steps.0",
      message: expect.stringContaining("needs one of"),
    });
    expect(issues({ name: "f", steps: [{ id: "a", compute: 1, sleep: { ms: 1 } }] })[0]!.message).toContain(
      "more than one kind",
    );
  });

  it("refuses unknown fields", () => {
    expect(issues({ name: "f", steps: [{ id: "a", compute: 1, retries: 3 }] })[0]!.path).toBe("steps.0");
  });

  it("refuses duplicate step ids across steps and on_failure", () => {
    expect(issues({ name: "f", steps: [{ id: "a", compute: 1 }], on_failure: [{ id: "a", compute: 2 }] })).toEqual([
      { path: "on_failure.0.id", message: expect.stringContaining("duplicate step id 'a'") },
    ]);
  });

  it("refuses a template naming a step that does not exist", () => {
    expect(issues({ name: "f", steps: [{ id: "a", compute: "{{ steps.nope.body }}" }] })[0]).toMatchObject({
      path: "steps.0",
      message: expect.stringContaining("unknown step 'nope'"),
    });
  });

  it("refuses a template with an unknown root or code in it", () => {
    expect(issues({ name: "f", steps: [{ id: "a", compute: "{{ env.HOME }}" }] })[0]!.path).toBe("steps.0");
    expect(issues({ name: "f", steps: [{ id: "a", compute: "{{ input.a + 1 }}" }] })[0]!.path).toBe("steps.0");
  });

  it("refuses retry types that are not error types", () => {
    expect(issues({ name: "f", retry: { retry_on: ["oops"] }, steps: [{ id: "a", compute: 1 }] })[0]!.path).toBe(
      "retry.retry_on.0",
    );
  });

  it("refuses an error object status outside 400-599", () => {
    expect(issues({ name: "f", error: { status: 200 }, steps: [{ id: "a", compute: 1 }] })[0]!.path).toBe(
      "error.status",
    );
  });
});

describe("parseDefaults", () => {
  it("accepts retry, timeout_ms and error and refuses anything else", () => {
    expect(parseDefaults({ retry: { max_attempts: 2 }, timeout_ms: 5, error: { status: 503 } }).ok).toBe(true);
    const r = parseDefaults({ steps: [] });
    expect(r.ok).toBe(false);
  });
});
