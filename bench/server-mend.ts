// The mend service under test, in its own process: `node bench/server-mend.ts --db FILE --flows DIR`.
// Started exactly as `npm start` does (startServer with a parsed environment,
// real SQLite file in WAL mode, flows loaded from a folder); logs go to stdout
// like the real service (the bench discards them). BENCH_MEND_ENV (JSON) adds
// variables, e.g. the Slack settings of the chat scenarios.
import { parseEnv } from "../src/env";
import { startServer } from "../src/entry/server";
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
runChild(server.port, () => server.close());
