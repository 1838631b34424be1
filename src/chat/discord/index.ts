// Discord as a chat platform: the descriptor src/chat/platforms.ts lists.
//   env        DISCORD_BOT_TOKEN + DISCORD_PUBLIC_KEY + DISCORD_APPLICATION_ID (buttons, edits,
//              /mend), DISCORD_API_URL, DISCORD_GATEWAY, DISCORD_ALLOWED_USERS, DISCORD_ALLOWED_ROLES
//   config     { channel_id } (the bot posts; edits and buttons work) or { webhook_url } (no buttons)
//   send/edit  POST / PATCH /channels/{id}/messages; thread replies carry message_reference
//   routes     POST /discord/interactions; start: the discord.js gateway when DISCORD_GATEWAY=true
import type { RESTPostAPIChannelMessageJSONBody } from "discord-api-types/v10";
import { z } from "zod";
import { bool, list } from "../../env-parts";
import { discordMentions } from "../oncall-config";
import type { ChatPlatform } from "../platform";
import { DEFAULT_DISCORD_API_URL, fetchDiscordApi, type DiscordApi } from "./api";
import { alertMessage, DISCORD_MESSAGE_LIMIT, NO_MENTIONS, type HowToAct } from "./components";
import { createDiscordInteractions, type DiscordInteractions } from "./interactions";
import type { DiscordNode } from "./node";
import { discordRoutes } from "./routes";
import { callWebhook, nonceFor, postToChannel, postToWebhook, webhookUrl } from "./send";

const env = {
  DISCORD_BOT_TOKEN: z.string().min(1).optional(),
  DISCORD_PUBLIC_KEY: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, "must be 64 hex characters")
    .optional(),
  DISCORD_APPLICATION_ID: z.string().min(1).optional(),
  DISCORD_API_URL: z.url().default(DEFAULT_DISCORD_API_URL),
  DISCORD_GATEWAY: bool.default(false),
  DISCORD_ALLOWED_USERS: list.default([]),
  DISCORD_ALLOWED_ROLES: list.default([]),
};

/** A channel id: a snowflake, as a string (or a number in YAML `script:` args). */
const channelId = z
  .union([z.string().trim(), z.number().int().transform(String)])
  .pipe(z.string().regex(/^\d{5,30}$/, "must be a Discord channel id"));

type Ref = { channel_id?: string; message_id?: string; webhook?: boolean };

export const discord: ChatPlatform<typeof env> = {
  kind: "discord",
  name: "Discord",
  env,
  credentials: ["DISCORD_BOT_TOKEN", "DISCORD_PUBLIC_KEY", "DISCORD_APPLICATION_ID"],
  channel: { field: "channel_id", id: channelId },
  limits: { message: DISCORD_MESSAGE_LIMIT, buttons: 5 },
  connect(ctx) {
    const { config } = ctx;
    const node = ctx.node as DiscordNode | undefined;
    const token = config.DISCORD_BOT_TOKEN;
    const api: DiscordApi = node
      ? node.restDiscordApi(token, config.DISCORD_API_URL)
      : fetchDiscordApi(token, config.DISCORD_API_URL, { fetch: ctx.apiFetch });
    const on = Boolean(token && config.DISCORD_PUBLIC_KEY && config.DISCORD_APPLICATION_ID);
    const howTo: HowToAct = {
      publicUrl: config.MEND_PUBLIC_URL,
      apiToken: Boolean(config.MEND_API_TOKEN),
      command: on,
    };
    let interactions: DiscordInteractions | undefined;
    const shared = (deps: Parameters<typeof createDiscordInteractions>[0]) =>
      (interactions ??= createDiscordInteractions(deps, api));
    return {
      bot: Boolean(token),
      async post(target, model, o) {
        // The first post mentions the handler's `mention` list; allowed_mentions lets exactly those ping.
        const who = discordMentions(target.mention ?? []);
        const mention = <M extends { content: string }>(m: M) =>
          who.text ? { ...m, content: `${who.text}\n${m.content}`.slice(0, 2000), allowed_mentions: who.allowed! } : m;
        if (target.webhook_url)
          return postToWebhook(o.fetch, target.webhook_url, mention(alertMessage(model, { webhook: true, howTo })));
        return postToChannel(api, target.channel!, mention(alertMessage(model)), nonceFor(o.alertId));
      },
      canEdit(ref, target) {
        const r = ref as Ref;
        // A webhook edits its own messages through its URL (a credential: only the handler config has it).
        if (r.webhook) return Boolean(r.message_id && target?.webhook_url);
        return Boolean(r.channel_id && r.message_id && token);
      },
      async edit(ref, model, o) {
        const r = ref as Ref;
        if (!this.canEdit(ref, o.target)) return;
        if (r.webhook)
          await callWebhook(
            o.fetch,
            "PATCH",
            webhookUrl(o.target!.webhook_url!, `/messages/${r.message_id}`),
            alertMessage(model, { webhook: true, howTo }),
          );
        else await api.call("PATCH", `/channels/${r.channel_id}/messages/${r.message_id}`, alertMessage(model));
      },
      async reply(ref, text, o) {
        const r = ref as Ref;
        if (!this.canEdit(ref) || r.webhook) return;
        const who = discordMentions(o?.mention ?? []);
        const body: RESTPostAPIChannelMessageJSONBody = {
          content: (who.text ? `${who.text} ${text}` : text).slice(0, 2000),
          message_reference: { message_id: r.message_id!, channel_id: r.channel_id, fail_if_not_exists: false },
          allowed_mentions: who.text ? who.allowed! : NO_MENTIONS,
        };
        await api.call("POST", `/channels/${r.channel_id}/messages`, body);
      },
      async routes(deps) {
        return on ? discordRoutes(deps, shared(deps)) : undefined;
      },
      start(deps) {
        return on && config.DISCORD_GATEWAY && node ? node.startDiscordGateway(deps, shared(deps)) : undefined;
      },
    };
  },
};
