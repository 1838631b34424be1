// The pages and the scheduler's polls read through indexes, whatever the history's size: every statement
// the list (each filter it offers, alone and together), the run page and one pass of the periodic work run
// on a real server is EXPLAINed with the parameters it ran with, and none reads a whole growing table.
// (SQLite plans without statistics here, as mend runs; so these plans are the ones a 1M-run hub gets.)
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FixedAlerts } from "../../src/chat/fixed";
import { Browser, callFlow, runTo, startPages, type PagesEnv } from "./helpers";

const GROWING = /\bSCAN (runs|step_attempts|outbox|alerts|escalations|actions|action_claims)\b(?! USING)/;

interface Ran {
  sql: string;
  params: unknown[];
}

let env: PagesEnv;
let b: Browser;
let failedId: string;

/** Records every statement better-sqlite3 runs until the returned function is called. */
function record(client: object): { ran: Ran[]; stop: () => void } {
  const proto = Object.getPrototypeOf((client as { prepare(s: string): object }).prepare("select 1")) as Record<
    string,
    (...a: unknown[]) => unknown
  >;
  const ran: Ran[] = [];
  const originals = (["all", "get", "run"] as const).map((name) => [name, proto[name]!] as const);
  for (const [name, original] of originals)
    proto[name] = function (this: { source: string }, ...params: unknown[]) {
      ran.push({ sql: this.source, params });
      return original.apply(this, params);
    };
  return { ran, stop: () => originals.forEach(([name, original]) => (proto[name] = original)) };
}

function planOf(client: object, r: Ran): string {
  const db = client as { prepare(s: string): { all(...p: unknown[]): { detail: string }[] } };
  return db
    .prepare(`explain query plan ${r.sql}`)
    .all(...r.params)
    .map((x) => x.detail)
    .join("; ");
}

beforeAll(async () => {
  env = await startPages();
  const { s, up } = env;
  b = new Browser(s.url);
  expect((await s.putFlow(callFlow("orders", up.url))).status).toBe(201);
  up.script([{ status: 500, body: { error: "down" } }], { status: 200, body: { ok: true } });
  failedId = await runTo(s, "orders", { order: 1, customer: "ada@example.com" });
  await runTo(s, "orders", { order: 2, customer: "bob@example.com" });
});

afterAll(async () => {
  await env?.stop();
});

describe("query plans", () => {
  it("no page and no periodic pass reads a whole growing table", async () => {
    const { s } = env;
    const client = s.deps.db.client!;
    const mid = new Date(Date.now() - 3_600_000).toISOString();
    const pages = [
      "/",
      "/?status=failed",
      "/?flow=orders",
      "/?flow=orders&status=failed",
      `/?cursor=${failedId}`,
      `/?q=${failedId.slice(0, 12)}`,
      "/?q=ada%40example.com",
      "/?q=example&status=failed",
      "/?q=example&flow=orders&since=1h",
      "/?since=1h",
      `/?until=${mid}&status=failed`,
      `/?since=2d&until=${mid}&flow=orders`,
      `/?q=example&until=${mid}`,
      `/runs/${failedId}`,
    ];
    const rec = record(client);
    try {
      for (const p of pages) expect((await b.get(p)).status, p).toBe(200);
      await new FixedAlerts({ chat: s.deps.chat, clock: s.deps.clock, log: () => undefined }).tick();
      await s.deps.chat.alerts.following(); // what MessageUpdates.tick reads once any alert exists
      await s.deps.chat.alerts.mutesEnded(Date.now()); // and its nextDueAt
      await s.deps.chat.alerts.nextMuteEnd();
      // A bulk action's selection ("everything matching"): failed runs of the last day.
      await s.deps.runs.selectIds({ status: "failed", since: Date.now() - 86_400_000 }, 1001);
    } finally {
      rec.stop();
    }
    const plans = new Map<string, string>();
    for (const r of rec.ran)
      if (/^\s*(select|update|delete|with)\b/i.test(r.sql) && !plans.has(r.sql)) plans.set(r.sql, planOf(client, r));
    const scans = [...plans].filter(([, p]) => GROWING.test(p)).map(([sql, p]) => `${p}  <-  ${sql.slice(0, 160)}`);
    expect(scans).toEqual([]);
    const find = (re: RegExp) => [...plans].filter(([sql]) => re.test(sql)).map(([, p]) => p);
    // A flow and a status together: one index for both, newest first.
    expect(find(/"runs"\."flow" = \? and "runs"\."status" = \?\) order by "runs"\."id" desc/)).toEqual([
      expect.stringMatching(/^SEARCH runs USING INDEX runs_flow_status \(flow=\? AND status=\?\)$/),
    ]);
    // Messages following a retry (every scheduler pass): only the alerts that do.
    expect(find(/'\$\.activity\.phase'\) = 'running'/)).toEqual([
      expect.stringMatching(/^SCAN alerts USING INDEX alerts_following$/),
    ]);
    // Messages whose mute has ended, and the next end: only the muted ones.
    expect(find(/'\$\.facts\.muted\.until'\) is not null/)).toEqual([
      expect.stringMatching(/^(SCAN|SEARCH) alerts USING INDEX alerts_muted$/),
      expect.stringMatching(/^(SCAN|SEARCH) alerts USING INDEX alerts_muted$/),
    ]);
    // Open alerts fixed by a later success: only the open ones, then their flow's successes after them.
    expect(find(/s\.status = 'succeeded'/)).toEqual([
      expect.stringMatching(/^SEARCH alerts USING INDEX alerts_open \(created_at>\?\);.*runs_succeeded/),
    ]);
    // A bulk selection in a time window: the window as an id range, so it stops at the window's start.
    expect(find(/^select "id" from "runs" where \("runs"\."status" = \? and \+"runs"\."created_at" >= \?/)).toEqual([
      expect.stringMatching(/^SEARCH runs USING INDEX runs_status \(status=\? AND id>\?\)/),
    ]);
    // A word and a time window: FTS5 seeks to the window's rowids instead of reading every newer match.
    expect(find(/runs_fts\.rowid <= coalesce/)).toEqual([expect.stringMatching(/VIRTUAL TABLE INDEX \d+:M\d*</)]);
  });
});
