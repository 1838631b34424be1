// Starts the Node service: used by the entry and by tests (real server, real SQLite file).
import { serve, type ServerType } from "@hono/node-server";
import type { AddressInfo } from "node:net";
import { createApp } from "../app";
import type { Deps } from "../deps";
import { ConfigError, type Config } from "../env";
import { createServices, type ServiceOptions } from "../services";
import { nodeLookup } from "../net/node-lookup";
import { openSqlite } from "../store/sqlite-node";
import type { Database as Db } from "../store/database";
import { slackEnabled, slackRoutes } from "../routes/slack";
import { webClientSlackApi } from "../bots/slack/web-client";
import { discordEnabled, discordRoutes } from "../routes/discord";
import { createDiscordInteractions } from "../bots/discord/interactions";
import { startDiscordGateway, type DiscordGateway } from "../bots/discord/gateway";
import { loadFlowsDir } from "./flows-dir";
import { loadScriptsDir } from "./scripts-dir";
import { logSender } from "../handlers/log";
import { HEARTBEAT_MS, OwnedError, OwnerLease } from "../store/owner";
import { hostname } from "node:os";
import { randomUUID } from "node:crypto";

export interface RunningServer {
  url: string;
  port: number;
  deps: Deps;
  /** The discord.js gateway client (DISCORD_GATEWAY=true), connecting in the background. */
  discordGateway?: DiscordGateway;
  close(): Promise<void>;
}

export interface StartOptions extends ServiceOptions {
  /** Another process took the database over (this one stalled past the lease): stop serving. */
  onOwnershipLost: () => void;
}

const pidAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
};

/** The one owner of the file: refuses to start beside a live owner, heartbeats while running. */
async function takeOwnership(db: Db, config: Config, onLost: () => void, log: StartOptions["log"]): Promise<() => Promise<void>> {
  if (config.MEND_DB === ":memory:") return async () => undefined;
  const lease = new OwnerLease(db, { pid: process.pid, host: hostname(), token: randomUUID(), now: Date.now, alive: pidAlive });
  try {
    await lease.acquire();
  } catch (err) {
    await db.close();
    if (err instanceof OwnedError) throw new ConfigError(`MEND_DB: ${config.MEND_DB} is ${err.message}`);
    throw err;
  }
  const timer = setInterval(() => {
    lease.beat().then(
      (ok) => {
        if (ok) return;
        clearInterval(timer);
        log?.("error", "another process took the database over; stopping", { db: config.MEND_DB });
        onLost();
      },
      (err: unknown) => log?.("warn", "owner heartbeat failed", { error: String(err) }),
    );
  }, HEARTBEAT_MS);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await lease.release().catch(() => undefined);
  };
}

/** Listens on PORT/HOST; a busy port is a ConfigError (one line), not an 'error' event. */
function listen(fetchFn: (req: Request) => Response | Promise<Response>, config: Config): Promise<ServerType> {
  return new Promise((resolve, reject) => {
    const s = serve({ fetch: fetchFn, port: config.PORT, hostname: config.HOST }, () => resolve(s));
    s.once("error", (err: NodeJS.ErrnoException) => {
      const where = `${config.HOST}:${config.PORT}`;
      if (err.code === "EADDRINUSE") reject(new ConfigError(`PORT: ${where} is already in use (another mend or another program listens there)`));
      else if (err.code === "EACCES") reject(new ConfigError(`PORT: not allowed to listen on ${where}`));
      else if (err.code === "EADDRNOTAVAIL") reject(new ConfigError(`HOST: ${config.HOST} is not an address of this machine`));
      else reject(new ConfigError(`PORT: cannot listen on ${where}: ${err.message}`));
    });
  });
}

export async function startServer(config: Config, options: Partial<StartOptions> = {}): Promise<RunningServer> {
  let db: Db;
  try {
    db = openSqlite(config.MEND_DB);
  } catch (err) {
    throw new ConfigError(`MEND_DB: cannot open ${config.MEND_DB}: ${(err as Error).message}`);
  }
  const releaseOwnership = await takeOwnership(db, config, options.onOwnershipLost ?? (() => undefined), options.log);
  const userScripts = await loadScriptsDir(config.MEND_SCRIPTS_DIR);
  // The log alert links to the run's page: MEND_PUBLIC_URL, else this server's own address (known once listening).
  let self: string | undefined;
  const senders = { log: logSender(() => self), ...options.senders };
  const { deps, scheduler } = createServices({ config, db, userScripts, lookup: nodeLookup, slackApi: webClientSlackApi, ...options, senders });
  await loadFlowsDir(config.MEND_FLOWS_DIR, deps);
  // Only the owner gets here: leases left by a killed owner are void, nobody else is running steps.
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
  let server: ServerType;
  try {
    server = await listen(app.fetch, config);
  } catch (err) {
    await releaseOwnership();
    await db.close();
    throw err;
  }
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
      await releaseOwnership();
      await db.close();
    },
  };
}
