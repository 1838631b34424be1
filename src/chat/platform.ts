// A chat platform as a plug-in. Each platform is one folder, src/chat/<kind>/, whose index.ts
// exports one ChatPlatform; src/chat/platforms.ts lists them. services.ts, env.ts,
// routes/handlers.ts and both entries only ever loop over that list. Everything platform-neutral —
// the alert model (./model.ts), the action table (./actions.ts), delivery and grouping
// (./deliver.ts), clicks (./clicks.ts) — calls a platform only through the ChatConnection below.
// docs/chat-platforms.md walks through adding one.
import type { Hono } from "hono";
import type { z } from "zod";
import type { Deps, Log } from "../deps";
import type { Clock } from "../engine/ports";
import type { CoreConfig } from "../env";
import type { AlertModel } from "./model";
import type { ChatTarget } from "./target";

/** The platform's ids of one posted message (stored as alerts.ref), e.g. Slack { channel, ts }. */
export type MessageRef = Record<string, unknown>;

export interface ChatContext<C = CoreConfig> {
  config: C;
  log: Log;
  clock: Clock;
  /** Calls to the platform's API (SLACK_API_URL, DISCORD_API_URL) on the fetch transport. */
  apiFetch: typeof fetch;
  /**
   * The platform's Node-only module (src/chat/<kind>/node.ts: Bolt, WebClient, @discordjs/rest,
   * discord.js), when the Node entry loaded it; undefined on Workers and in in-process tests, where
   * the platform talks to its API over apiFetch.
   */
  node?: unknown;
}

/** One platform, connected for one set of services. */
export interface ChatConnection {
  /** The bot's token is configured: it can post to a channel, edit, reply in threads. */
  bot: boolean;
  /** Posts a new message for an alert; returns its ids (alert.ref). `alertId` makes a redelivery idempotent where the platform can. */
  post(target: ChatTarget, model: AlertModel, o: { alertId: string; fetch: typeof fetch }): Promise<MessageRef>;
  /**
   * Redraws a posted message. `target` is the handler's when the caller has it: a webhook's
   * message can only be edited through its URL. Resolves without doing anything when it cannot edit.
   */
  edit(ref: MessageRef, model: AlertModel, o: { target?: ChatTarget; fetch: typeof fetch }): Promise<void>;
  /** Whether edit() can redraw this message (through the target's webhook URL when given). */
  canEdit(ref: MessageRef, target?: ChatTarget): boolean;
  /**
   * Posts `text` in the message's thread (Slack thread_ts; Discord a reply with message_reference).
   * `mention` (handler config form, ./oncall-config.ts) pings those people; nobody else is pinged.
   */
  reply(ref: MessageRef, text: string, o?: { mention?: string[] }): Promise<void>;
  /** The platform's HTTP endpoints, mounted at /<kind> (interactions, commands); undefined when off. */
  routes?(deps: Deps): Promise<Hono | undefined>;
  /** Long-lived connections (Node only), started after the server listens. */
  start?(deps: Deps): { stop(): Promise<void> } | undefined;
}

export interface ChatPlatform<E extends z.ZodRawShape = z.ZodRawShape> {
  /** The handler kind, the `script:` name and alerts.kind: `slack`. */
  kind: string;
  /** For people: `Slack`. */
  name: string;
  /** Its environment variables (merged into src/env.ts). */
  env: E;
  /** Variables that must be set together (the bot's credentials). */
  credentials: readonly (keyof E & string)[];
  /**
   * The handler config (POST /api/handlers, `script:` args) names the bot's channel in `field`
   * (`channel`, `channel_id`), checked by `id`; the other choice is `webhook_url` (./target.ts).
   */
  channel: { field: string; id: z.ZodType<string> };
  limits: {
    /** The longest error message shown (characters, "…" included). */
    message: number;
    /** Interactive buttons in one row. */
    buttons: number;
  };
  connect(ctx: ChatContext<CoreConfig & z.infer<z.ZodObject<E>>>): ChatConnection;
}

/** A platform whatever its variables (lists of platforms). */
// biome-ignore lint/suspicious/noExplicitAny: each platform's connect() takes its own variables.
export type AnyChatPlatform = ChatPlatform<any>;
