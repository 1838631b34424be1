// The black-box suite against `wrangler dev` (workerd with a fresh local D1), started once for the
// whole file on a free loopback port and stopped at the end.
import { blackboxSuite } from "./suite";
import { startWorkersWith } from "./targets";

blackboxSuite("workers (wrangler dev, D1)", startWorkersWith({ startTimeoutMs: 90_000 }), { startTimeoutMs: 150_000 });
