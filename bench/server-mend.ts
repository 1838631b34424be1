// The mend service under test, in its own process: `node --import tsx bench/server-mend.ts --db FILE --flows DIR`.
// Started exactly as `npm start` does (startServer with a parsed environment,
// real SQLite file in WAL mode, flows loaded from a folder); logs go to stdout
// like the real service (the bench discards them).
import { parseEnv } from "../src/env";
import { startServer } from "../src/entry/server";
import { argOf, runChild } from "./child";

const config = parseEnv({ PORT: "0", HOST: "127.0.0.1", MEND_DB: argOf("db"), MEND_FLOWS_DIR: argOf("flows") });
const server = await startServer(config);
runChild(server.port, () => server.close());
