// Starts the real service on a free port with its own temp SQLite file.
import { mkdtempSync, rmSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseEnv } from "../../src/env";
import { startServer, type RunningServer, type StartOptions } from "../../src/entry/server";

export interface TestServer extends RunningServer {
  dir: string;
  logs: string[];
  api(path: string, init?: RequestInit & { json?: unknown }): Promise<Response>;
  putFlow(flow: Record<string, unknown>): Promise<Response>;
  waitForStatus(runId: string, statuses: string[], timeoutMs?: number): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

export async function startTestServer(
  env: Record<string, string> = {},
  options: Partial<StartOptions> = {},
): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), "mend-test-"));
  mkdirSync(join(dir, "flows"));
  const config = parseEnv({ PORT: "0", MEND_DB: join(dir, "mend.db"), MEND_FLOWS_DIR: join(dir, "flows"), ...env });
  const logs: string[] = [];
  const server = await startServer(config, {
    pollMs: 50,
    log: (level, msg, fields) => logs.push(`${level} ${msg} ${JSON.stringify(fields ?? {})}`),
    ...options,
  });
  const token = env.MEND_API_TOKEN;
  const api = (path: string, init: RequestInit & { json?: unknown } = {}) => {
    const headers = new Headers(init.headers);
    if (token && !headers.has("authorization")) headers.set("authorization", `Bearer ${token}`);
    let body = init.body;
    if (init.json !== undefined) {
      body = JSON.stringify(init.json);
      if (!headers.has("content-type")) headers.set("content-type", "application/json");
    }
    return fetch(server.url + path, { ...init, headers, body });
  };
  return {
    ...server,
    dir,
    logs,
    api,
    putFlow: (flow) => api(`/api/flows/${String(flow.name)}`, { method: "PUT", json: flow }),
    async waitForStatus(runId, statuses, timeoutMs = 10_000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const res = await api(`/api/runs/${runId}`);
        const run = (await res.json()) as Record<string, unknown>;
        if (statuses.includes(String(run.status))) return run;
        if (Date.now() > end) throw new Error(`run ${runId} is ${String(run.status)}, expected ${statuses.join("|")}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async stop() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
