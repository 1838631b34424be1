// POST /slack/events — Slack interactivity (block_actions), slash commands and Events API.
// The v0 signature is checked before anything else (401 on a bad or stale one); then the body is
// parsed (form `payload=<json>`, form fields of a slash command, or JSON events), url_verification
// is answered, and everything else goes to the bot, whose ack becomes the HTTP answer: the Bolt
// App on Node (./bolt.ts, through ./node.ts), the fetch-only bot elsewhere
// (./fetch-bot.ts). Both run the same interactions (./interactions.ts).
import type { Hono } from "hono";
import { signedRoute, type SignedParts } from "../signed-route";
import type { Deps } from "../../deps";
import type { SlackDispatcher } from "./interactions";
import { SLACK_HEADERS, verifySlackRequest } from "./verify";

function parseBody(raw: string, type: string): Record<string, unknown> | undefined {
  try {
    if (type.includes("application/x-www-form-urlencoded")) {
      const form = new URLSearchParams(raw);
      const payload = form.get("payload");
      if (payload !== null) return JSON.parse(payload) as Record<string, unknown>;
      return Object.fromEntries(form);
    }
    if (type.includes("application/json")) {
      const v = JSON.parse(raw) as unknown;
      return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/** What a block_actions / view_submission payload lacks that every click needs (who clicked, what), or undefined. */
function payloadError(body: Record<string, unknown>): string | undefined {
  if (body.type !== "block_actions" && body.type !== "view_submission") return undefined;
  const user = body.user as { id?: unknown } | undefined;
  if (!user || typeof user !== "object" || typeof user.id !== "string" || !user.id)
    return `${body.type} payload has no user.id`;
  if (body.type === "block_actions" && !Array.isArray(body.actions)) return "block_actions payload has no actions";
  if (body.type === "view_submission" && (!body.view || typeof body.view !== "object"))
    return "view_submission payload has no view";
  return undefined;
}

export function slackRoutes(deps: Deps, bot: SlackDispatcher): Hono {
  const verify = (parts: SignedParts) =>
    verifySlackRequest({ signingSecret: deps.config.SLACK_SIGNING_SECRET ?? "", ...parts });
  return signedRoute("/events", SLACK_HEADERS, deps.clock, verify, async (raw, c) => {
    const type = (c.req.header("content-type") ?? "").toLowerCase();
    if (!type.includes("application/x-www-form-urlencoded") && !type.includes("application/json")) {
      return c.json(
        { error: `content type '${type || "none"}' is not supported; Slack sends form-encoded or JSON bodies` },
        415,
      );
    }
    const body = parseBody(raw, type);
    if (!body) return c.json({ error: "body is not a Slack payload (bad form `payload` or JSON)" }, 400);
    if (body.type === "url_verification") return c.json({ challenge: body.challenge });
    if (body.ssl_check !== undefined) return c.body(null, 200);
    const shapeError = payloadError(body);
    if (shapeError) return c.json({ error: shapeError }, 400);
    const retryNum = Number(c.req.header("x-slack-retry-num"));
    const answer = await bot.dispatch(body, {
      retryNum: Number.isFinite(retryNum) && c.req.header("x-slack-retry-num") ? retryNum : undefined,
      retryReason: c.req.header("x-slack-retry-reason"),
    });
    if (answer.body === undefined) return c.body(null, answer.status as 200);
    if (typeof answer.body === "string") return c.text(answer.body, answer.status as 200);
    return c.json(answer.body as object, answer.status as 200);
  });
}
