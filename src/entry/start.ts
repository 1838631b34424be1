// `mend start`: the Node service until SIGTERM/SIGINT. Every start-up failure is one line on stderr.
import { ConfigError, parseEnv } from "../env";
import { configSecrets, createNodeLog } from "./logger";
import { startServer, type RunningServer } from "./server";

// Past this a stop gives up waiting for requests and steps: they resume at the next start.
const STOP_DEADLINE_MS = 8_000;

export async function start(env: Record<string, string | undefined>): Promise<number> {
  let config;
  try {
    config = parseEnv(env);
  } catch (err) {
    console.error(`mend: ${(err as Error).message}`);
    return 1;
  }
  const { log, logger } = createNodeLog({ level: config.MEND_LOG_LEVEL, secrets: configSecrets(config) });
  process.on("unhandledRejection", (err) => log("error", "unhandled rejection", { error: String(err) }));
  let server: RunningServer;
  let exit!: (code: number) => void;
  const done = new Promise<number>((resolve) => (exit = resolve));
  try {
    server = await startServer(config, { log, onOwnershipLost: () => exit(1) });
  } catch (err) {
    const why =
      err instanceof ConfigError
        ? err.message
        : `cannot start: ${(err as Error)?.message?.split("\n")[0] ?? String(err)}`;
    console.error(`mend: ${why}`);
    return 1;
  }
  const flows = await server.deps.flows.list();
  const names = flows.map((f) => f.name).join(", ") || "none";
  log("info", `mend listening on ${server.url} (database ${config.MEND_DB}, ${flows.length} flow(s): ${names})`, {
    url: server.url,
    pid: process.pid,
    db: config.MEND_DB,
    flows: flows.length,
  });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log("info", "stopping", { signal });
    const force = setTimeout(() => {
      log("warn", "stop took too long; leaving the rest to the next start", { after_ms: STOP_DEADLINE_MS });
      exit(0);
    }, STOP_DEADLINE_MS);
    force.unref();
    server.close().then(
      () => exit(0),
      (err: unknown) => {
        log("error", "stop failed", { error: String(err) });
        exit(1);
      },
    );
  };
  process.once("SIGINT", () => stop("SIGINT"));
  process.once("SIGTERM", () => stop("SIGTERM"));
  const code = await done;
  logger.flush();
  return code;
}
