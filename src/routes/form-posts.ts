// Without a token, a page on another site could POST a form (or a bodiless no-cors fetch) to /hooks
// and /api. Browsers mark such requests (Origin, Sec-Fetch-Site) or send a form content type; those
// must carry application/json, which a browser only sends cross-site after a CORS preflight mend
// never grants. curl and servers (no Origin, no form type) are unaffected, and so is a request
// with an Authorization header (a browser adds one only after a preflight too).
import type { MiddlewareHandler } from "hono";
import { ApiError } from "./errors";

const JSON_TYPE = /^application\/([\w.-]+\+)?json\b/i;
const FORM_TYPE = /^(application\/x-www-form-urlencoded|multipart\/form-data|text\/plain)\b/i;

export const refuseBrowserFormPosts: MiddlewareHandler = async function refuseBrowserFormPosts(c, next) {
  if (c.req.method === "POST" && !c.req.header("authorization")) {
    const type = c.req.header("content-type") ?? "";
    const fromBrowser = c.req.header("origin") !== undefined || c.req.header("sec-fetch-site") !== undefined;
    if ((fromBrowser || FORM_TYPE.test(type)) && !JSON_TYPE.test(type)) {
      throw new ApiError(415, `content type '${type || "none"}' is not accepted here; send application/json`);
    }
  }
  await next();
};
