// One place maps every error a client can see to a status and a one-line JSON body.
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { EngineError } from "../engine/errors";
import type { Issue } from "../engine/flow";
import type { Log } from "../deps";

export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    readonly status: ContentfulStatusCode,
    message: string,
    readonly issues?: Issue[],
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

export const badRequest = (message: string, issues?: Issue[]) => new ApiError(400, message, issues);

const ENGINE_STATUS = { not_found: 404, conflict: 409, invalid: 400 } as const;

export function errorHandler(log: Log) {
  return function onError(err: Error, c: Context) {
    if (err instanceof ApiError)
      return c.json({ error: err.message, ...(err.issues ? { issues: err.issues } : {}) }, err.status, err.headers);
    if (err instanceof EngineError)
      return c.json({ error: err.message, ...(err.issues ? { issues: err.issues } : {}) }, ENGINE_STATUS[err.code]);
    if (err instanceof HTTPException) {
      const status = err.status as ContentfulStatusCode;
      return c.json({ error: err.message || (status === 413 ? "request body too large" : "request refused") }, status);
    }
    log("error", "unhandled error", { path: c.req.path, error: String(err.stack ?? err) });
    return c.json({ error: "internal error" }, 500);
  };
}
