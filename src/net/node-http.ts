// The engine's http steps on Node: undici's request() on the process's pinned keep-alive Agent,
// without fetch's WHATWG Request/Response/stream objects (a third of a flow's CPU in the bench
// profile). The same rules as the steps' fetch (src/net/step-fetch.ts): the URL policy before each
// hop, redirects followed here and re-checked (at most MAX_REDIRECTS), the connect-time address
// check of the Agent, MEND_MAX_RESPONSE. Other failures look like fetch's: a TypeError with a cause.
import { request, type Dispatcher } from "undici";
import { StepError } from "../engine/errors";
import type { HttpAnswer, HttpSend } from "../engine/ports";
import { REFUSED_ADDRESS, tooLarge } from "./step-fetch";
import { MAX_REDIRECTS, UrlRefusedError, checkUrl, type UrlPolicy } from "./url-safety";

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

type Answer = Dispatcher.ResponseData;

function refused(url: string, why: string): StepError {
  return new StepError(new UrlRefusedError(url, why).message, "validation");
}

/** The answer's headers as fetch's Headers iterate them: names sorted, repeats joined (set-cookie: the last). */
function headersOf(res: Answer): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of Object.keys(res.headers).sort()) {
    const v = res.headers[name];
    out[name] = Array.isArray(v) ? (name === "set-cookie" ? v[v.length - 1]! : v.join(", ")) : (v ?? "");
  }
  return out;
}

async function cappedText(res: Answer, url: string, max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let seen = 0;
  for await (const chunk of res.body as AsyncIterable<Buffer>) {
    seen += chunk.length;
    if (seen > max) {
      res.body.destroy();
      throw tooLarge(url, max);
    }
    chunks.push(chunk);
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}

export function nodeHttp(dispatcher: Dispatcher, policy: UrlPolicy, maxResponse: number): HttpSend {
  return async (target, init): Promise<HttpAnswer> => {
    // fetch sends `accept: */*` unless told otherwise (and no accept-encoding here: answers come uncompressed).
    const headers: Record<string, string> = { accept: "*/*" };
    for (const [k, v] of init.headers) headers[k] = v;
    let url = target.href;
    let method = init.method;
    let body = init.body;
    for (let hop = 0; ; hop++) {
      const why = await checkUrl(url, policy);
      if (why) throw refused(url, hop === 0 ? why : `redirect target ${why}`);
      let res: Answer;
      try {
        res = await request(url, { method: method as "GET", headers, body, signal: init.signal, dispatcher });
      } catch (err) {
        const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
        if (e.code === REFUSED_ADDRESS || e.cause?.code === REFUSED_ADDRESS)
          throw new StepError(e.cause?.message ?? e.message ?? `refused to call ${url}`, "validation");
        throw new TypeError("fetch failed", { cause: err });
      }
      const location = res.headers.location;
      if (REDIRECTS.has(res.statusCode) && typeof location === "string") {
        await res.body.dump();
        if (hop >= MAX_REDIRECTS) throw refused(url, `more than ${MAX_REDIRECTS} redirects`);
        const next = new URL(location, url);
        // As fetch does: 303 (and 301/302 after a POST) continue as GET without a body.
        if (
          res.statusCode === 303
            ? method !== "HEAD"
            : (res.statusCode === 301 || res.statusCode === 302) && method === "POST"
        ) {
          method = "GET";
          body = undefined;
          delete headers["content-type"];
        }
        if (next.origin !== new URL(url).origin) delete headers.authorization;
        url = next.href;
        continue;
      }
      const length = Number(res.headers["content-length"] ?? NaN);
      if (length > maxResponse) {
        await res.body.dump();
        throw tooLarge(url, maxResponse);
      }
      const done = res;
      const at = url;
      return {
        status: res.statusCode,
        headers: headersOf(res),
        text: () => (Number.isFinite(length) ? done.body.text() : cappedText(done, at, maxResponse)),
      };
    }
  };
}
