// The Slack Web API as mend uses it: one `call(method, args)` that resolves with Slack's answer
// when it is `ok` and throws otherwise. Two transports implement it:
//   - fetchSlackApi (here): plain fetch, runs on Node and on Workers;
//   - webClientSlackApi (./web-client.ts): @slack/web-api's WebClient, Node only, wired by the
//     Node entry (src/entry/server.ts).
// Both throw errors shaped like @slack/web-api's (`code` slack_webapi_platform_error with
// `data.error`, slack_webapi_rate_limited_error with `retryAfter` in seconds,
// slack_webapi_http_error with `statusCode`), so slackDeliveryError (./send.ts) maps
// either to what the outbox should do. Neither retries: retries belong to the outbox.
import type { Log } from "../../deps";

export const DEFAULT_SLACK_API_URL = "https://slack.com/api/";

export interface SlackApi {
  call(method: string, args: Record<string, unknown>): Promise<Record<string, unknown>>;
}

/** Builds the transport for a bot token and SLACK_API_URL (with its trailing slash). */
export type SlackApiFactory = (token: string, apiUrl: string, log?: Log) => SlackApi;

export class SlackApiError extends Error {
  override readonly name = "SlackApiError";
  constructor(
    message: string,
    readonly code:
      | "slack_webapi_platform_error"
      | "slack_webapi_rate_limited_error"
      | "slack_webapi_http_error"
      | "slack_webapi_request_error",
    extra: { data?: Record<string, unknown>; retryAfter?: number; statusCode?: number } = {},
  ) {
    super(message);
    Object.assign(this, extra);
  }
  readonly data?: Record<string, unknown>;
  readonly retryAfter?: number;
  readonly statusCode?: number;
}

/** Form-encodes like the WebClient does: scalars as strings, objects and arrays as JSON. */
function formBody(args: Record<string, unknown>): string {
  const form = new URLSearchParams();
  for (const [k, v] of Object.entries(args)) {
    if (v === undefined || v === null) continue;
    form.set(k, typeof v === "object" ? JSON.stringify(v) : String(v));
  }
  return form.toString();
}

/** The Web API over fetch (Node and Workers). */
export function fetchSlackApi(
  token: string,
  apiUrl: string,
  opts: { fetch?: typeof fetch; timeoutMs?: number } = {},
): SlackApi {
  const doFetch = opts.fetch ?? ((...a: Parameters<typeof fetch>) => fetch(...a));
  const base = apiUrl.endsWith("/") ? apiUrl : `${apiUrl}/`;
  return {
    async call(method, args) {
      let res: Response;
      try {
        res = await doFetch(base + method, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/x-www-form-urlencoded" },
          body: formBody(args),
          signal: AbortSignal.timeout(opts.timeoutMs ?? 15_000),
        });
      } catch (err) {
        throw new SlackApiError(`${method}: ${(err as Error)?.message ?? String(err)}`, "slack_webapi_request_error");
      }
      if (res.status === 429) {
        await res.body?.cancel().catch(() => undefined);
        const s = Number(res.headers.get("retry-after"));
        const retryAfter = Number.isFinite(s) && s >= 0 ? s : 1;
        throw new SlackApiError(
          `${method}: rate limited, retry after ${retryAfter} s`,
          "slack_webapi_rate_limited_error",
          { retryAfter },
        );
      }
      const text = await res.text().catch(() => "");
      if (!res.ok)
        throw new SlackApiError(`${method}: HTTP ${res.status}`, "slack_webapi_http_error", { statusCode: res.status });
      let data: Record<string, unknown>;
      try {
        data = JSON.parse(text) as Record<string, unknown>;
      } catch {
        throw new SlackApiError(`${method}: answer is not JSON`, "slack_webapi_http_error", { statusCode: res.status });
      }
      if (data.ok !== true)
        throw new SlackApiError(`${method}: ${String(data.error ?? "unknown_error")}`, "slack_webapi_platform_error", {
          data,
        });
      return data;
    },
  };
}

/** The default transport where nothing else is wired. */
export const fetchSlackApiFactory: SlackApiFactory = (token, apiUrl) => fetchSlackApi(token, apiUrl);
