// Starts the Node service: used by the entry and by tests (real server, real SQLite file).
import { serve, type ServerType } from "@hono/node-server";
import type { Hono } from "hono";
import type { AddressInfo } from "node:net";
import { createApp } from "../app";
import type { Deps } from "../deps";
import { ConfigError, type Config } from "../env";
import { createServices, type ServiceOptions } from "../services";
import { nodeLookup } from "../net/node-lookup";
import { nodeHttp } from "../net/node-http";
import { openSqlite } from "../store/sqlite-node";
import type { Database as Db } from "../store/database";
import { PLATFORMS } from "../chat/platforms";
import { loadFlowsDir } from "./flows-dir";
import { loadScriptsDir } from "./scripts-dir";
import { logSender } from "../handlers/log";
import { promMetrics } from "./prom-metrics";
import { pinnedAgent, pinnedFetch } from "../net/pinned-fetch";
import { scalarDocs } from "./scalar-docs";
import { PRUNE_EVERY_MS, Retention } from "../retention";
import { HEARTBEAT_MS, OwnedError, OwnerLease } from "../store/owner";
import { hostname } from "node:os";
import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { Admission } from "../net/admission";

export interface RunningServer {
  url: string;
  port: number;
  deps: Deps;
  /** Long-lived chat connections by platform kind (the discord.js gateway when DISCORD_GATEWAY=true). */
  chatStarted: Record<string, { stop(): Promise<void> }>;
  close(): Promise<void>;
}

export interface StartOptions extends ServiceOptions {
  /** Another process took the database over (this one stalled past the lease): stop serving. */
  onOwnershipLost: () => void;
  /** REQUEST_TIMEOUT_MS unless told (tests). */
  requestTimeoutMs: number;
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
async function takeOwnership(
  db: Db,
  config: Config,
  onLost: () => void,
  log: StartOptions["log"],
): Promise<() => Promise<void>> {
  if (config.MEND_DB === ":memory:") return async () => undefined;
  const lease = new OwnerLease(db, {
    pid: process.pid,
    host: hostname(),
    token: randomUUID(),
    now: Date.now,
    alive: pidAlive,
  });
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
/** Longest a client may take to send a request's headers and body (Node's default is 300 s). */
export const REQUEST_TIMEOUT_MS = 30_000;

type NodeFetch = (req: Request, env: { incoming: IncomingMessage }) => Response | Promise<Response>;

/** Webhook requests (the data plane) go through `gate`; everything else straight to the app. */
function admitted(app: Hono, gate: Admission): NodeFetch {
  return (req, env) =>
    env.incoming.url?.startsWith("/hooks/") ? gate.run(() => app.fetch(req, env)) : app.fetch(req, env);
}

function listen(fetchFn: NodeFetch, config: Config, requestTimeoutMs: number): Promise<ServerType> {
  return new Promise((resolve, reject) => {
    // A slow body (one byte a minute) would hold a connection and its buffers: cut it off.
    const serverOptions = {
      requestTimeout: requestTimeoutMs,
      headersTimeout: Math.min(10_000, requestTimeoutMs),
      connectionsCheckingInterval: Math.min(5_000, requestTimeoutMs / 2),
    };
    const s = serve(
      {
        fetch: fetchFn as (req: Request) => Promise<Response>,
        port: config.PORT,
        hostname: config.HOST,
        serverOptions,
      },
      () => resolve(s),
    );
    s.once("error", (err: NodeJS.ErrnoException) => {
      const where = `${config.HOST}:${config.PORT}`;
      if (err.code === "EADDRINUSE")
        reject(new ConfigError(`PORT: ${where} is already in use (another mend or another program listens there)`));
      else if (err.code === "EACCES") reject(new ConfigError(`PORT: not allowed to listen on ${where}`));
      else if (err.code === "EADDRNOTAVAIL")
        reject(new ConfigError(`HOST: ${config.HOST} is not an address of this machine`));
      else reject(new ConfigError(`PORT: cannot listen on ${where}: ${err.message}`));
    });
  });
}

export async function startServer(config: Config, options: Partial<StartOptions> = {}): Promise<RunningServer> {
  let db: Db;
  try {
    db = openSqlite(config.MEND_DB, { mode: config.MEND_WAL_CHECKPOINT, log: options.log });
  } catch (err) {
    throw new ConfigError(`MEND_DB: cannot open ${config.MEND_DB}: ${(err as Error).message.split("\n")[0]}`);
  }
  const releaseOwnership = await takeOwnership(db, config, options.onOwnershipLost ?? (() => undefined), options.log);
  const userScripts = await loadScriptsDir(config.MEND_SCRIPTS_DIR);
  // The log alert links to the run's page: MEND_PUBLIC_URL, else this server's own address (known once listening).
  let self: string | undefined;
  const senders = { log: logSender(() => self), ...options.senders };
  // Each chat platform's Node-only parts (Bolt, WebClient, @discordjs/rest, discord.js): src/chat/<kind>/node.ts.
  const chatNode: Record<string, unknown> = {};
  for (const p of PLATFORMS) chatNode[p.kind] = (await import(`../chat/${p.kind}/node.ts`)).node;
  const metrics = options.metrics ?? promMetrics();
  // Outbound connections are checked at connect time too (no DNS rebinding): src/net/pinned-fetch.ts.
  const agent = pinnedAgent(config.MEND_BLOCK_PRIVATE_URLS);
  const fetchFn = options.fetch ?? pinnedFetch(config.MEND_BLOCK_PRIVATE_URLS, agent);
  // http steps on undici's request() over the same Agent, unless the caller brings its own fetch (tests).
  const http =
    options.http ??
    (options.fetch
      ? undefined
      : nodeHttp(agent, { blockPrivate: config.MEND_BLOCK_PRIVATE_URLS }, config.MEND_MAX_RESPONSE));
  const { deps, scheduler } = createServices({
    config,
    db,
    userScripts,
    lookup: nodeLookup,
    chatNode,
    metrics,
    ...options,
    fetch: fetchFn,
    http,
    senders,
  });
  await loadFlowsDir(config.MEND_FLOWS_DIR, deps);
  // Only the owner gets here: leases left by a killed owner are void, nobody else is running steps.
  await deps.runs.releaseLeases();
  const chatRoutes: [string, Hono][] = [];
  for (const { platform, conn } of deps.chat.platforms) {
    const routes = await conn.routes?.(deps);
    if (routes) chatRoutes.push([platform.kind, routes]);
  }
  const app = createApp(
    deps,
    (a) => {
      for (const [kind, routes] of chatRoutes) a.route(`/${kind}`, routes);
    },
    { apiDocs: scalarDocs() },
  );
  const gate = new Admission();
  let server: ServerType;
  try {
    server = await listen(admitted(app, gate), config, options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS);
  } catch (err) {
    gate.stop();
    await releaseOwnership();
    await db.close();
    throw err;
  }
  scheduler.start();
  const retention = new Retention({ db, clock: deps.clock, log: deps.log, days: config.MEND_RETENTION_DAYS });
  const prune = () =>
    void retention.prune().catch((err: unknown) => deps.log("warn", "retention pass failed", { error: String(err) }));
  const pruneTimers = [setTimeout(prune, 5_000), setInterval(prune, PRUNE_EVERY_MS)];
  for (const t of pruneTimers) t.unref();
  // Long-lived chat connections (the Discord gateway) connect and retry in the background: one that
  // cannot be reached never stops the server.
  const chatStarted: Record<string, { stop(): Promise<void> }> = {};
  for (const { platform, conn } of deps.chat.platforms) {
    const started = conn.start?.(deps);
    if (started) chatStarted[platform.kind] = started;
  }
  const port = (server.address() as AddressInfo).port;
  self = `http://${/^(0\.0\.0\.0|::)$/.test(config.HOST) ? "localhost" : config.HOST.includes(":") ? `[${config.HOST}]` : config.HOST}:${port}`;
  return {
    url: `http://${config.HOST}:${port}`,
    port,
    deps,
    chatStarted,
    close: async () => {
      scheduler.stop();
      for (const t of pruneTimers) clearTimeout(t);
      await retention.stop();
      for (const started of Object.values(chatStarted)) await started.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      gate.stop();
      await deps.engine.idle();
      await deps.dispatcher.idle();
      await releaseOwnership();
      await db.close();
    },
  };
}
