// Starts the Node service: used by the entry and by tests (real server, real SQLite file).
import { serve, type ServerType } from "@hono/node-server";
import type { AddressInfo } from "node:net";
import { createApp } from "../app";
import type { Deps } from "../deps";
import { ConfigError, type Config } from "../env";
import { createServices, type ServiceOptions } from "../services";
import { nodeLookup } from "../net/node-lookup";
import { openSqlite } from "../store/sqlite-node";
import { slackEnabled, slackRoutes } from "../routes/slack";
import { webClientSlackApi } from "../bots/slack/web-client";
import { discordEnabled, discordRoutes } from "../routes/discord";
import { createDiscordInteractions } from "../bots/discord/interactions";
import { startDiscordGateway, type DiscordGateway } from "../bots/discord/gateway";
import { loadFlowsDir } from "./flows-dir";
import { loadScriptsDir } from "./scripts-dir";
import { logSender } from "../handlers/log";

export interface RunningServer {
  url: string;
  port: number;
  deps: Deps;
  /** The discord.js gateway client (DISCORD_GATEWAY=true), connecting in the background. */
  discordGateway?: DiscordGateway;
  close(): Promise<void>;
}

export async function startServer(config: Config, options: Partial<ServiceOptions> = {}): Promise<RunningServer> {
  let db;
  try {
    db = openSqlite(config.MEND_DB);
  } catch (err) {
    throw new ConfigError(`MEND_DB: cannot open ${config.MEND_DB}: ${(err as Error).message}`);
  }
  const userScripts = await loadScriptsDir(config.MEND_SCRIPTS_DIR);
  // The log alert links to the run's page: MEND_PUBLIC_URL, else this server's own address (known once listening).
  let self: string | undefined;
  const senders = { log: logSender(() => self), ...options.senders };
  const { deps, scheduler } = createServices({ config, db, userScripts, lookup: nodeLookup, slackApi: webClientSlackApi, ...options, senders });
  await loadFlowsDir(config.MEND_FLOWS_DIR, deps);
  await deps.runs.releaseLeases();
  // Discord needs DISCORD_BOT_TOKEN, DISCORD_PUBLIC_KEY and DISCORD_APPLICATION_ID; the endpoint and the gateway share one handler.
  const discordInteractions = discordEnabled(config) ? createDiscordInteractions(deps) : undefined;
  // Bolt is loaded only when Slack is on (it costs ~25 MiB of memory otherwise unused).
  const slackBot = slackEnabled(config) ? (await import("../bots/slack/app")).createSlackBot(deps) : undefined;
  const app = createApp(deps, (a) => {
    // Chat bots (Node only: Bolt does not run on Workers). Slack needs SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET.
    if (slackBot) a.route("/slack", slackRoutes(deps, slackBot));
    if (discordInteractions) a.route("/discord", discordRoutes(deps, discordInteractions));
  });
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST }, () => resolve(s));
  });
  scheduler.start();
  // Gateway mode: a discord.js client handles the same interactions; it connects (and retries) in
  // the background, so a gateway that cannot be reached never stops the server.
  const discordGateway = config.DISCORD_GATEWAY && discordInteractions ? startDiscordGateway(deps, discordInteractions) : undefined;
  const port = (server.address() as AddressInfo).port;
  self = `http://${/^(0\.0\.0\.0|::)$/.test(config.HOST) ? "localhost" : config.HOST.includes(":") ? `[${config.HOST}]` : config.HOST}:${port}`;
  return {
    url: `http://${config.HOST}:${port}`,
    port,
    deps,
    discordGateway,
    close: async () => {
      scheduler.stop();
      await discordGateway?.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await deps.engine.idle();
      await deps.dispatcher.idle();
      await db.close();
    },
  };
}
