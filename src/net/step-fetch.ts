// The fetch `http` steps use: the URL policy (metadata addresses always refused, private ranges under
// MEND_BLOCK_PRIVATE_URLS, every redirect re-checked) and MEND_MAX_RESPONSE on the body. Refusals and
// oversized bodies fail the step with a `validation` error, which is not retried.
import { StepError } from "../engine/errors";
import { guardedFetch, UrlRefusedError, type UrlPolicy } from "./url-safety";

/** The code a Node connect-time refusal carries (src/net/pinned-fetch.ts). */
export const REFUSED_ADDRESS = "EREFUSED_ADDRESS";

export function tooLarge(url: string, max: number): StepError {
  return new StepError(`${url} answered a body larger than MEND_MAX_RESPONSE (${max} bytes)`, "validation");
}

/** The body, cut off with an error once it passes `max` bytes (for answers without Content-Length). */
function capped(res: Response, url: string, max: number): Response {
  let seen = 0;
  const limit = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      seen += chunk.byteLength;
      if (seen > max) controller.error(tooLarge(url, max));
      else controller.enqueue(chunk);
    },
  });
  return new Response(res.body!.pipeThrough(limit), {
    status: res.status,
    statusText: res.statusText,
    headers: res.headers,
  });
}

export function stepFetch(fetchFn: typeof fetch, policy: UrlPolicy, maxResponse: number): typeof fetch {
  const guarded = guardedFetch(fetchFn, policy);
  return async (input, init) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    let res: Response;
    try {
      res = await guarded(input, init);
    } catch (err) {
      if (err instanceof UrlRefusedError) throw new StepError(err.message, "validation");
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      if (cause?.code === REFUSED_ADDRESS) throw new StepError(cause.message ?? `refused to call ${url}`, "validation");
      throw err;
    }
    if (!res.body) return res;
    const length = Number(res.headers.get("content-length") ?? NaN);
    if (length > maxResponse) {
      await res.body.cancel().catch(() => undefined);
      throw tooLarge(url, maxResponse);
    }
    // A declared length within the cap is enforced by the HTTP client itself; only open-ended bodies are counted.
    return Number.isFinite(length) ? res : capped(res, url, maxResponse);
  };
}
