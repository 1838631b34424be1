// The flow's optional input JSON Schema, checked with a validator that runs on Workers too.
import { Validator, type Schema } from "@cfworker/json-schema";
import type { Issue } from "./flow";

const cache = new WeakMap<object, Validator>();

/** Issues of `input` against the schema, with paths starting at `root`. */
export function validateInput(schema: Record<string, unknown> | undefined, input: unknown, root = "input"): Issue[] {
  if (!schema) return [];
  let validator = cache.get(schema);
  if (!validator) {
    validator = new Validator(schema as Schema, "2020-12", false);
    cache.set(schema, validator);
  }
  const result = validator.validate(input);
  if (result.valid) return [];
  // The validator reports a chain per failure; the innermost entries name the fields.
  const seen = new Set<string>();
  const issues: Issue[] = [];
  for (const e of result.errors) {
    if (/^(properties|items|allOf|anyOf|oneOf)$/.test(e.keyword)) continue;
    const path = [root, ...e.instanceLocation.replace(/^#\/?/, "").split("/").filter(Boolean)].join(".");
    const key = `${path}:${e.error}`;
    if (!seen.has(key)) {
      seen.add(key);
      issues.push({ path, message: e.error });
    }
  }
  return issues.length ? issues : [{ path: root, message: "does not match the schema" }];
}

/** Checks that a JSON Schema compiles; returns a message or undefined. */
export function checkSchema(schema: Record<string, unknown>): string | undefined {
  try {
    new Validator(schema as Schema, "2020-12", false).validate(null);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}
