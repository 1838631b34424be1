// The Node transport of the Slack Web API: @slack/web-api's WebClient, imported on first use.
// Wired by the Node entry only (src/entry/server.ts); Workers use fetchSlackApi (./api.ts).
import type { WebClient } from "@slack/web-api";
import type { Log } from "../../deps";
import { DEFAULT_SLACK_API_URL, type SlackApi, type SlackApiFactory } from "./api";

/** A WebClient that leaves retries to the outbox (no internal retry or rate-limit sleeping). */
export async function slackClient(token: string, apiUrl = DEFAULT_SLACK_API_URL, log?: Log): Promise<WebClient> {
  const { WebClient, LogLevel } = await import("@slack/web-api");
  return new WebClient(token, {
    slackApiUrl: apiUrl,
    rejectRateLimitedCalls: true,
    retryConfig: { retries: 0 },
    timeout: 15_000,
    logLevel: LogLevel.ERROR,
    logger: log ? quietLogger(log) : undefined,
  });
}

function quietLogger(log: Log) {
  let level = "error";
  return {
    debug: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    error: (...msg: unknown[]) => log("warn", "slack web api", { detail: msg.map(String).join(" ") }),
    setLevel: (l: string) => void (level = l),
    getLevel: () => level as never,
    setName: () => undefined,
  };
}

/** A SlackApi over an existing WebClient (Bolt's listener `client`, for instance). */
export function webClientApi(client: WebClient): SlackApi {
  return { call: async (method, args) => (await client.apiCall(method, args)) as unknown as Record<string, unknown> };
}

export const webClientSlackApi: SlackApiFactory = (token, apiUrl, log) => {
  const client = slackClient(token, apiUrl, log);
  return { call: async (method, args) => webClientApi(await client).call(method, args) };
};
