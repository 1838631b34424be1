// Counts D1 round trips per run in the Workers runtime (issue 13): the Worker's fetch handler
// (src/entry/worker-runtime.ts handleFetch, the code wrangler deploys) runs in Node against a real
// D1 (workerd's, through miniflare's binding proxy; offline) wrapped so that every call that goes
// to the database counts: a statement's run/all/first/raw, a batch (one trip, however many
// statements), an exec. The http step calls a local upstream, the Slack alert a fake Slack.
// Used by test/workers/d1-trips.test.ts and printed by `npm run bench`.
import { Miniflare } from "miniflare";
import { handleFetch, type WorkerEnv } from "../../src/entry/worker-runtime";
import type { D1Binding } from "../../src/store/d1";
import { startFakeSlack } from "../fakes/slack";
import { startUpstream } from "../fakes/upstream";
import { migrationStatements } from "../store/backends";

export interface D1Trips {
  /** A `?wait=true` run of compute → http POST → compute. */
  flowOk: number;
  /** A `?wait=true` run whose http step fails once, until its Slack alert is posted and recorded. */
  failedWithAlert: number;
  /** The SQL of each trip, per run (a batch lists its statements joined with " ; "). */
  sql: { flowOk: string[]; failedWithAlert: string[] };
}

type Stmt = {
  bind(...v: unknown[]): Stmt;
  run(): Promise<unknown>;
  all(): Promise<unknown>;
  first(c?: string): Promise<unknown>;
  raw(o?: unknown): Promise<unknown>;
};

/** The binding, with a log of the trips made through it. */
function counting(inner: D1Binding, trips: string[]): D1Binding {
  const wrap = (stmt: Stmt, sql: string): Stmt & { inner: Stmt; sql: string } => ({
    inner: stmt,
    sql,
    bind: (...v) => wrap(stmt.bind(...v), sql),
    run: () => (trips.push(sql), stmt.run()),
    all: () => (trips.push(sql), stmt.all()),
    first: (c) => (trips.push(sql), stmt.first(c)),
    raw: (o) => (trips.push(sql), stmt.raw(o)),
  });
  return {
    prepare: (sql) => wrap(inner.prepare(sql) as Stmt, sql),
    batch: (stmts) => {
      const list = stmts as { inner: Stmt; sql: string }[];
      trips.push(list.map((s) => s.sql).join(" ; "));
      return inner.batch(list.map((s) => s.inner));
    },
    exec: (sql) => (trips.push(sql), inner.exec(sql)),
  };
}

/** Each statement of a trip, shortened (a batch keeps its " ; " between statements). */
const short = (sql: string) =>
  sql
    .split(" ; ")
    .map((s) => s.replace(/\s+/g, " ").slice(0, 120))
    .join(" ; ");

export async function countD1Trips(): Promise<D1Trips> {
  const mf = new Miniflare({
    modules: true,
    script: "export default { fetch() { return new Response(null, { status: 404 }); } };",
    d1Databases: ["DB"],
  });
  const upstream = await startUpstream();
  const slack = await startFakeSlack();
  try {
    const raw = (await mf.getD1Database("DB")) as unknown as D1Binding;
    for (const stmt of migrationStatements()) await (raw.prepare(stmt) as Stmt).run();
    const trips: string[] = [];
    const ticker = { fetch: async () => new Response(null, { status: 204 }) };
    const env: WorkerEnv = {
      DB: counting(raw, trips),
      TICKER: { idFromName: () => "ticker", get: () => ticker },
      SLACK_BOT_TOKEN: slack.token,
      SLACK_SIGNING_SECRET: "d1-trips-signing-secret",
      SLACK_API_URL: slack.apiUrl,
      // Request lines would land in the bench's output.
      MEND_LOG_LEVEL: "warn",
    };
    /** One request through the Worker's fetch handler; resolves once everything it left in waitUntil settled. */
    const call = async (path: string, init: RequestInit = {}): Promise<Response> => {
      const pending: Promise<unknown>[] = [];
      const res = await handleFetch(new Request(`http://mend.test${path}`, init), env, {
        waitUntil: (p) => void pending.push(p),
      });
      await res.arrayBuffer();
      while (pending.length) await Promise.allSettled(pending.splice(0));
      return res;
    };
    const json = (method: string, body: unknown): RequestInit => ({
      method,
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const ok = async (res: Promise<Response>, what: string) => {
      const r = await res;
      if (r.status >= 300) throw new Error(`${what}: HTTP ${r.status}`);
    };
    await ok(
      call("/api/handlers", json("POST", { name: "ops-slack", kind: "slack", config: { channel: "C0OPS" } })),
      "handler",
    );
    await ok(
      call(
        "/api/flows/trips-ok",
        json("PUT", {
          name: "trips-ok",
          steps: [
            { id: "prepare", compute: { order: "{{ input.order }}" } },
            { id: "charge", http: { method: "POST", url: `${upstream.url}/ok`, body: "{{ steps.prepare }}" } },
            { id: "summarize", compute: { order: "{{ steps.prepare.order }}", status: "{{ steps.charge.status }}" } },
          ],
        }),
      ),
      "flow trips-ok",
    );
    await ok(
      call(
        "/api/flows/trips-fail",
        json("PUT", {
          name: "trips-fail",
          steps: [{ id: "charge", http: { method: "POST", url: `${upstream.url}/fail` }, retry: { max_attempts: 1 } }],
        }),
      ),
      "flow trips-fail",
    );

    upstream.script([], { status: 200, body: { id: "ch_1" } });
    trips.length = 0;
    await ok(call("/hooks/trips-ok?wait=true", json("POST", { order: 1 })), "flow-ok run");
    const flowOk = trips.splice(0).map(short);

    upstream.script([{ status: 500, body: { error: "down" } }]);
    const failed = await call("/hooks/trips-fail?wait=true", json("POST", { order: 2 }));
    if (failed.status !== 500 && failed.status !== 502) throw new Error(`failed run answered HTTP ${failed.status}`);
    await slack.waitFor(() => slack.callsOf("chat.postMessage", true).length === 1, 10_000, "the Slack alert");
    return { flowOk: flowOk.length, failedWithAlert: trips.length, sql: { flowOk, failedWithAlert: trips.map(short) } };
  } finally {
    await slack.close();
    await upstream.close();
    await mf.dispose();
  }
}
