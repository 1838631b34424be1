// In-process mend for the on-call tests, once per chat platform: createServices on a SQLite file
// (so a "restart" can open it again) with the fake clock, the fake Slack or fake Discord on loopback
// (the real transports talk to them), and a scripted fetch for the flows' http steps.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApp } from "../../src/app";
import { parseEnv } from "../../src/env";
import { createServices } from "../../src/services";
import { openSqlite } from "../../src/store/sqlite-node";
import { startFakeDiscord, type FakeDiscord } from "../fakes/discord";
import { FakeClock, settleMicrotasks } from "../fakes/fake-clock";
import { startFakeSlack, type FakeSlack } from "../fakes/slack";
import { FakeFetch } from "../engine/harness";
import { newKeyPair } from "../discord/harness";

export const UP = "https://up.example";
export type Kind = "slack" | "discord";
export const KINDS: Kind[] = ["slack", "discord"];

/** Where each platform posts: its channel field and an id. */
export const CHANNEL: Record<Kind, Record<string, string>> = {
  slack: { channel: "C0OPS" },
  discord: { channel_id: "300000000000000001" },
};

/** A chat message as the fake holds it: its id, the text people read, and every version. */
export interface Posted {
  id: string;
  text: string;
  /** The message this one replies to (a thread reply), if any. */
  replyTo?: string;
  /** Discord allowed_mentions as sent. */
  allowed?: unknown;
  versions: string[];
}

export async function startOncall(kind: Kind, env: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), "mend-oncall-"));
  const dbFile = join(dir, "mend.db");
  const clock = new FakeClock();
  const keys = newKeyPair();
  const http = new FakeFetch();
  const slack: FakeSlack | undefined = kind === "slack" ? await startFakeSlack() : undefined;
  const discord: FakeDiscord | undefined = kind === "discord" ? await startFakeDiscord() : undefined;
  const platformUrl = (slack ?? discord)!.url;
  const fetchFn = ((input: RequestInfo | URL, init?: RequestInit) => {
    const url = input instanceof Request ? input.url : String(input);
    return url.startsWith(platformUrl) ? fetch(input, init) : http.fetch(input, init);
  }) as typeof fetch;
  const platformEnv: Record<string, string> = slack
    ? {
        SLACK_BOT_TOKEN: slack.token,
        SLACK_SIGNING_SECRET: "8f742231b10e8888abcd99yyyzzz85a5",
        SLACK_API_URL: slack.apiUrl,
      }
    : {
        DISCORD_BOT_TOKEN: discord!.token,
        DISCORD_API_URL: discord!.apiUrl,
        DISCORD_APPLICATION_ID: discord!.applicationId,
        DISCORD_PUBLIC_KEY: keys.publicKeyHex,
      };
  const config = parseEnv({ MEND_DB: dbFile, MEND_PUBLIC_URL: "https://mend.example", ...platformEnv, ...env });
  const tasks = new Set<Promise<unknown>>();
  const waitUntil = (p: Promise<unknown>) => {
    const t = p.catch(() => undefined).finally(() => tasks.delete(t));
    tasks.add(t);
  };
  const logs: string[] = [];

  function boot() {
    const db = openSqlite(dbFile);
    const s = createServices({
      config,
      db,
      clock,
      fetch: fetchFn,
      waitUntil,
      pollMs: 30_000,
      outboxSchedule: [1000, 1000, 1000],
      log: (l, m, f) => logs.push(`${l} ${m} ${JSON.stringify(f ?? {})}`),
    });
    s.scheduler.start();
    return { ...s, db, app: createApp(s.deps) };
  }
  let mend = boot();

  /** Lets background work (HTTP to the fake platform is real I/O) finish, moving the fake clock `ms`. */
  async function pump(ms = 0): Promise<void> {
    for (let i = 0; i < 50; i++) {
      await mend.deps.engine.idle();
      await Promise.allSettled([...tasks]);
      await new Promise((r) => setTimeout(r, 5));
      await settleMicrotasks();
      if (tasks.size === 0) break;
    }
    if (ms > 0) {
      // In steps, so timers set by work that a step woke are seen.
      const step = Math.min(ms, 5000);
      for (let done = 0; done < ms; done += step) {
        await clock.advance(Math.min(step, ms - done));
        for (let i = 0; i < 20 && tasks.size > 0; i++) {
          await Promise.allSettled([...tasks]);
          await new Promise((r) => setTimeout(r, 5));
        }
      }
    }
  }

  async function api(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: Record<string, any> }> {
    const init: RequestInit = { method, headers: body === undefined ? {} : { "content-type": "application/json" } };
    if (body !== undefined) init.body = JSON.stringify(body);
    const res = await mend.app.request(path, init);
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : {} };
  }

  /** A handler on this platform with `extra` config, and a flow whose one http step fails with 500. */
  async function failingFlow(extra: Record<string, unknown> = {}, name = "orders"): Promise<void> {
    const h = await api("POST", "/api/handlers", { name: `ops-${kind}`, kind, config: { ...CHANNEL[kind], ...extra } });
    if (h.status !== 201) throw new Error(`handler: ${JSON.stringify(h.body)}`);
    const f = await api("PUT", `/api/flows/${name}`, {
      name,
      steps: [{ id: "charge", http: { method: "POST", url: `${UP}/charge` } }],
    });
    if (f.status >= 300) throw new Error(`flow: ${JSON.stringify(f.body)}`);
  }

  /** Triggers `flow` and lets it end and its alerts go out. */
  async function run(flow = "orders", input: unknown = { order: 1 }): Promise<Record<string, any>> {
    const r = await api("POST", `/hooks/${flow}`, input);
    if (r.status !== 202) throw new Error(`not triggered: ${JSON.stringify(r.body)}`);
    await pump();
    await pump(1000);
    return (await api("GET", `/api/runs/${r.body.run_id}`)).body;
  }

  /** Every message the bot posted on the fake platform, threads included, oldest first. */
  function messages(): Posted[] {
    if (slack) {
      const replies = slack.replies.map((r) => ({ id: r.ts, text: r.text, replyTo: r.thread_ts, versions: [r.text] }));
      return [...slack.messages, ...replies.map((r) => ({ ...r, reply: true }))]
        .map((m) =>
          "reply" in m
            ? { id: m.id, text: m.text, replyTo: m.replyTo, versions: m.versions }
            : {
                id: m.ts,
                text: [m.text, JSON.stringify(m.blocks)].join("\n"),
                replyTo:
                  (slack.callsOf("chat.postMessage", true).find((c) => (c.answer as { ts?: string })?.ts === m.ts)?.args
                    .thread_ts as string | undefined) ?? undefined,
                versions: m.versions.map((v) => [v.text, JSON.stringify(v.blocks)].join("\n")),
              },
        )
        .sort((a, b) => (a.id < b.id ? -1 : 1));
    }
    return [...discord!.messages, ...discord!.replies]
      .sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1))
      .map((m) => {
        const post = discord!
          .callsOf("POST", /^\/channels\/\d+\/messages$/, true)
          .find((c) => (c.answer as { id?: string })?.id === m.id);
        return {
          id: m.id,
          text: [m.content, JSON.stringify(m.embeds), JSON.stringify(m.components)].join("\n"),
          replyTo: post?.body?.message_reference?.message_id as string | undefined,
          allowed: post?.body?.allowed_mentions,
          versions: m.versions.map((v) =>
            [v.content, JSON.stringify(v.embeds), JSON.stringify(v.components)].join("\n"),
          ),
        };
      });
  }

  /** Stops this "process" (its timers die with it) and starts a new one on the same database. */
  async function restart(): Promise<void> {
    await pump();
    mend.scheduler.stop();
    mend.deps.clicks.stop();
    clock.dropTimers();
    await mend.db.close();
    mend = boot();
    await pump();
  }

  return {
    kind,
    keys,
    clock,
    http,
    slack,
    discord,
    logs,
    get deps() {
      return mend.deps;
    },
    api,
    pump,
    failingFlow,
    run,
    messages,
    restart,
    async stop() {
      mend.scheduler.stop();
      mend.deps.clicks.stop();
      clock.dropTimers();
      await pump().catch(() => undefined);
      await mend.db.close();
      await slack?.close();
      await discord?.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type Oncall = Awaited<ReturnType<typeof startOncall>>;
