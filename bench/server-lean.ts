// The lean hand-written route (issue 13), in its own process:
//   node bench/server-lean.ts --db FILE --upstream URL
//   POST /lean/:flow  transform → POST to the upstream with fetch → transform, then one
//                     transaction of four inserts (a runs row + three step_attempts rows)
//                     → 200 { run_id, status, output }
// What a person would write by hand: Hono, global fetch, integer primary keys, WAL with
// synchronous=NORMAL and one index (step_attempts.run_id). No ulid, no ORM, no timeout.
import { serve } from "@hono/node-server";
import Database from "better-sqlite3";
import { Hono } from "hono";
import type { AddressInfo } from "node:net";
import { argOf, runChild } from "./child";

const db = new Database(argOf("db"));
db.pragma("journal_mode = WAL");
db.pragma("synchronous = NORMAL");
db.exec(`
  CREATE TABLE IF NOT EXISTS runs (
    id integer PRIMARY KEY, flow text NOT NULL, status text NOT NULL, input text, output text,
    created_at integer NOT NULL, finished_at integer
  );
  CREATE TABLE IF NOT EXISTS step_attempts (
    id integer PRIMARY KEY, run_id integer NOT NULL, step text NOT NULL, status text NOT NULL,
    started_at integer NOT NULL, finished_at integer NOT NULL, output text
  );
  CREATE INDEX IF NOT EXISTS step_attempts_run ON step_attempts (run_id);
`);

const upstream = argOf("upstream");
const insertRun = db.prepare(
  "INSERT INTO runs (flow, status, input, output, created_at, finished_at) VALUES (?, ?, ?, ?, ?, ?)",
);
const insertAttempt = db.prepare(
  "INSERT INTO step_attempts (run_id, step, status, started_at, finished_at, output) VALUES (?, ?, 'succeeded', ?, ?, ?)",
);

const save = db.transaction((flow: string, input: string, output: string, t: number[], outputs: string[]) => {
  const id = Number(insertRun.run(flow, "succeeded", input, output, t[0], t[3]).lastInsertRowid);
  insertAttempt.run(id, "prepare", t[0], t[1], outputs[0]);
  insertAttempt.run(id, "charge", t[1], t[2], outputs[1]);
  insertAttempt.run(id, "summarize", t[2], t[3], outputs[2]);
  return id;
});

const app = new Hono();

app.post("/lean/:flow", async (c) => {
  const input = (await c.req.json()) as { order?: unknown; customer?: unknown; amount?: unknown };
  const t0 = Date.now();
  const prepare = { order: input.order, customer: input.customer, amount: input.amount };
  const t1 = Date.now();
  const res = await fetch(`${upstream}/ok`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(prepare),
  });
  const charge = { status: res.status, body: (await res.json()) as { id?: unknown } };
  const t2 = Date.now();
  if (res.status !== 200)
    return c.json({ status: "failed", error: { message: `upstream returned ${res.status}` } }, 502);
  const output = { order: prepare.order, status: charge.status, charge: charge.body.id };
  const t3 = Date.now();
  const outputText = JSON.stringify(output);
  const id = save(
    c.req.param("flow"),
    JSON.stringify(input),
    outputText,
    [t0, t1, t2, t3],
    [JSON.stringify(prepare), JSON.stringify(charge), outputText],
  );
  return c.json({ run_id: id, status: "succeeded", output }, 200);
});

const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, (info: AddressInfo) => {
  runChild(info.port, async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    db.close();
  });
});
