// MEND_MAX_BODY (413), and on Node the request body read straight from the socket.
//
// Hono's bodyLimit asks for `c.req.raw.body`, and @hono/node-server answers that by building a
// whole fetch Request for every request, GETs included (an AbortController, web streams, undici's
// Request: a sixth of what accepting a run costs). On Node (c.env.incoming) the body is read from
// the IncomingMessage instead and put into Hono's body cache as text, which is how every route
// reads it (c.req.text). Elsewhere (Workers, app.request) Hono's own bodyLimit runs.
import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { IncomingMessage } from "node:http";

// Like fetch's Body.text(): UTF-8, a leading BOM dropped, bad bytes replaced.
const utf8 = new TextDecoder();

/** The body, or undefined once it passed `max` bytes; rejects when the client goes away first. */
function readIncoming(incoming: IncomingMessage, max: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    incoming.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) over = true;
      if (!over) chunks.push(chunk);
    });
    incoming.on("end", () => resolve(over ? undefined : utf8.decode(Buffer.concat(chunks, size))));
    incoming.on("error", reject);
    incoming.on("close", () => {
      if (!incoming.complete) reject(new Error("the client closed the request before its body was read"));
    });
  });
}

export function limitBody(maxSize: number, onError: (c: Context) => Response | Promise<Response>): MiddlewareHandler {
  const portable = bodyLimit({ maxSize, onError });
  return async function limitBody(c, next) {
    const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
    if (typeof incoming?.on !== "function") return portable(c, next);
    if (c.req.method === "GET" || c.req.method === "HEAD") return next();
    const declared = incoming.headers["content-length"];
    if (declared !== undefined && !incoming.headers["transfer-encoding"] && Number(declared) > maxSize)
      return onError(c);
    const text = await readIncoming(incoming, maxSize);
    if (text === undefined) return onError(c);
    // Hono keeps the promise of each body kind it read; every route here reads text.
    (c.req.bodyCache as Record<string, unknown>).text = Promise.resolve(text);
    return next();
  };
}
