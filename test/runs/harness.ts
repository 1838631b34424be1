// In-process mend for the run actions tests: createServices on SQLite :memory: with the fake
// clock and a scripted fetch (flow http steps and external callbacks alike), driven by app.request().
import { createApp } from "../../src/app";
import { parseEnv } from "../../src/env";
import type { RunChange } from "../../src/runs/actions";
import { createServices } from "../../src/services";
import { openSqlite } from "../../src/store/sqlite-node";
import { FakeClock } from "../fakes/fake-clock";
import { FakeFetch, reply } from "../engine/harness";

export const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
export const UP = "https://up.example";
export { reply };

/** A JSON answer as tests read it: any field, any depth. */
// biome-ignore lint/suspicious/noExplicitAny: test reads of JSON answers
export type Json = Record<string, any>;

export interface Answer {
  status: number;
  headers: Headers;
  body: Json;
}

export async function startMend(env: Record<string, string> = {}) {
  const clock = new FakeClock();
  const http = new FakeFetch();
  const tasks = new Set<Promise<unknown>>();
  const waitUntil = (p: Promise<unknown>) => {
    const t = p.catch(() => undefined).finally(() => tasks.delete(t));
    tasks.add(t);
  };
  const logs: string[] = [];
  const config = parseEnv({ MEND_DB: ":memory:", MEND_WEBHOOK_SECRET: SECRET, ...env });
  const { deps } = createServices({
    config,
    db: openSqlite(":memory:"),
    clock,
    fetch: http.fetch,
    waitUntil,
    log: (l, m, f) => logs.push(`${l} ${m} ${JSON.stringify(f ?? {})}`),
  });
  const app = createApp(deps);
  const changes: RunChange[] = [];
  deps.runActions.onChange((c) => void changes.push(c));

  /** Waits until no run executes and no background task is left. */
  async function settle(): Promise<void> {
    for (let i = 0; i < 100; i++) {
      await deps.engine.idle();
      if (tasks.size === 0) return;
      await Promise.allSettled([...tasks]);
    }
  }

  async function api(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Answer> {
    const init: RequestInit = { method, headers: { ...headers } };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      (init.headers as Record<string, string>)["content-type"] = "application/json";
    }
    const res = await app.request(path, init);
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : {} };
  }

  async function putFlow(flow: Record<string, unknown>): Promise<number> {
    const r = await api("PUT", `/api/flows/${String(flow.name)}`, flow);
    if (r.status !== 200 && r.status !== 201) throw new Error(`flow not saved: ${JSON.stringify(r.body)}`);
    return r.body.version as number;
  }

  /** Triggers a run and waits for it to end; answers the run as GET /api/runs/:id shows it. */
  async function run(flow: string, input: unknown = {}): Promise<Json> {
    const r = await api("POST", `/hooks/${flow}`, input);
    if (r.status !== 202) throw new Error(`not triggered: ${JSON.stringify(r.body)}`);
    await settle();
    return (await api("GET", `/api/runs/${r.body.run_id}`)).body;
  }

  const get = async (id: string) => (await api("GET", `/api/runs/${id}`)).body;

  /** Reports an external failure (POST /api/failures) and answers its run id. */
  async function report(extra: Record<string, unknown> = {}): Promise<string> {
    const r = await api("POST", "/api/failures", {
      source: "ci",
      job: "nightly-build",
      error: { message: "exit 1" },
      ...extra,
    });
    if (r.status !== 202) throw new Error(`not reported: ${JSON.stringify(r.body)}`);
    await settle();
    return r.body.run_id as string;
  }

  return { clock, http, deps, app, logs, changes, settle, api, putFlow, run, get, report };
}

export type Mend = Awaited<ReturnType<typeof startMend>>;
