// One surface over mend for the per-platform suites (test/slack, test/discord, test/hub), so a suite
// runs the same way in-process (startHarness: the fake clock, SQLite :memory:, app.request(), the fakes
// behind the injected fetch) or, for the one end-to-end test per platform, on the real server on
// loopback. Time only goes by through `pass` and `until`: the fake clock in-process, real time on loopback.
import type { Deps } from "../../src/deps";
import { startTestServer, type TestServer } from "../api/server";
import { startUpstream, type Upstream } from "../fakes/upstream";
import { startHarness, type Driver, type Harness } from "./harness";

export interface Mend {
  deps: Deps;
  logs: string[];
  /** The scriptable upstream the test flows call (at `upstream.url`). */
  upstream: Upstream;
  /** A request to mend (path and query). */
  request(path: string, init?: RequestInit): Promise<Response>;
  api(path: string, init?: RequestInit & { json?: unknown }): Promise<Response>;
  putFlow(flow: Record<string, unknown>): Promise<Response>;
  waitForStatus(runId: string, statuses: string[], timeoutMs?: number): Promise<Record<string, unknown>>;
  /** mend's time. */
  now(): number;
  /** Lets `ms` go by. */
  pass(ms: number): Promise<void>;
  until<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, ms?: number, what?: string): Promise<T>;
  stop(): Promise<void>;
}

/** `api` sends MEND_API_TOKEN when the env sets one, as a client would. */
function withApi(request: Mend["request"], token: string | undefined): Pick<Mend, "api" | "putFlow"> {
  const api: Mend["api"] = (path, init = {}) => {
    const { json, ...rest } = init;
    const headers = new Headers(rest.headers);
    if (token && !headers.has("authorization")) headers.set("authorization", `Bearer ${token}`);
    if (json !== undefined && !headers.has("content-type")) headers.set("content-type", "application/json");
    return request(path, { ...rest, headers, body: json === undefined ? rest.body : JSON.stringify(json) });
  };
  return { api, putFlow: (flow) => api(`/api/flows/${String(flow.name)}`, { method: "PUT", json: flow }) };
}

function waitForStatusOf(m: Pick<Mend, "api" | "until">): Mend["waitForStatus"] {
  return async (runId, statuses, timeoutMs = 10_000) => {
    let last = "";
    try {
      return await m.until(
        async () => {
          const run = (await (await m.api(`/api/runs/${runId}`)).json()) as Record<string, unknown>;
          last = String(run.status);
          return statuses.includes(last) ? run : undefined;
        },
        timeoutMs,
        `run ${runId}`,
      );
    } catch {
      throw new Error(`run ${runId} is ${last}, expected ${statuses.join("|")}`);
    }
  };
}

/** mend in-process with `driver`'s fake platform; the upstream is reached through the injected fetch. */
export async function inProcess(
  driver: Driver & { fake(): { now: () => number } },
  env: Record<string, string>,
): Promise<Mend & { harness: Harness }> {
  const upstream = await startUpstream();
  const platform = driver.fetch.bind(driver);
  driver.fetch = (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    return url.startsWith(upstream.url) ? upstream.fetch(input, init) : platform(input, init);
  };
  const h = await startHarness(driver, env);
  driver.fake().now = () => h.clock.now();
  const request: Mend["request"] = (path, init) => Promise.resolve(h.app.request(path, init));
  const base = { ...withApi(request, env.MEND_API_TOKEN), until: h.until.bind(h) };
  return {
    harness: h,
    deps: h.deps,
    logs: h.logs,
    upstream,
    request,
    ...base,
    waitForStatus: waitForStatusOf(base),
    now: () => h.clock.now(),
    async pass(ms) {
      // Small steps, so work woken on the way (SQLite, the fakes) settles before time moves on.
      for (let left = ms; left > 0; left -= 100) await h.clock.advance(Math.min(100, left), 20);
    },
    async stop() {
      await h.close();
      await upstream.close();
    },
  };
}

/** The real server on loopback (its own SQLite file, real time): for the end-to-end tests. */
export async function onLoopback(
  env: Record<string, string>,
  options: Parameters<typeof startTestServer>[1] = {},
): Promise<Mend & { server: TestServer }> {
  const upstream = await startUpstream();
  const server = await startTestServer(env, options);
  const request: Mend["request"] = (path, init) => fetch(server.url + path, init);
  const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
  const until: Mend["until"] = async (probe, ms = 10_000, what = "condition") => {
    const end = Date.now() + ms;
    for (;;) {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
      if (Date.now() > end) throw new Error(`timed out (${ms} ms) waiting for ${what}`);
      await sleep(15);
    }
  };
  const base = { ...withApi(request, env.MEND_API_TOKEN), until };
  return {
    server,
    deps: server.deps,
    logs: server.logs,
    upstream,
    request,
    ...base,
    waitForStatus: waitForStatusOf(base),
    now: () => Date.now(),
    pass: sleep,
    async stop() {
      await server.stop();
      await upstream.close();
    },
  };
}

/** A handler `ops-<kind>` with `config`, and a flow whose only step POSTs to the upstream (one attempt). */
export async function failingFlowOn(
  e: Mend,
  kind: "slack" | "discord",
  name: string,
  config: Record<string, unknown>,
): Promise<void> {
  const res = await e.api("/api/handlers", { method: "POST", json: { name: `ops-${kind}`, kind, config } });
  if (res.status !== 201) throw new Error(`handler: ${res.status} ${await res.text()}`);
  const flow = await e.putFlow({
    name,
    steps: [{ id: "charge", http: { method: "POST", url: `${e.upstream.url}/charge` } }],
  });
  if (flow.status >= 300) throw new Error(`flow: ${flow.status} ${await flow.text()}`);
}

/** Triggers the flow and waits until its run has ended. */
export async function runOnce(
  e: Mend,
  flow = "orders",
  input: unknown = { order: 1 },
): Promise<Record<string, unknown>> {
  const res = await e.api(`/hooks/${flow}`, { method: "POST", json: input });
  const { run_id } = (await res.json()) as { run_id: string };
  return e.waitForStatus(run_id, ["succeeded", "recovered", "failed", "cancelled"]);
}
