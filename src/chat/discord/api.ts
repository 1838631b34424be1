// The Discord REST API (v10) as mend uses it: one `call(method, path, body?)` that resolves with
// Discord's JSON answer and throws a DeliveryError otherwise (429: retryAfterMs from Retry-After or
// the body's retry_after; other 4xx but 408: permanent). Two transports implement it:
//   - fetchDiscordApi (here): plain fetch, on Workers and in in-process tests;
//   - restDiscordApi (./rest.ts): @discordjs/rest, wired on Node through ./node.ts.
// Neither waits or retries by itself: retries belong to the outbox.
import { retryAfterMs } from "../../engine/steps";
import { DeliveryError } from "../../handlers/types";

export const DEFAULT_DISCORD_API_URL = "https://discord.com/api";
export const DISCORD_TIMEOUT_MS = 15_000;

export type DiscordMethod = "GET" | "POST" | "PATCH" | "PUT" | "DELETE";

export interface DiscordApi {
  /** `path` is after /api/v10; `auth: false` for interaction webhooks (their token is in the path). */
  call(
    method: DiscordMethod,
    path: string,
    body?: unknown,
    opts?: { auth?: boolean },
  ): Promise<Record<string, unknown>>;
}

/** Discord's JSON `retry_after` (seconds) first, else the Retry-After header. */
export function parseRetryAfterMs(header: string | null, body: unknown): number | undefined {
  const fromBody = (body as { retry_after?: unknown } | null)?.retry_after;
  if (typeof fromBody === "number" && fromBody >= 0) return fromBody * 1000;
  return retryAfterMs(header, Date.now());
}

/** What a non-2xx answer means for the outbox. */
export function answerError(what: string, status: number, json: unknown, text: string): DeliveryError {
  if (status === 429) {
    const global = Boolean((json as { global?: unknown } | undefined)?.global);
    const wait = parseRetryAfterMs(null, json) ?? 1000;
    return new DeliveryError(
      `discord rate limited ${what} (retry after ${Math.ceil(wait)} ms${global ? ", global" : ""})`,
      wait,
      { status: 429, global },
      false,
      true,
    );
  }
  const e = json as { code?: unknown; message?: unknown } | undefined;
  const detail =
    e?.message !== undefined
      ? ` (code ${String(e.code)}): ${String(e.message)}`
      : text
        ? `: ${text.slice(0, 200)}`
        : "";
  // 4xx other than 408/429 will not get better by trying again (unknown channel, missing access, bad body…).
  const permanent = status >= 400 && status < 500 && status !== 408;
  return new DeliveryError(`discord answered HTTP ${status}${detail}`, undefined, { status, code: e?.code }, permanent);
}

export async function readJson(res: Response): Promise<{ text: string; json: unknown }> {
  const text = await res.text().catch(() => "");
  try {
    return { text, json: text ? JSON.parse(text) : undefined };
  } catch {
    return { text, json: undefined };
  }
}

/** The REST API over fetch. */
export function fetchDiscordApi(token: string | undefined, apiUrl: string, opts: { fetch: typeof fetch }): DiscordApi {
  const base = `${apiUrl.replace(/\/+$/, "")}/v10`;
  return {
    async call(method, path, body, o = {}) {
      const headers: Record<string, string> = { "user-agent": "DiscordBot (https://github.com/mend, 0.1)" };
      if (body !== undefined) headers["content-type"] = "application/json";
      if (o.auth !== false && token) headers.authorization = `Bot ${token}`;
      let res: Response;
      try {
        res = await opts.fetch(base + path, {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(DISCORD_TIMEOUT_MS),
        });
      } catch (err) {
        throw new DeliveryError(`discord request failed: ${(err as Error)?.message ?? String(err)}`);
      }
      const { text, json } = await readJson(res);
      if (res.ok) return json && typeof json === "object" ? (json as Record<string, unknown>) : {};
      if (res.status === 429 && json === undefined)
        throw answerError(
          `${method} ${path}`,
          429,
          { retry_after: (retryAfterMs(res.headers.get("retry-after"), Date.now()) ?? 1000) / 1000 },
          text,
        );
      throw answerError(`${method} ${path}`, res.status, json, text);
    },
  };
}
