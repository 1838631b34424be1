// The two runtimes the black-box suite runs against, behind one interface: the Node server
// (startServer on a free port, SQLite in a temp dir) and `wrangler dev` (workerd, a fresh local D1
// persisted to a temp dir, migrations applied first with `wrangler d1 migrations apply --local`).
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { parseEnv } from "../../src/env";
import { startServer } from "../../src/entry/server";

export interface Target {
  name: "node" | "workers";
  url: string;
  api(path: string, init?: RequestInit & { json?: unknown }): Promise<Response>;
  /** What the service printed (workers: wrangler's output), for failure messages. */
  logs: string[];
  stop(): Promise<void>;
}

export type StartTarget = (env: Record<string, string>) => Promise<Target>;

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

function apiFor(url: string) {
  return (path: string, init: RequestInit & { json?: unknown } = {}) => {
    const headers = new Headers(init.headers);
    let body = init.body;
    if (init.json !== undefined) {
      body = JSON.stringify(init.json);
      if (!headers.has("content-type")) headers.set("content-type", "application/json");
    }
    return fetch(url + path, { ...init, headers, body });
  };
}

export const startNode: StartTarget = async (env) => {
  const dir = mkdtempSync(join(tmpdir(), "mend-bb-node-"));
  mkdirSync(join(dir, "flows"));
  const logs: string[] = [];
  const config = parseEnv({
    PORT: "0",
    HOST: "127.0.0.1",
    MEND_DB: join(dir, "mend.db"),
    MEND_FLOWS_DIR: join(dir, "flows"),
    ...env,
  });
  const server = await startServer(config, {
    log: (level, msg, fields) => logs.push(`${level} ${msg} ${JSON.stringify(fields ?? {})}`),
  });
  return {
    name: "node",
    url: server.url,
    api: apiFor(server.url),
    logs,
    async stop() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
};

export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => res(port));
    });
  });
}

const WRANGLER = join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");

/** Offline and quiet: no telemetry, no Request.cf download, no prompts, no colours. */
function wranglerEnv(dir: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    WRANGLER_SEND_METRICS: "false",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    CI: "true",
    NO_COLOR: "1",
    FORCE_COLOR: "0",
    WRANGLER_LOG_PATH: join(dir, "logs"),
  };
}

export function startWorkersWith(opts: { startTimeoutMs?: number } = {}): StartTarget {
  return async (env) => {
    const dir = mkdtempSync(join(tmpdir(), "mend-bb-workers-"));
    const persist = join(dir, "state");
    const logs: string[] = [];
    const wenv = wranglerEnv(dir);
    await promisify(execFile)(
      process.execPath,
      [WRANGLER, "d1", "migrations", "apply", "mend", "--local", "--persist-to", persist],
      { cwd: ROOT, env: wenv, timeout: 120_000 },
    ).catch((err: { stdout?: string; stderr?: string; message: string }) => {
      throw new Error(`wrangler d1 migrations apply failed: ${err.message}\n${err.stdout ?? ""}\n${err.stderr ?? ""}`);
    });
    const port = await freePort();
    const inspector = await freePort();
    const vars = Object.entries(env).flatMap(([k, v]) => ["--var", `${k}:${v}`]);
    const child: ChildProcess = spawn(
      process.execPath,
      [
        WRANGLER,
        "dev",
        "--ip",
        "127.0.0.1",
        "--port",
        String(port),
        "--inspector-port",
        String(inspector),
        "--persist-to",
        persist,
        "--show-interactive-dev-session=false",
        ...vars,
      ],
      { cwd: ROOT, env: wenv, detached: true, stdio: ["ignore", "pipe", "pipe"] },
    );
    let exited: number | null | undefined;
    const exit = new Promise<void>((r) => child.once("exit", (code) => ((exited = code), r())));
    for (const s of [child.stdout!, child.stderr!])
      s.on("data", (b: Buffer) =>
        logs.push(
          ...b
            .toString()
            .split("\n")
            .filter((l) => l.trim()),
        ),
      );
    const url = `http://127.0.0.1:${port}`;
    const kill = async () => {
      if (exited !== undefined) return;
      try {
        process.kill(-child.pid!, "SIGTERM");
      } catch {
        /* already gone */
      }
      const t = setTimeout(() => {
        try {
          process.kill(-child.pid!, "SIGKILL");
        } catch {
          /* already gone */
        }
      }, 5_000);
      await exit;
      clearTimeout(t);
    };
    const deadline = Date.now() + (opts.startTimeoutMs ?? 90_000);
    for (;;) {
      if (exited !== undefined) throw new Error(`wrangler dev exited (${exited}) before serving:\n${logs.join("\n")}`);
      const ok = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) }).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (Date.now() > deadline) {
        await kill();
        throw new Error(
          `wrangler dev did not answer /healthz within ${opts.startTimeoutMs ?? 90_000} ms:\n${logs.join("\n")}`,
        );
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    return {
      name: "workers",
      url,
      api: apiFor(url),
      logs,
      async stop() {
        await kill();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  };
}
