// The hand-written baselines, in their own process:
//   node --import tsx bench/server-baseline.ts --db FILE --upstream URL
// The same stack as mend (Hono on @hono/node-server, better-sqlite3 on a WAL
// file with the pragmas of src/store/sqlite-node.ts, ulid ids), nothing else:
//   POST /accept/:flow  one transaction with one insert of a queued run → 202 { run_id, status }
//   POST /flow/:flow    transform → POST to the upstream with fetch → transform,
//                       then one transaction of four inserts (the run + three step
//                       attempts) → 200 { run_id, status, output }
// Database access is RAW better-sqlite3 (prepared statements, db.transaction),
// not drizzle: this is the floor, so mend's ORM layer counts as mend's cost.
// The tables have the shape of mend's `runs` and `step_attempts` (same
// columns, JSON as text, same primary keys and indexes as db/migrations
// 0000 + 0001), so the floor pays for realistic rows and index updates.
import { serve } from "@hono/node-server";
import Database from "better-sqlite3";
import { Hono } from "hono";
import type { AddressInfo } from "node:net";
import { ulid } from "ulid";
import { argOf, runChild } from "./child";

const db = new Database(argOf("db"));
db.pragma("journal_mode = WAL");
db.pragma("synchronous = NORMAL");
db.pragma("busy_timeout = 5000");
db.pragma("foreign_keys = ON");
db.exec(`
  CREATE TABLE IF NOT EXISTS runs (
    id text PRIMARY KEY NOT NULL, flow text NOT NULL, flow_version integer NOT NULL, status text NOT NULL,
    input text, output text, error text, cursor text NOT NULL, due_at integer, lease_until integer,
    replay_of text, external text, created_at integer NOT NULL, updated_at integer NOT NULL, finished_at integer
  );
  CREATE INDEX IF NOT EXISTS runs_due ON runs (status, due_at);
  CREATE INDEX IF NOT EXISTS runs_flow ON runs (flow, id);
  CREATE INDEX IF NOT EXISTS runs_status ON runs (status, id);
  CREATE INDEX IF NOT EXISTS runs_created ON runs (created_at, flow, status);
  CREATE INDEX IF NOT EXISTS runs_replay_of ON runs (replay_of) WHERE replay_of IS NOT NULL;
  CREATE TABLE IF NOT EXISTS step_attempts (
    run_id text NOT NULL, step text NOT NULL, attempt integer NOT NULL, phase text NOT NULL, status text NOT NULL,
    started_at integer NOT NULL, finished_at integer, duration_ms integer, output text, error text,
    PRIMARY KEY (run_id, step, attempt)
  );
`);

const upstream = argOf("upstream");

const insertRun = db.prepare(`
  INSERT INTO runs (id, flow, flow_version, status, input, output, error, cursor, due_at, lease_until, replay_of, external, created_at, updated_at, finished_at)
  VALUES (@id, @flow, 1, @status, @input, @output, NULL, @cursor, @due_at, @lease_until, NULL, NULL, @created_at, @updated_at, @finished_at)`);
const insertAttempt = db.prepare(`
  INSERT INTO step_attempts (run_id, step, attempt, phase, status, started_at, finished_at, duration_ms, output, error)
  VALUES (@run_id, @step, 1, 'main', 'succeeded', @started_at, @finished_at, @duration_ms, @output, NULL)`);

interface RunRow {
  id: string;
  flow: string;
  status: string;
  input: string;
  output: string | null;
  cursor: string;
  due_at: number | null;
  lease_until: number | null;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
}
interface AttemptRow {
  run_id: string;
  step: string;
  started_at: number;
  finished_at: number;
  duration_ms: number;
  output: string;
}

const acceptTx = db.transaction((run: RunRow) => {
  insertRun.run(run);
});
const flowTx = db.transaction((run: RunRow, attempts: AttemptRow[]) => {
  insertRun.run(run);
  for (const a of attempts) insertAttempt.run(a);
});

interface Input {
  order?: unknown;
  customer?: unknown;
  amount?: unknown;
}

const app = new Hono();

app.post("/accept/:flow", async (c) => {
  const input = (await c.req.json()) as Input;
  const now = Date.now();
  const id = ulid();
  acceptTx({
    id,
    flow: c.req.param("flow"),
    status: "queued",
    input: JSON.stringify(input),
    output: null,
    cursor: JSON.stringify({ phase: "main", index: 0, attempt: 0 }),
    due_at: now,
    lease_until: now + 60_000,
    created_at: now,
    updated_at: now,
    finished_at: null,
  });
  return c.json({ run_id: id, status: "queued" }, 202);
});

app.post("/flow/:flow", async (c) => {
  const input = (await c.req.json()) as Input;
  const id = ulid();
  const t0 = Date.now();
  // The same three steps as the mend flow `bench-ok`: compute → http POST → compute.
  const prepare = { order: input.order, customer: input.customer, amount: input.amount };
  const t1 = Date.now();
  const res = await fetch(`${upstream}/ok`, {
    method: "POST",
    headers: { "content-type": "application/json", "idempotency-key": `${id}:charge` },
    body: JSON.stringify(prepare),
    // A careful hand-written handler bounds the call too (mend's steps have a timeout).
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  const t2 = Date.now();
  if (res.status !== 200)
    return c.json({ run_id: id, status: "failed", error: { message: `upstream returned ${res.status}` } }, 502);
  const charge = {
    status: res.status,
    headers: Object.fromEntries(res.headers),
    body: JSON.parse(text) as { id?: unknown },
  };
  const output = { order: prepare.order, status: charge.status, charge: charge.body.id };
  const t3 = Date.now();
  const outputText = JSON.stringify(output);
  flowTx(
    {
      id,
      flow: c.req.param("flow"),
      status: "succeeded",
      input: JSON.stringify(input),
      output: outputText,
      cursor: JSON.stringify({ phase: "main", index: 3, attempt: 0 }),
      due_at: null,
      lease_until: null,
      created_at: t0,
      updated_at: t3,
      finished_at: t3,
    },
    [
      {
        run_id: id,
        step: "prepare",
        started_at: t0,
        finished_at: t1,
        duration_ms: t1 - t0,
        output: JSON.stringify(prepare),
      },
      {
        run_id: id,
        step: "charge",
        started_at: t1,
        finished_at: t2,
        duration_ms: t2 - t1,
        output: JSON.stringify(charge),
      },
      { run_id: id, step: "summarize", started_at: t2, finished_at: t3, duration_ms: t3 - t2, output: outputText },
    ],
  );
  return c.json({ run_id: id, status: "succeeded", output }, 200);
});

const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info: AddressInfo) => {
  runChild(info.port, async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    db.close();
  });
});
