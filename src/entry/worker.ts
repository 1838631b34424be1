// The Cloudflare Workers entry (wrangler.toml `main`): the same Hono app as on Node, with D1 as the
// database and a Durable Object alarm (the Ticker) for retries and the outbox. Nothing is read or
// opened at import time: every invocation builds its services from its `env` (src/entry/worker-runtime.ts).
// Flows come through PUT /api/flows/:name (there is no flows folder on Workers); see docs/workers.md.
import {
  handleFetch,
  handleScheduled,
  TickerObject,
  type ExecutionContextLike,
  type WorkerEnv,
} from "./worker-runtime";

/** The Durable Object class bound as TICKER in wrangler.toml. */
export class Ticker extends TickerObject {}

export default {
  fetch(request: Request, env: WorkerEnv, ctx: ExecutionContextLike): Promise<Response> {
    return handleFetch(request, env, ctx);
  },
  scheduled(_controller: unknown, env: WorkerEnv, ctx: ExecutionContextLike): Promise<void> {
    return handleScheduled(env, ctx);
  },
};
