// The black-box suite against the Node server (SQLite file, @hono/node-server).
import { blackboxSuite } from "./suite";
import { startNode } from "./targets";

blackboxSuite("node", startNode);
