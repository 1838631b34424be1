// The whole app in-process: real SQLite in memory, real engine and scheduler, a routed fake fetch.
import { createApp } from "../../src/app";
import { parseEnv } from "../../src/env";
import { createServices } from "../../src/services";
import { openSqlite } from "../../src/store/sqlite-node";
import type { ScriptFn } from "../../src/engine/ports";

export type Route = (url: URL, init: RequestInit | undefined) => Response | Promise<Response>;

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
}

export function makeApp(opts: { env?: Record<string, string>; scripts?: Record<string, ScriptFn> } = {}) {
  const routes: Route[] = [];
  const calls: string[] = [];
  const logs: string[] = [];
  const fetchFn = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    calls.push(`${init?.method ?? "GET"} ${url.href}`);
    const route = routes.shift();
    if (!route)
      throw new TypeError("fetch failed", {
        cause: Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }),
      });
    return route(url, init);
  }) as typeof fetch;
  const db = openSqlite(":memory:");
  const { deps, scheduler } = createServices({
    config: parseEnv({ MEND_DB: ":memory:", ...opts.env }),
    db,
    fetch: fetchFn,
    userScripts: opts.scripts,
    log: (level, msg, fields) => logs.push(`${level} ${msg} ${JSON.stringify(fields ?? {})}`),
    pollMs: 10,
  });
  scheduler.start();
  const app = createApp(deps);
  const request = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const init: RequestInit = { method, headers: { ...headers } };
    if (body !== undefined) {
      init.body = typeof body === "string" ? body : JSON.stringify(body);
      (init.headers as Record<string, string>)["content-type"] ??= "application/json";
    }
    return app.request(path, init);
  };
  return {
    deps,
    app,
    routes,
    calls,
    logs,
    request,
    putFlow: (flow: Record<string, unknown>) => request("PUT", `/api/flows/${String(flow.name)}`, flow),
    /** Triggers with ?wait=true and answers the response. */
    trigger: (flow: string, input: unknown = {}) => request("POST", `/hooks/${flow}?wait=true`, input),
    async run(id: string): Promise<Record<string, any>> {
      return (await (await request("GET", `/api/runs/${id}`)).json()) as Record<string, any>;
    },
    async close() {
      scheduler.stop();
      await deps.engine.idle();
      await db.close();
    },
  };
}
