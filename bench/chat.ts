// The chat scenarios of issue 13: chat is the control plane, so it must stay quick while the
// data plane is busy. Each starts mend with Slack on, pointed at the fake Slack of the tests
// (bench/slack.ts, its own process), a `slack` handler for channel C0BENCH and grouping off
// (MEND_GROUP_WINDOW_S=0: every failure posts its own message, the worst case).
//
//   alert-latency     flow-ok at a fixed 200 runs/s, and meanwhile 10 runs/s of `bench-alert`
//                     (one http step that gets 500, no retries). Per failed run: from its end
//                     (runs.finished_at) to its chat.postMessage reaching the fake Slack.
//   click-under-load  first N failed runs and their alerts; then flow-ok at full load (50
//                     connections, no rate limit) and meanwhile 20 signed Retry clicks per second
//                     on those alerts, built from the buttons mend posted. Per click: until its
//                     HTTP answer (the Slack ack).
import Database from "better-sqlite3";
import { join } from "node:path";
import { signSlackRequest } from "../src/chat/slack/verify";
import { drive } from "./drive";
import { RssSampler, startChild, type Child } from "./procs";
import { SECONDS, fmt, getJson, percentile, walCheck } from "./settings";

export const CHAT_SCENARIOS = ["alert-latency", "click-under-load"];

export interface ChatOutcome {
  name: string;
  what: string;
  samples: number;
  p50: number;
  p99: number;
  max: number;
  loadRunsPerSec: number;
  loadP99: number;
  peakRss: number;
  checks: string[];
  failures: string[];
}

interface Ctx {
  /** The scenario's name in the report and its database file (default: its kind). */
  label?: string;
  /** More of mend's variables (MEND_WAL_CHECKPOINT). */
  env?: Record<string, string>;
  dir: string;
  flowsDir: string;
  upstream: Child;
  noisy: string[];
}

interface Post {
  at: number;
  answer: { channel: string; ts: string; message: { text: string; blocks: Block[] } };
}
type Block = Record<string, any>;

const SIGNING_SECRET = "bench-signing-secret-0123456789abcdef";
const CHANNEL = "C0BENCH";
const USER = { id: "UBENCH", username: "oncall" };
const ULID = /[0-9A-HJKMNP-TV-Z]{26}/g;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The failing flow whose alerts are measured: one attempt, then the alert. */
export function alertFlow(upstream: string): Record<string, unknown> {
  return {
    name: "bench-alert",
    description: "bench: an http step that gets 500 once; its failure is alerted in Slack",
    steps: [
      {
        id: "charge",
        http: { method: "POST", url: `${upstream}/fail`, body: "{{ input }}" },
        retry: { max_attempts: 1 },
      },
    ],
  };
}

async function waitUntil<T>(probe: () => Promise<T | undefined>, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

export async function runChatScenario(name: string, ctx: Ctx): Promise<ChatOutcome> {
  const slack = await startChild(`${name}-slack`, "slack.ts", []);
  const label = ctx.label ?? name;
  const file = join(ctx.dir, `${label.replace(/\W+/g, "_")}.db`);
  const { token } = await slack.dump<{ token: string }>();
  const env = {
    SLACK_BOT_TOKEN: token,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: `${slack.url}/api/`,
    SLACK_ALLOWED_USERS: USER.id,
    MEND_GROUP_WINDOW_S: "0",
    ...ctx.env,
  };
  const server = await startChild(label, "server-mend.ts", ["--db", file, "--flows", ctx.flowsDir], {
    profile: true,
    env: { BENCH_MEND_ENV: JSON.stringify(env) },
  });
  const checks: string[] = [];
  const failures: string[] = [];
  try {
    await getJson(`${server.url}/api/handlers`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "ops-slack", kind: "slack", config: { channel: CHANNEL } }),
    });
    const rss = new RssSampler(server);
    rss.start();
    const measure = name === "alert-latency" ? alertLatency : clickUnderLoad;
    const m = await measure(server, slack, file, checks, failures);
    const peakRss = await rss.stop();
    checks.push(walCheck(await server.ask("stats")));
    await server.stop();
    const sorted = m.samples.sort((a, b) => a - b);
    checks.push(
      `samples ms: p50 ${fmt(percentile(sorted, 0.5))}, p90 ${fmt(percentile(sorted, 0.9))}, p99 ${fmt(percentile(sorted, 0.99))}, max ${fmt(percentile(sorted, 1))}`,
    );
    return {
      name: label,
      what: m.what,
      samples: sorted.length,
      p50: percentile(sorted, 0.5),
      p99: percentile(sorted, 0.99),
      max: percentile(sorted, 1),
      loadRunsPerSec: m.loadRunsPerSec,
      loadP99: m.loadP99,
      peakRss,
      checks,
      failures,
    };
  } finally {
    await server.stop();
    await slack.stop();
  }
}

interface Measured {
  what: string;
  samples: number[];
  loadRunsPerSec: number;
  loadP99: number;
}

/** Starts one failing run (answered 202 at once) and returns its id. */
async function startFailingRun(server: Child, n: number): Promise<string> {
  const answer = await getJson<{ run_id: string }>(`${server.url}/hooks/bench-alert`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ order: n }),
  });
  return answer.run_id;
}

function loadFigures(
  measured: { start: number; end: number; counts: Map<number, number>; latencies: number[] },
  failures: string[],
) {
  const ok = measured.counts.get(200) ?? 0;
  const other = [...measured.counts].filter(([s]) => s !== 200);
  if (other.length) failures.push(`flow-ok load: answers other than 200: ${JSON.stringify(Object.fromEntries(other))}`);
  const lat = measured.latencies.sort((a, b) => a - b);
  return { loadRunsPerSec: ok / ((measured.end - measured.start) / 1000), loadP99: percentile(lat, 0.99) };
}

/** The run ids a posted message names, matched against the runs that failed. */
function runsOf(post: Post, wanted: Set<string>): string[] {
  const text = post.answer.message.text + JSON.stringify(post.answer.message.blocks);
  return [...new Set(text.match(ULID) ?? [])].filter((id) => wanted.has(id));
}

async function alertLatency(
  server: Child,
  slack: Child,
  file: string,
  checks: string[],
  failures: string[],
): Promise<Measured> {
  const started: Promise<string>[] = [];
  let trigger: NodeJS.Timeout | undefined;
  const { measured } = await drive(
    `${server.url}/hooks/bench-ok?wait=true`,
    async () => {
      let n = 0;
      trigger = setInterval(() => started.push(startFailingRun(server, n++)), 100);
      setTimeout(() => clearInterval(trigger), SECONDS * 1000 - 500);
    },
    { rate: 200 },
  );
  clearInterval(trigger);
  const load = loadFigures(measured, failures);
  const ids = new Set(await Promise.all(started));
  const posts = await waitUntil(
    async () => {
      const { posts } = await slack.dump<{ posts: Post[] }>();
      const seen = new Set(posts.flatMap((p) => runsOf(p, ids)));
      return seen.size >= ids.size ? posts : undefined;
    },
    15_000,
    `a chat.postMessage for each of ${ids.size} failed runs`,
  );
  const db = new Database(file, { readonly: true });
  const finished = new Map(
    (
      db.prepare("SELECT id, finished_at AS at, status FROM runs WHERE flow = 'bench-alert'").all() as {
        id: string;
        at: number;
        status: string;
      }[]
    ).map((r) => [r.id, r]),
  );
  db.close();
  const first = new Map<string, number>();
  for (const p of posts) for (const id of runsOf(p, ids)) if (!first.has(id)) first.set(id, p.at);
  const samples: number[] = [];
  for (const id of ids) {
    const run = finished.get(id);
    if (run?.status !== "failed") failures.push(`run ${id}: ${run?.status ?? "missing"}, expected failed`);
    else samples.push(first.get(id)! - run.at);
  }
  checks.push(
    `${ids.size} failed runs, ${posts.length} chat.postMessage calls; flow-ok load ${fmt(load.loadRunsPerSec)} runs/s, p99 ${fmt(load.loadP99)} ms`,
  );
  return {
    what: "run ended (runs.finished_at) → its chat.postMessage at the fake Slack, while flow-ok runs at 200 runs/s",
    samples,
    ...load,
  };
}

function retryButton(post: Post): { block_id: string; action_id: string; value: string } | undefined {
  for (const b of post.answer.message.blocks) {
    if (b.type !== "actions") continue;
    for (const el of b.elements as Block[])
      if (el.action_id === "mend_retry") return { block_id: b.block_id, action_id: el.action_id, value: el.value };
  }
  return undefined;
}

/** The form body Slack sends when USER clicks Retry on the message (block_actions). */
function clickBody(post: Post, slackUrl: string): string {
  const b = retryButton(post)!;
  const { channel, ts, message } = post.answer;
  const payload = {
    type: "block_actions",
    api_app_id: "A0MEND",
    trigger_id: "123.456.abc",
    team: { id: "T1", domain: "fake" },
    user: { id: USER.id, username: USER.username, name: USER.username, team_id: "T1" },
    channel: { id: channel, name: "ops" },
    container: { type: "message", message_ts: ts, channel_id: channel, is_ephemeral: false },
    message: { type: "message", ts, text: message.text, blocks: message.blocks },
    response_url: `${slackUrl}/response/${ts}`,
    actions: [
      { type: "button", ...b, text: { type: "plain_text", text: "Retry" }, action_ts: String(Date.now() / 1000) },
    ],
    state: { values: {} },
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

async function clickUnderLoad(
  server: Child,
  slack: Child,
  _file: string,
  checks: string[],
  failures: string[],
): Promise<Measured> {
  const perSecond = 20;
  const wanted = Math.ceil(SECONDS * perSecond) + 20;
  const ids = new Set<string>();
  for (let i = 0; i < wanted; i += 20)
    for (const id of await Promise.all(Array.from({ length: 20 }, (_, k) => startFailingRun(server, i + k))))
      ids.add(id);
  const posts = await waitUntil(
    async () => {
      const { posts } = await slack.dump<{ posts: Post[] }>();
      const withButton = posts.filter((p) => retryButton(p) && runsOf(p, ids).length);
      return withButton.length >= ids.size ? withButton : undefined;
    },
    30_000,
    `${ids.size} alerts with a Retry button`,
  );
  const samples: number[] = [];
  const statuses = new Map<number, number>();
  const clicks: Promise<void>[] = [];
  let clicker: NodeJS.Timeout | undefined;
  const click = async (post: Post) => {
    const body = clickBody(post, slack.url);
    const headers = await signSlackRequest(SIGNING_SECRET, body, Math.floor(Date.now() / 1000));
    const t0 = performance.now();
    try {
      const res = await fetch(`${server.url}/slack/events`, {
        method: "POST",
        headers: { ...headers, "content-type": "application/x-www-form-urlencoded" },
        body,
        signal: AbortSignal.timeout(10_000),
      });
      await res.arrayBuffer();
      samples.push(performance.now() - t0);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    } catch (err) {
      failures.push(`click: ${(err as Error).message}`);
    }
  };
  const { measured } = await drive(`${server.url}/hooks/bench-ok?wait=true`, async () => {
    let next = 0;
    clicker = setInterval(() => {
      if (next < posts.length) clicks.push(click(posts[next++]!));
    }, 1000 / perSecond);
    setTimeout(() => clearInterval(clicker), SECONDS * 1000 - 200);
  });
  clearInterval(clicker);
  await Promise.all(clicks);
  const load = loadFigures(measured, failures);
  if ([...statuses.keys()].some((s) => s !== 200))
    failures.push(`click answers: ${JSON.stringify(Object.fromEntries(statuses))}`);
  const { updates } = await waitUntil(
    async () => {
      const stats = await slack.ask("stats");
      return (stats.update ?? 0) >= samples.length ? { updates: stats.update ?? 0 } : undefined;
    },
    15_000,
    `a chat.update for each of ${samples.length} clicks`,
  ).catch((err: Error) => (failures.push(err.message), { updates: -1 }));
  checks.push(
    `${ids.size} alerts posted before the load; ${samples.length} Retry clicks answered ${JSON.stringify(Object.fromEntries(statuses))}, ${updates} chat.update calls; flow-ok load ${fmt(load.loadRunsPerSec)} runs/s, p99 ${fmt(load.loadP99)} ms`,
  );
  return {
    what: "signed Retry click → its HTTP answer (the ack), while flow-ok runs at full load (50 connections)",
    samples,
    ...load,
  };
}
