// The Discord REST API over @discordjs/rest (the Node transport; ./api.ts has the fetch one), and
// the REST client `npm run discord:register` and sendDiscordAlert use.
import type { REST } from "@discordjs/rest";
import { DeliveryError } from "../../handlers/types";
import { UrlRefusedError } from "../../net/url-safety";
import { refusedDelivery } from "../../handlers/webhook";
import { DEFAULT_DISCORD_API_URL, DISCORD_TIMEOUT_MS, type DiscordApi } from "./api";

/** A REST client (API v10) that leaves waiting and retrying to the outbox. */
export async function discordRest(token: string | undefined, apiUrl = DEFAULT_DISCORD_API_URL): Promise<REST> {
  // Imported on first use: only needed when Discord is used.
  const { REST } = await import("@discordjs/rest");
  const rest = new REST({
    api: apiUrl.replace(/\/+$/, ""),
    version: "10",
    // Never sleep on a 429 or a known-empty bucket: throw RateLimitError (with retryAfter) instead.
    rejectOnRateLimit: () => true,
    // A retried POST could post twice; the outbox retries with the same nonce instead.
    retries: 0,
    timeout: DISCORD_TIMEOUT_MS,
  });
  if (token) rest.setToken(token);
  return rest;
}

/** Maps a @discordjs/rest failure to what the outbox should do about it. */
export function discordDeliveryError(err: unknown): DeliveryError {
  if (err instanceof DeliveryError) return err;
  if (err instanceof UrlRefusedError) return refusedDelivery(err);
  const e = err as {
    name?: string;
    message?: string;
    status?: number;
    code?: number | string;
    retryAfter?: number;
    global?: boolean;
    route?: string;
  };
  const name = String(e?.name ?? "");
  if (name.startsWith("RateLimitError") && typeof e.retryAfter === "number") {
    return new DeliveryError(
      `discord rate limited ${e.route ?? "the call"} (retry after ${Math.ceil(e.retryAfter)} ms${e.global ? ", global" : ""})`,
      Math.max(0, e.retryAfter),
      { status: 429, global: Boolean(e.global) },
      false,
      true,
    );
  }
  if (name.startsWith("DiscordAPIError") && typeof e.status === "number") {
    // 4xx other than 408/429 will not get better by trying again (unknown channel, missing access, bad body…).
    const permanent = e.status >= 400 && e.status < 500 && e.status !== 408 && e.status !== 429;
    return new DeliveryError(
      `discord answered HTTP ${e.status} (code ${String(e.code)}): ${e.message ?? ""}`.trim(),
      undefined,
      { status: e.status, code: e.code },
      permanent,
    );
  }
  if (name === "HTTPError" && typeof e.status === "number")
    return new DeliveryError(`discord answered HTTP ${e.status}`, undefined, { status: e.status });
  if (/Expected token/.test(e?.message ?? ""))
    return new DeliveryError(`discord request failed: ${e.message}`, undefined, undefined, true);
  return new DeliveryError(`discord request failed: ${e?.message ?? String(err)}`);
}

/** DiscordApi over @discordjs/rest. */
export function restDiscordApi(token: string | undefined, apiUrl: string): DiscordApi {
  let rest: Promise<REST> | undefined;
  return {
    async call(method, path, body, opts = {}) {
      rest ??= discordRest(token, apiUrl);
      const r = await rest;
      try {
        const route = path as `/${string}`;
        const o = { body, auth: opts.auth !== false };
        const answer = await (method === "GET"
          ? r.get(route, o)
          : method === "POST"
            ? r.post(route, o)
            : method === "PATCH"
              ? r.patch(route, o)
              : method === "PUT"
                ? r.put(route, o)
                : r.delete(route, o));
        return answer && typeof answer === "object" ? (answer as Record<string, unknown>) : {};
      } catch (err) {
        throw discordDeliveryError(err);
      }
    },
  };
}
