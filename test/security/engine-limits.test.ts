// Red-team findings inside runs: values doubling step after step, bodies nested thousands of levels,
// secrets escaped the way JSON encoders write them, secrets sent as input, error-object headers.
import { describe, expect, it } from "vitest";
import { errorAnswer } from "../../src/engine/error-object";
import { REDACTED, makeRedactor } from "../../src/engine/redact";
import { MAX_TEMPLATE_OUTPUT } from "../../src/engine/size";
import { flow, makeHarness, reply, URL_A } from "../engine/harness";

const deep = (levels: number) => "[".repeat(levels) + "]".repeat(levels);

describe("template output", () => {
  it("a value that doubles itself step after step fails its step with a template error instead of exhausting memory", async () => {
    const steps: unknown[] = [{ id: "s0", compute: { x: "{{ input.seed }}" } }];
    for (let i = 1; i <= 24; i++)
      steps.push({ id: `s${i}`, compute: { a: `{{ steps.s${i - 1} }}`, b: `{{ steps.s${i - 1} }}` } });
    const h = makeHarness({ flows: [flow("grow", steps)] });
    const run = await h.start("grow", { seed: "x".repeat(1000) });
    expect(run.status).toBe("failed");
    expect(run.error).toMatchObject({
      type: "template",
      message: `compute template output is larger than ${MAX_TEMPLATE_OUTPUT} bytes`,
    });
  });
});

describe("deeply nested JSON", () => {
  it("an upstream body nested 5,000 levels is kept as text; the run ends instead of crashing", async () => {
    const h = makeHarness({
      secrets: { K: "secret-value-1" },
      flows: [flow("f", [{ id: "call", http: { method: "GET", url: URL_A } }])],
    });
    h.http.reply(reply(200, deep(5000), { "content-type": "application/json" }));
    const run = await h.start("f");
    expect(run.status).toBe("succeeded");
    expect((run.output as { body: unknown }).body).toBe(deep(5000));
  });

  it("redaction walks 100,000 levels without recursion", () => {
    let v: unknown = "secret-value-1";
    for (let i = 0; i < 100_000; i++) v = { v };
    let out = makeRedactor({ K: "secret-value-1" })(v) as { v: unknown };
    for (let i = 0; i < 100_000; i++) out = out.v as { v: unknown };
    expect(out).toBe(REDACTED);
  });
});

describe("secrets escaped by JSON encoders", () => {
  it("are redacted as JavaScript, Go and Python write them", () => {
    const secret = 'pä"ss<&>word';
    const redact = makeRedactor({ S: secret });
    const forms = [
      JSON.stringify({ e: secret }), // JS: \" only
      '{"e":"pä\\"ss\\u003c\\u0026\\u003eword"}', // Go: <, >, & escaped
      '{"e": "p\\u00e4\\"ss<&>word"}', // Python json.dumps (ensure_ascii)
      '{"e": "p\\u00E4\\"ss<&>word"}',
    ];
    for (const body of forms) expect(redact({ details: { body } }).details.body).not.toMatch(/ss.*word/);
  });

  it("an upstream echoing the secret in a JSON error body does not leak it into the run", async () => {
    const secret = 'tøken-42-"x"';
    const h = makeHarness({
      secrets: { T: secret },
      flows: [flow("f", [{ id: "call", http: { method: "POST", url: URL_A, body: { t: "{{ secrets.T }}" } } }])],
    });
    h.http.reply((req) =>
      reply(
        500,
        `{"error":"bad token ${JSON.stringify(JSON.parse(req.body!).t).slice(1, -1).replace(/ø/g, "\\u00f8")}"}`,
        { "content-type": "text/plain" },
      )(req),
    );
    const run = await h.start("f");
    expect(JSON.stringify(run)).not.toContain("42-");
  });
});

describe("run input", () => {
  it("is stored with secret values replaced", async () => {
    const h = makeHarness({ secrets: { K: "hunter2-secret" }, flows: [flow("f", [{ id: "a", compute: 1 }])] });
    const run = await h.start("f", { password: "hunter2-secret" });
    expect(run.input).toEqual({ password: REDACTED });
  });
});

describe("error-object headers", () => {
  it("cannot be split by CR/LF from input, and non-ASCII is encoded, so the answer is never a 500", () => {
    const answer = errorAnswer(
      { status: 422, headers: { "x-order": "{{ input.order }}", "bad name": "x" } },
      { message: "no", type: "validation" },
      { input: { order: "7\r\nSet-Cookie: a=b ü" } },
      {},
    );
    expect(answer.status).toBe(422);
    expect(answer.headers).toEqual({ "x-order": encodeURIComponent("7\r\nSet-Cookie: a=b ü") });
    expect(() => new Headers(answer.headers)).not.toThrow();
  });
});

describe("the failed result handed to handlers", () => {
  it("carries at most 16 KiB of a failed answer's body into alerts", async () => {
    const h = makeHarness({ flows: [flow("f", [{ id: "call", http: { method: "GET", url: URL_A } }])] });
    h.http.reply(reply(500, "e".repeat(200_000)));
    const run = await h.start("f");
    expect(run.status).toBe("failed");
    const body = h.alerts[0]!.failed!.body as string;
    expect(body.length).toBeLessThan(17 * 1024);
    expect(body).toMatch(/…truncated \(200000 characters\)…$/);
  });
});

describe("a flow's page", () => {
  it("hides every secret field, the webhook's and a `script: webhook` step's args", async () => {
    const { flowYaml } = await import("../../src/pages/flow");
    const yaml = flowYaml(
      {
        name: "f",
        webhook: { secret: "hook-secret-1" },
        steps: [
          {
            id: "tell",
            script: { name: "webhook", args: { url: "https://x.example", secret: "whsec_c2VjcmV0LXNlY3JldA==" } },
          },
        ],
      } as never,
      (v) => v,
    );
    expect(yaml).not.toContain("hook-secret-1");
    expect(yaml).not.toContain("whsec_");
    expect(yaml).toContain("url: https://x.example");
  });
});

describe("a script result that cannot be stored", () => {
  it("fails its step with a validation error instead of crashing the commit", async () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    for (const [name, value] of [
      ["cycle", cyclic],
      ["bigint", { n: 10n }],
    ] as const) {
      const h = makeHarness({ scripts: { [name]: () => value }, flows: [flow("f", [{ id: "s", script: { name } }])] });
      const run = await h.start("f");
      expect(run.status).toBe("failed");
      expect(run.error).toMatchObject({
        type: "validation",
        message: expect.stringContaining("cannot be stored as JSON"),
      });
    }
  });
});
