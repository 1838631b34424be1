// `npm start`: the Node service on PORT with SQLite at MEND_DB.
import { ConfigError, parseEnv } from "../env";
import { startServer } from "./server";

async function main(): Promise<void> {
  const config = parseEnv(process.env);
  const server = await startServer(config);
  const flows = await server.deps.flows.list();
  console.log(`mend listening on ${server.url} (database ${config.MEND_DB}, ${flows.length} flow(s): ${flows.map((f) => f.name).join(", ") || "none"})`);
  const stop = () => void server.close().then(() => process.exit(0));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

process.on("unhandledRejection", (err) => console.error(JSON.stringify({ level: "error", msg: "unhandled rejection", error: String(err) })));

main().catch((err: unknown) => {
  if (err instanceof ConfigError) console.error(`mend: ${err.message}`);
  else console.error(`mend: cannot start: ${(err as Error)?.message ?? String(err)}`);
  process.exit(1);
});
