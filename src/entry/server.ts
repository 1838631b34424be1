// Starts the Node service: used by the entry and by tests (real server, real SQLite file).
import { serve, type ServerType } from "@hono/node-server";
import type { AddressInfo } from "node:net";
import { createApp } from "../app";
import type { Deps } from "../deps";
import type { Config } from "../env";
import { createServices, type ServiceOptions } from "../services";
import { nodeLookup } from "../net/node-lookup";
import { openSqlite } from "../store/sqlite-node";
import { slackEnabled, slackRoutes } from "../routes/slack";
import { loadFlowsDir } from "./flows-dir";
import { loadScriptsDir } from "./scripts-dir";

export interface RunningServer {
  url: string;
  port: number;
  deps: Deps;
  close(): Promise<void>;
}

export async function startServer(config: Config, options: Partial<ServiceOptions> = {}): Promise<RunningServer> {
  let db;
  try {
    db = openSqlite(config.MEND_DB);
  } catch (err) {
    const { ConfigError } = await import("../env");
    throw new ConfigError(`MEND_DB: cannot open ${config.MEND_DB}: ${(err as Error).message}`);
  }
  const userScripts = await loadScriptsDir(config.MEND_SCRIPTS_DIR);
  const { deps, scheduler } = createServices({ config, db, userScripts, lookup: nodeLookup, ...options });
  await loadFlowsDir(config.MEND_FLOWS_DIR, deps);
  await deps.runs.releaseLeases();
  const app = createApp(deps, (a) => {
    // Chat bots (Node only: Bolt does not run on Workers). Slack needs SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET.
    if (slackEnabled(config)) a.route("/slack", slackRoutes(deps));
  });
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, port: config.PORT, hostname: config.HOST }, () => resolve(s));
  });
  scheduler.start();
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${config.HOST}:${port}`,
    port,
    deps,
    close: async () => {
      scheduler.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await deps.engine.idle();
      await deps.dispatcher.idle();
      await db.close();
    },
  };
}
