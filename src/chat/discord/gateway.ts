// Gateway mode (DISCORD_GATEWAY=true), for bots that cannot expose a public interactions URL:
// a discord.js Client logs in (GET /gateway/bot for the WebSocket URL, then HELLO → IDENTIFY →
// READY) and hands every `interactionCreate` to the same handler as POST /discord/interactions
// (./interactions.ts): buttons, /mend, and modal submits. No signature check is needed: the
// interaction came over the bot's own authenticated connection. The initial response goes back through discord.js
// (POST /interactions/{id}/{token}/callback on DISCORD_API_URL).
//
//   const gw = startDiscordGateway(deps, interactions);   // never throws; connects in the background
//   await gw.ready;        // true once READY, false when it gave up (bad token) or was stopped
//   await gw.stop();
//
// A client that cannot connect never crashes the server: the failure is logged and login is tried
// again with backoff (5 s doubling to 5 min; an attempt gets 30 s to reach READY); a refused token
// (401) stops trying.
import type { Client, Interaction } from "discord.js";
import type { Deps } from "../../deps";
import { CALLBACK, EPHEMERAL } from "./components";
import type { CommandOption, DiscordInteraction, DiscordInteractions, InteractionResponse } from "./interactions";

export interface DiscordGateway {
  /** Resolves true at the first READY, false if it gave up or was stopped first. */
  ready: Promise<boolean>;
  /** The current client (undefined between attempts). */
  client(): Client | undefined;
  stop(): Promise<void>;
}

export interface GatewayOptions {
  /** First wait after a failed login (doubles up to maxBackoffMs). */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** An attempt that has not reached READY by then is abandoned and retried after the backoff. */
  loginTimeoutMs?: number;
}

type Option = { name: string; type: number; value?: string | number | boolean | null; options?: readonly Option[] };

function toOption(o: Option): CommandOption {
  return { name: o.name, type: o.type, value: o.value ?? undefined, options: o.options?.map(toOption) };
}

/** The interaction in Discord's API shape, from discord.js's structures. */
export function fromDiscordJs(it: Interaction): DiscordInteraction {
  const member = it.member;
  let roles: string[] = [];
  if (member) {
    const r = (member as { roles: unknown }).roles;
    // A cached guild gives a GuildMember (roles manager); an uncached one the raw API member (ids).
    if (Array.isArray(r)) roles = r.map(String);
    else if (r && typeof r === "object" && "cache" in r)
      roles = [...(r as { cache: Map<string, unknown> }).cache.keys()];
  }
  const user = { id: it.user.id, username: it.user.username, global_name: it.user.globalName };
  const out: DiscordInteraction = {
    id: it.id,
    application_id: it.applicationId,
    type: it.type,
    token: it.token,
    guild_id: it.guildId ?? undefined,
    channel_id: it.channelId ?? undefined,
    member: member ? { user, roles } : undefined,
    user,
  };
  if (it.isButton()) {
    out.data = { custom_id: it.customId, component_type: it.componentType };
    out.message = { id: it.message.id, channel_id: it.message.channelId };
  } else if (it.isChatInputCommand()) {
    out.data = {
      name: it.commandName,
      type: it.commandType,
      options: it.options.data.map((o) => toOption(o as Option)),
    };
  } else if (it.isMessageComponent()) {
    out.data = { custom_id: it.customId, component_type: it.componentType };
  } else if (it.isModalSubmit()) {
    // Each field as the API sends it in a label (18): { component: { type, custom_id, value } }.
    const fields = [...it.fields.fields.values()].map((f) => ({
      type: 18,
      component: { type: f.type, custom_id: f.customId, value: "value" in f ? f.value : undefined },
    }));
    out.data = { custom_id: it.customId, components: fields };
    if (it.message) out.message = { id: it.message.id, channel_id: it.message.channelId };
  }
  return out;
}

/** Sends the initial response through discord.js's interaction methods. */
async function respondVia(it: Interaction, r: InteractionResponse): Promise<void> {
  if (!it.isRepliable()) return;
  const data = r.data ?? {};
  const flags = typeof data.flags === "number" && (data.flags & EPHEMERAL) !== 0 ? EPHEMERAL : undefined;
  const message = {
    content: typeof data.content === "string" ? data.content : undefined,
    embeds: data.embeds as never,
    components: data.components as never,
    allowedMentions: { parse: [] },
    flags: flags as never,
  };
  switch (r.type) {
    case CALLBACK.DEFERRED_UPDATE_MESSAGE:
      if (it.isMessageComponent()) return void (await it.deferUpdate());
      break;
    case CALLBACK.UPDATE_MESSAGE:
      if (it.isMessageComponent()) return void (await it.update({ ...message, flags: undefined }));
      break;
    case CALLBACK.DEFERRED_CHANNEL_MESSAGE:
      return void (await it.deferReply({ flags: flags as never }));
    case CALLBACK.CHANNEL_MESSAGE:
      return void (await it.reply(message));
  }
  // Anything else: the raw callback, as the HTTP endpoint would have answered.
  await it.client.rest.post(`/interactions/${it.id}/${it.token}/callback`, { body: r, auth: false });
}

export function startDiscordGateway(
  deps: Deps,
  interactions: DiscordInteractions,
  opts: GatewayOptions = {},
): DiscordGateway {
  const { config, log } = deps;
  let stopped = false;
  let current: Client | undefined;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let wakeRetry: (() => void) | undefined;
  let settle!: (v: boolean) => void;
  const ready = new Promise<boolean>((r) => (settle = r));
  const maxBackoff = opts.maxBackoffMs ?? 300_000;
  const loginTimeout = opts.loginTimeoutMs ?? 30_000;
  let markStopping!: () => void;
  const stopping = new Promise<void>((r) => (markStopping = r));

  async function connectOnce(): Promise<"ready" | "retry" | "give-up"> {
    const { Client, Events, GatewayIntentBits } = await import("discord.js");
    if (stopped) return "give-up";
    const client = new Client({
      intents: [GatewayIntentBits.Guilds],
      rest: { api: config.DISCORD_API_URL.replace(/\/+$/, ""), version: "10" },
    });
    current = client;
    client.on(Events.InteractionCreate, (it) => {
      let shaped: DiscordInteraction;
      try {
        shaped = fromDiscordJs(it);
      } catch (err) {
        log("warn", "discord gateway: unreadable interaction", { error: String((err as Error)?.message ?? err) });
        return;
      }
      const task = interactions.handle(shaped, (r) => respondVia(it, r));
      deps.waitUntil(
        task.catch((err: unknown) =>
          log("error", "discord gateway interaction failed", { error: String((err as Error)?.stack ?? err) }),
        ),
      );
    });
    client.on(Events.Error, (err) => log("warn", "discord gateway error", { error: String(err?.message ?? err) }));
    client.on(Events.ShardError, (err) =>
      log("warn", "discord gateway connection error", { error: String(err?.message ?? err) }),
    );
    client.once(Events.ClientReady, (c) => {
      log("info", "discord gateway ready", { user: c.user.tag, application: c.application.id });
      settle(true);
    });
    // @discordjs/ws retries an unreachable gateway by itself every 500 ms and only says so in debug
    // messages: surface that once, and give the attempt a deadline after which we back off.
    let reported = false;
    client.on(Events.Debug, (m) => {
      if (reported || !/Failed to connect to the gateway URL|unexpected code 1006/.test(m)) return;
      reported = true;
      log("warn", "discord gateway connection error: the gateway URL cannot be reached", { detail: m.split("\n")[0] });
    });
    const login = client.login(config.DISCORD_BOT_TOKEN);
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const outcome = await Promise.race([
        login.then(() => "ready" as const),
        new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), loginTimeout))),
        stopping.then(() => "stopped" as const),
      ]);
      if (outcome === "ready") return "ready";
      login.catch(() => undefined);
      if (outcome === "timeout")
        log("warn", `discord gateway could not connect within ${Math.round(loginTimeout / 1000)} s; will retry`);
      await client.destroy().catch(() => undefined);
      if (current === client) current = undefined;
      return outcome === "stopped" ? "give-up" : "retry";
    } catch (err) {
      const e = err as { code?: string; status?: number; message?: string };
      const refused = e?.code === "TokenInvalid" || e?.status === 401;
      log(
        refused ? "error" : "warn",
        refused
          ? "discord gateway: the bot token was refused; not retrying"
          : "discord gateway could not connect; will retry",
        { error: String(e?.message ?? err) },
      );
      await client.destroy().catch(() => undefined);
      if (current === client) current = undefined;
      return refused ? "give-up" : "retry";
    } finally {
      clearTimeout(timer);
    }
  }

  async function run(): Promise<void> {
    let backoff = opts.backoffMs ?? 5_000;
    while (!stopped) {
      const outcome = await connectOnce().catch((err: unknown) => {
        log("warn", "discord gateway could not start", { error: String((err as Error)?.message ?? err) });
        return "retry" as const;
      });
      if (outcome !== "retry" || stopped) {
        if (outcome === "give-up") settle(false);
        return;
      }
      await new Promise<void>((r) => {
        wakeRetry = r;
        retryTimer = setTimeout(r, backoff);
      });
      backoff = Math.min(backoff * 2, maxBackoff);
    }
  }

  const loop = run().catch((err: unknown) =>
    log("error", "discord gateway stopped", { error: String((err as Error)?.message ?? err) }),
  );

  return {
    ready,
    client: () => current,
    async stop() {
      stopped = true;
      markStopping();
      if (retryTimer) clearTimeout(retryTimer);
      wakeRetry?.();
      settle(false);
      // Destroying the client also ends a login still in progress.
      const c = current;
      current = undefined;
      await c?.destroy().catch(() => undefined);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([loop, new Promise((r) => (timer = setTimeout(r, 5_000)))]);
      clearTimeout(timer);
      const late = current as Client | undefined;
      await late?.destroy().catch(() => undefined);
    },
  };
}
