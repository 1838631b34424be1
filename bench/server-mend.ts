// The mend service under test, in its own process: `node bench/server-mend.ts --db FILE --flows DIR`.
// Started exactly as `npm start` does (startServer with a parsed environment,
// real SQLite file in WAL mode, flows loaded from a folder); logs go to stdout
// like the real service (the bench discards them). BENCH_MEND_ENV (JSON) adds
// variables, e.g. the Slack settings of the chat scenarios.
import { parseEnv } from "../src/env";
import { startServer } from "../src/entry/server";
import type { SqliteDb } from "../src/store/sqlite-node";
import { argOf, runChild } from "./child";

const extra = JSON.parse(process.env.BENCH_MEND_ENV ?? "{}") as Record<string, string>;
const config = parseEnv({
  ...extra,
  PORT: "0",
  HOST: "127.0.0.1",
  MEND_DB: argOf("db"),
  MEND_FLOWS_DIR: argOf("flows"),
});
const server = await startServer(config);
// The WAL's largest size, looked at every 20 ms (bench/settings.ts walCheck).
const checkpoints = (server.deps.db as SqliteDb).checkpoints;
let walMaxBytes = 0;
setInterval(() => (walMaxBytes = Math.max(walMaxBytes, checkpoints?.walBytes() ?? 0)), 20).unref();
runChild(
  server.port,
  () => server.close(),
  () => ({ walMaxBytes, worker: config.MEND_WAL_CHECKPOINT === "worker" ? 1 : 0, ...checkpoints?.stats }),
);
