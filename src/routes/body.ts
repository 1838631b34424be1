// Reading request bodies: content type checked, JSON or YAML parsed, errors as 4xx.
import type { Context } from "hono";
import { parse as parseYaml } from "yaml";
import { ApiError } from "./errors";
import { MAX_DEPTH, nestsDeeperThan } from "../engine/size";

const JSON_TYPE = /^application\/([\w.-]+\+)?json\b/i;
const YAML_TYPE = /^(application|text)\/(x-)?yaml\b/i;

function isJsonType(contentType: string | undefined): boolean {
  return !!contentType && JSON_TYPE.test(contentType);
}

/** Throws 400 when a body nests deeper than MAX_DEPTH: deeper input would overflow the stack later. */
export function checkDepth(value: unknown): unknown {
  if (nestsDeeperThan(value, MAX_DEPTH)) throw new ApiError(400, `body nests deeper than ${MAX_DEPTH} levels`);
  return value;
}

function parseJsonText(text: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ApiError(400, `body is not valid JSON: ${(err as Error).message}`);
  }
  return checkDepth(value);
}

/** A JSON body; an empty one is `fallback`. Other content types get 415. */
export async function readJson(c: Context, fallback: unknown = undefined): Promise<unknown> {
  const text = await c.req.text();
  const type = c.req.header("content-type");
  if (text.trim() === "") {
    if (fallback !== undefined) return fallback;
    throw new ApiError(400, "body is empty; expected JSON");
  }
  if (type && !isJsonType(type))
    throw new ApiError(415, `content type '${type}' is not supported; send application/json`);
  return parseJsonText(text);
}

/** JSON or YAML, by content type. */
export async function readJsonOrYaml(c: Context): Promise<unknown> {
  const type = c.req.header("content-type") ?? "application/json";
  const text = await c.req.text();
  if (YAML_TYPE.test(type)) {
    let doc: unknown;
    try {
      doc = parseYaml(text);
    } catch (err) {
      throw new ApiError(400, `body is not valid YAML: ${(err as Error).message.split("\n")[0]}`);
    }
    return checkDepth(doc);
  }
  if (!isJsonType(type))
    throw new ApiError(415, `content type '${type}' is not supported; send application/json or application/yaml`);
  if (text.trim() === "") throw new ApiError(400, "body is empty; expected a flow");
  return parseJsonText(text);
}
