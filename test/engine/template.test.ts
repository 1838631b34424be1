// {{ path }} templates as the user writes them.
import { describe, expect, it } from "vitest";
import { TemplateError } from "../../src/engine/errors";
import { render, renderString, templatePaths } from "../../src/engine/template";

const scope = {
  input: { city: "Oslo", n: 3, flag: false, nothing: null, list: [10, 20, { x: "deep" }], obj: { a: 1 } },
  steps: { fetch: { status: 200, body: { temp: 21.5 } } },
  error: { message: "boom", type: "runtime" },
  failed: { status: 500, error: { message: "boom" } },
  run: { id: "r1", flow: "f", attempt: 2 },
  secrets: { KEY: "s3cr3t" },
};

function templateError(fn: () => unknown): TemplateError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TemplateError);
    return err as TemplateError;
  }
  throw new Error("expected a TemplateError");
}

describe("templates", () => {
  it("fills a path inside a longer string", () => {
    expect(renderString("weather in {{ input.city }} now", scope)).toBe("weather in Oslo now");
  });

  it("fills several templates in one string", () => {
    expect(renderString("{{input.city}}/{{ run.id }}/{{ run.attempt }}", scope)).toBe("Oslo/r1/2");
  });

  it("keeps the value's type when the string is exactly one template", () => {
    expect(renderString("{{ input.n }}", scope)).toBe(3);
    expect(renderString("{{ input.flag }}", scope)).toBe(false);
    expect(renderString("{{ input.obj }}", scope)).toEqual({ a: 1 });
    expect(renderString("{{ input.list }}", scope)).toEqual([10, 20, { x: "deep" }]);
    expect(renderString("  {{ steps.fetch.body.temp }}", scope)).toBe("  21.5");
  });

  it("stringifies values mixed with text (objects as JSON)", () => {
    expect(renderString("n={{ input.n }} obj={{ input.obj }} f={{ input.flag }} z={{ input.nothing }}", scope)).toBe(
      'n=3 obj={"a":1} f=false z=null',
    );
  });

  it("reads error:message like error.message", () => {
    expect(renderString("{{ error:message }}", scope)).toBe("boom");
    expect(renderString("failed: {{error:message}} ({{ error.type }})", scope)).toBe("failed: boom (runtime)");
    expect(renderString("{{ steps:fetch:body:temp }}", scope)).toBe(21.5);
  });

  it("indexes arrays with [n] or .n", () => {
    expect(renderString("{{ input.list[1] }}", scope)).toBe(20);
    expect(renderString("{{ input.list.2.x }}", scope)).toBe("deep");
  });

  it("reads secrets under the secrets root", () => {
    expect(renderString("Bearer {{ secrets.KEY }}", scope)).toBe("Bearer s3cr3t");
  });

  it("treats a path whose value is null as present", () => {
    expect(renderString("{{ input.nothing }}", scope)).toBeNull();
  });

  it("fails with a template error naming a missing path", () => {
    const err = templateError(() => renderString("city: {{ input.town }}", scope));
    expect(err.type).toBe("template");
    expect(err.message).toContain("input.town");
  });

  it("fails for a path that goes through null", () => {
    templateError(() => renderString("{{ input.nothing.x }}", scope));
  });

  it("fails for an index past the end of an array", () => {
    templateError(() => renderString("{{ input.list[7] }}", scope));
  });

  it("fails for a root that is not set in this context (no error outside error handlers)", () => {
    templateError(() => renderString("{{ error.message }}", { input: {} }));
  });

  it("rejects unknown roots", () => {
    expect(templateError(() => renderString("{{ process.env }}", scope)).message).toContain("unknown template root");
  });

  it("never executes code: expressions and calls are bad paths", () => {
    for (const t of [
      "{{ input.n + 1 }}",
      "{{ input.city.toUpperCase() }}",
      "{{ constructor.constructor('return process')() }}",
      "{{ `x` }}",
      "{{ }}",
    ]) {
      templateError(() => renderString(t, scope));
    }
  });

  it("does not reach inherited properties of values", () => {
    templateError(() => renderString("{{ input.obj.constructor }}", scope));
    templateError(() => renderString("{{ input.city.length }}", scope));
    templateError(() => renderString("{{ input.__proto__ }}", scope));
  });

  it("fills strings anywhere in a JSON value and leaves keys and non-strings alone", () => {
    expect(render({ "{{ input.city }}": ["{{ input.n }}", 5, null, { t: "{{ input.city }}!" }] }, scope)).toEqual({
      "{{ input.city }}": [3, 5, null, { t: "Oslo!" }],
    });
  });

  it("leaves text with lone braces as it is", () => {
    expect(renderString("a { b } {{ c", scope)).toBe("a { b } {{ c");
  });

  it("lists the template paths of a value for checks at save time", () => {
    expect(templatePaths({ a: "{{ input.x }} and {{steps.b.c}}", b: ["{{ error:message }}"] })).toEqual([
      "input.x",
      "steps.b.c",
      "error:message",
    ]);
  });
});
