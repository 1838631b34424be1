// The flow's input JSON Schema.
import { describe, expect, it } from "vitest";
import { checkSchema, validateInput } from "../../src/engine/input";

const schema = {
  type: "object",
  required: ["city"],
  properties: { city: { type: "string" }, days: { type: "integer", minimum: 1 } },
};

describe("input validation", () => {
  it("accepts anything when the flow has no schema", () => {
    expect(validateInput(undefined, 42)).toEqual([]);
  });

  it("accepts input that matches", () => {
    expect(validateInput(schema, { city: "Oslo", days: 2 })).toEqual([]);
  });

  it("names a missing required field", () => {
    expect(validateInput(schema, {})).toEqual([{ path: "input", message: expect.stringContaining("city") }]);
  });

  it("names the field of a wrong type with a dotted path", () => {
    expect(validateInput(schema, { city: "Oslo", days: 0 }).map((i) => i.path)).toEqual(["input.days"]);
  });

  it("names nested fields and array items", () => {
    const s = {
      type: "object",
      properties: { items: { type: "array", items: { type: "object", properties: { n: { type: "number" } } } } },
    };
    expect(validateInput(s, { items: [{ n: 1 }, { n: "x" }] }).map((i) => i.path)).toEqual(["input.items.1.n"]);
  });

  it("reports a schema that does not compile", () => {
    expect(checkSchema({ type: "object" })).toBeUndefined();
    expect(checkSchema({ $ref: "#/nope" })).toEqual(expect.any(String));
  });
});
