// Slack as a chat platform: the descriptor src/chat/platforms.ts lists.
//   env        SLACK_BOT_TOKEN + SLACK_SIGNING_SECRET (buttons, edits, /mend), SLACK_API_URL,
//              SLACK_ALLOWED_USERS
//   config     { channel } (the bot posts; edits and buttons work) or { webhook_url } (post only)
//   send/edit  chat.postMessage / chat.update; thread replies chat.postMessage with thread_ts
//   routes     POST /slack/events: Bolt on Node (./node.ts), the fetch bot elsewhere (./fetch-bot.ts)
import { z } from "zod";
import { list } from "../../env-parts";
import { slackMentions } from "../oncall-config";
import type { ChatPlatform } from "../platform";
import { fetchSlackApi, type SlackApi } from "./api";
import { alertBlocks, alertText, SLACK_MESSAGE_LIMIT } from "./blocks";
import { createSlackFetchBot } from "./fetch-bot";
import type { SlackNode } from "./node";
import { slackRoutes } from "./routes";
import { postMessage, postWebhook, slackDeliveryError } from "./send";

const env = {
  SLACK_BOT_TOKEN: z.string().min(1).optional(),
  SLACK_SIGNING_SECRET: z.string().min(1).optional(),
  SLACK_API_URL: z.url().default("https://slack.com/api/"),
  SLACK_ALLOWED_USERS: list.default([]),
};

type Ref = { channel?: string; ts?: string; webhook?: boolean };

export const slack: ChatPlatform<typeof env> = {
  kind: "slack",
  name: "Slack",
  env,
  credentials: ["SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"],
  channel: { field: "channel", id: z.string().trim().min(1) },
  limits: { message: SLACK_MESSAGE_LIMIT, buttons: 25 },
  connect({ config, log, apiFetch, node: nodeModule }) {
    const node = nodeModule as SlackNode | undefined;
    const token = config.SLACK_BOT_TOKEN;
    let api: SlackApi | undefined;
    if (token && node) api = node.webClientSlackApi(token, config.SLACK_API_URL, log);
    else if (token) api = fetchSlackApi(token, config.SLACK_API_URL, { fetch: apiFetch });
    const render = (m: Parameters<typeof alertText>[0]) => ({ text: alertText(m), blocks: alertBlocks(m) });
    // The first post mentions the handler's `mention` list (at the top, and in the notification text).
    const withMentions = (msg: ReturnType<typeof render>, mention: string[] | undefined) => {
      const who = slackMentions(mention ?? []).text;
      return who
        ? {
            text: `${who} ${msg.text}`,
            blocks: [{ type: "section" as const, text: { type: "mrkdwn" as const, text: who } }, ...msg.blocks],
          }
        : msg;
    };
    const call = async (method: string, args: Record<string, unknown>) => {
      try {
        return await api!.call(method, args);
      } catch (err) {
        throw slackDeliveryError(err);
      }
    };
    const editable = (ref: Ref) => Boolean(ref.channel && ref.ts && api);
    return {
      bot: Boolean(api),
      async post(target, model, o) {
        if (target.webhook_url) {
          await postWebhook(o.fetch, target.webhook_url, withMentions(render(model), target.mention));
          return { webhook: true };
        }
        const res = await postMessage(api!, target.channel!, withMentions(render(model), target.mention));
        return { channel: res.channel ?? target.channel, ts: res.ts };
      },
      canEdit: (ref) => editable(ref as Ref),
      async edit(ref, model) {
        const r = ref as Ref;
        if (editable(r)) await call("chat.update", { channel: r.channel, ts: r.ts, ...render(model) });
      },
      async reply(ref, text, o) {
        const r = ref as Ref;
        const who = slackMentions(o?.mention ?? []).text;
        if (editable(r))
          await call("chat.postMessage", { channel: r.channel, thread_ts: r.ts, text: who ? `${who} ${text}` : text });
      },
      async routes(deps) {
        if (!api || !config.SLACK_SIGNING_SECRET) return undefined;
        return slackRoutes(deps, node ? await node.createSlackBot(deps) : createSlackFetchBot(deps, api));
      },
    };
  },
};
