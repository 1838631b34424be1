// POST /slack/events — Slack interactivity (block_actions), slash commands and Events API.
// The v0 signature is checked before anything else (401 on a bad or stale one); then the body is
// parsed (form `payload=<json>`, form fields of a slash command, or JSON events), url_verification
// is answered, and everything else goes to the bot, whose ack becomes the HTTP answer: the Bolt
// App on Node (src/bots/slack/app.ts, wired by src/entry/server.ts), the fetch-only bot on Workers
// (src/bots/slack/fetch-bot.ts). Both run the same interactions (src/bots/slack/interactions.ts).
import { Hono } from "hono";
import type { Deps } from "../deps";
import type { SlackDispatcher } from "../bots/slack/interactions";
import { verifySlackRequest } from "../bots/slack/verify";

export function slackEnabled(config: Deps["config"]): boolean {
  return Boolean(config.SLACK_BOT_TOKEN && config.SLACK_SIGNING_SECRET);
}

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

export function slackRoutes(deps: Deps, bot: SlackDispatcher): Hono {
  const app = new Hono();
  app.post("/events", async (c) => {
    const raw = await c.req.text();
    const verdict = await verifySlackRequest({
      signingSecret: deps.config.SLACK_SIGNING_SECRET ?? "",
      body: raw,
      timestamp: c.req.header("x-slack-request-timestamp"),
      signature: c.req.header("x-slack-signature"),
      nowMs: deps.clock.now(),
    });
    if (!verdict.ok) return c.json({ error: verdict.reason }, 401);
    const type = (c.req.header("content-type") ?? "").toLowerCase();
    if (!type.includes("application/x-www-form-urlencoded") && !type.includes("application/json")) {
      return c.json({ error: `content type '${type || "none"}' is not supported; Slack sends form-encoded or JSON bodies` }, 415);
    }
    const body = parseBody(raw, type);
    if (!body) return c.json({ error: "body is not a Slack payload (bad form `payload` or JSON)" }, 400);
    if (body.type === "url_verification") return c.json({ challenge: body.challenge });
    if (body.ssl_check !== undefined) return c.body(null, 200);
    const retryNum = Number(c.req.header("x-slack-retry-num"));
    const answer = await bot.dispatch(body, {
      retryNum: Number.isFinite(retryNum) && c.req.header("x-slack-retry-num") ? retryNum : undefined,
      retryReason: c.req.header("x-slack-retry-reason"),
    });
    if (answer.body === undefined) return c.body(null, answer.status as 200);
    if (typeof answer.body === "string") return c.text(answer.body, answer.status as 200);
    return c.json(answer.body as object, answer.status as 200);
  });
  return app;
}
