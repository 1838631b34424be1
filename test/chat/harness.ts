// The in-process chat harness: createServices with the fake clock, real SQLite :memory:, the app
// driven by app.request(), and the fake Slack / Discord behind the injected fetch (no sockets).
// A Driver says how one platform looks from outside (its env, its handler config, how to read its
// messages and replies, how to click); the suites in test/chat/ run once per driver.
import type { Hono } from "hono";
import { afterEach, describe } from "vitest";
import { createApp } from "../../src/app";
import type { Deps } from "../../src/deps";
import { signSlackRequest } from "../../src/chat/slack/verify";
import { parseEnv } from "../../src/env";
import type { Scheduler } from "../../src/scheduler";
import { createServices } from "../../src/services";
import { openSqlite } from "../../src/store/sqlite-node";
import {
  clickInteraction,
  commandInteraction,
  modalSubmitInteraction,
  newKeyPair,
  signInteraction,
  type KeyPair,
} from "../discord/harness";
import { interactionResponseErrors, startFakeDiscord, type FakeDiscord, type Json } from "../fakes/discord";
import { FakeClock } from "../fakes/fake-clock";
import { startFakeSlack, type FakeSlack } from "../fakes/slack";
import { node as slackNode } from "../../src/chat/slack/node";

export const ALICE = { id: "UALICE", discordId: "500000000000000001", username: "alice" };
export const MALLORY = { id: "UMALLORY", discordId: "500000000000000666", username: "mallory" };
export type ChatPerson = typeof ALICE;

/** A /mend answer as the suites read it, whatever the platform. */
export interface CommandReply {
  status: number;
  text: string;
  /** Everyone in the channel sees it (Slack in_channel; Discord without flag 64). */
  public: boolean;
  buttons: Msg["buttons"];
}

/** A chat message as the suites read it, whatever the platform. */
export interface Msg {
  id: string;
  /** Everything it shows, as text. */
  text: string;
  /** Its interactive controls: label (a select's placeholder), the action in their id, the id, a select's choices. */
  buttons: { label: string; action: string; id: string; choices?: string[] }[];
  /** Its link buttons (they open a URL). */
  links: { label: string; url: string }[];
}

/** A form a button opened (Slack modal, Discord modal), or the private notice given instead. */
export interface Form {
  /** The text the form's field was prefilled with; undefined when no form opened. */
  prefill?: string;
  /** The private line ALICE got instead of a form. */
  notice?: string;
  /** ALICE submits the form with `text` in its field (a signed request, like the click). */
  submit(text: string): Promise<FormAnswer>;
}

/** How the platform answered a submit: `error` is what the form shows (Slack errors, Discord ephemeral). */
export interface FormAnswer {
  status: number;
  error?: string;
}

export interface Driver {
  kind: "slack" | "discord";
  /** Slack through Bolt (the Node transport) rather than the fetch bot used on Workers. */
  bolt?: boolean;
  /** Handler config posting to `channel` (a bot channel). */
  config(channel?: string): Record<string, unknown>;
  start(): Promise<void>;
  env(): Record<string, string>;
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
  messages(): Msg[];
  replies(messageId: string): string[];
  /** Answers every second message post with 429 Retry-After: retryAfterS, `times` times. */
  rateLimitEverySecondPost(times: number, retryAfterS: number): void;
  /** Posts to `channel` fail for good (the channel is gone / the bot is not in it). */
  killChannel(channel: string): void;
  /** The signed request the platform sends when ALICE clicks the button `action` on `message` (or picks `choice`). */
  click(h: Harness, message: Msg, action: string, choice?: string): Promise<Response>;
  /**
   * `user` (ALICE) runs `/mend <sub>` with `args` (in order: Slack writes them after the subcommand,
   * Discord sends them as the subcommand's options by name); the signed request, its answer read back.
   */
  command(h: Harness, sub: string, args?: Record<string, string>, user?: ChatPerson): Promise<CommandReply>;
  /** ALICE clicks `action` on `message`, a button that opens a form (Replay with input…). */
  openForm(h: Harness, message: Msg, action: string): Promise<Form>;
  close(): Promise<void>;
}

export interface Harness {
  clock: FakeClock;
  deps: Deps;
  app: Hono;
  scheduler: Scheduler;
  driver: Driver;
  /** The upstream the test flows call: its status for the next requests, and how many came. */
  upstream: { status: number; requests: number; body?: string; hold?: Promise<void> };
  logs: string[];
  api(path: string, init?: { method?: string; json?: unknown }): Promise<Response>;
  /** Moves the fake clock forward in small steps until `probe` holds (at most `maxMs` of fake time). */
  until<T>(
    probe: () => T | undefined | false | Promise<T | undefined | false>,
    maxMs?: number,
    what?: string,
  ): Promise<T>;
  close(): Promise<void>;
}

export const CHANNELS = { slack: "C0OPS", discord: "300000000000000001" } as const;

export async function startHarness(
  driver: Driver,
  env: Record<string, string> = {},
  o: { start?: number } = {},
): Promise<Harness> {
  await driver.start();
  const clock = new FakeClock(o.start ?? Date.now());
  const upstream: Harness["upstream"] = { status: 500, requests: 0 };
  const fetchFn = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (url.host === "upstream.test") {
      upstream.requests++;
      // A held upstream keeps the step (and its run) running until the test lets go.
      if (upstream.hold) await upstream.hold;
      return new Response(upstream.body ?? JSON.stringify({ ok: upstream.status < 300 }), {
        status: upstream.status,
        headers: { "content-type": "application/json" },
      });
    }
    return driver.fetch(input, init);
  }) as typeof fetch;
  const config = parseEnv({ MEND_DB: ":memory:", MEND_PUBLIC_URL: "https://mend.example", ...driver.env(), ...env });
  const db = openSqlite(":memory:");
  const logs: string[] = [];
  const { deps, scheduler } = createServices({
    chatNode: driver.bolt ? { slack: slackNode } : undefined,
    config,
    db,
    clock,
    fetch: fetchFn,
    log: (level, msg, fields) => logs.push(`${level} ${msg} ${JSON.stringify(fields ?? {})}`),
    pollMs: 1000,
    outboxSchedule: [1000, 5000, 30_000],
  });
  const routes: [string, Hono][] = [];
  for (const { platform, conn } of deps.chat.platforms) {
    const r = await conn.routes?.(deps);
    if (r) routes.push([platform.kind, r]);
  }
  const app = createApp(deps, (a) => {
    for (const [kind, r] of routes) a.route(`/${kind}`, r);
  });
  scheduler.start();
  const h: Harness = {
    clock,
    deps,
    app,
    scheduler,
    driver,
    upstream,
    logs,
    api: async (path, init = {}) =>
      app.request(path, {
        method: init.method ?? (init.json === undefined ? "GET" : "POST"),
        headers: { "content-type": "application/json" },
        body: init.json === undefined ? undefined : JSON.stringify(init.json),
      }),
    async until(probe, maxMs = 30_000, what = "condition") {
      const end = clock.now() + maxMs;
      for (let spins = 0; ; spins++) {
        const v = await probe();
        if (v !== undefined && v !== false) return v;
        if (clock.now() >= end)
          throw new Error(
            `timed out (${maxMs} ms of fake time) waiting for ${what}; log: ${logs.slice(-5).join(" | ")}`,
          );
        // Some work settles over real I/O turns (SQLite, the fakes): give it a few before moving time.
        if (spins % 3 === 2) await clock.advance(100, 20);
        else await new Promise((r) => setImmediate(r));
      }
    },
    async close() {
      scheduler.stop();
      await deps.engine.idle();
      await db.close();
      await driver.close();
    },
  };
  return h;
}

/** A flow `orders` whose one step calls the upstream (one attempt), alerting handler `ops`. */
export async function failingFlow(
  h: Harness,
  extra: Record<string, unknown> = {},
  handler: Record<string, unknown> = {},
): Promise<void> {
  const res = await h.api("/api/handlers", {
    json: { name: "ops", kind: h.driver.kind, config: h.driver.config(), ...handler },
  });
  if (res.status !== 201) throw new Error(`handler: ${res.status} ${await res.text()}`);
  const flow = await h.api("/api/flows/orders", {
    method: "PUT",
    json: {
      name: "orders",
      steps: [{ id: "charge", http: { method: "POST", url: "http://upstream.test/charge" } }],
      ...extra,
    },
  });
  if (flow.status >= 300) throw new Error(`flow: ${flow.status} ${await flow.text()}`);
}

export async function runStatus(h: Harness, id: string): Promise<string> {
  return String(((await (await h.api(`/api/runs/${id}`)).json()) as { status: string }).status);
}

/** Starts the flow and waits (fake time) until its run ended and its alert is posted. */
export async function failOnce(
  h: Harness,
  flow = "orders",
  input: unknown = { order: 1 },
): Promise<{ runId: string; message: Msg }> {
  const before = new Set(h.driver.messages().map((m) => m.id));
  const res = await h.api(`/hooks/${flow}`, { json: input });
  const { run_id } = (await res.json()) as { run_id: string };
  await h.until(
    async () => ["failed", "recovered"].includes(await runStatus(h, run_id)),
    30_000,
    `run ${run_id} to end`,
  );
  const message = await h.until(
    () =>
      h.driver.messages().find((m) => m.text.includes(run_id) && m.buttons.length > 0) ??
      h.driver.messages().find((m) => !before.has(m.id)),
    30_000,
    "the alert",
  );
  return { runId: run_id, message };
}

/** The current version of a message. */
export function current(h: Harness, id: string): Msg {
  return h.driver.messages().find((m) => m.id === id)!;
}

const slackElements = (blocks: Json[]) =>
  blocks.filter((b) => b.type === "actions").flatMap((b) => b.elements as Json[]);
const slackButtons = (blocks: Json[]) =>
  blocks
    .filter((b) => b.type === "actions")
    .flatMap((b) =>
      (b.elements as Json[])
        .filter((e) => e.url === undefined)
        .map((e) =>
          e.type === "static_select"
            ? {
                label: String(e.placeholder?.text ?? ""),
                action: String(e.action_id).replace(/^mend_/, ""),
                id: String(b.block_id),
                choices: (e.options as Json[]).map((o) => String(o.value)),
              }
            : {
                label: String(e.text?.text ?? ""),
                action: String(e.action_id).replace(/^mend_/, ""),
                id: String(e.value ?? ""),
              },
        ),
    );
const slackLinks = (blocks: Json[]) =>
  slackElements(blocks)
    .filter((e) => typeof e.url === "string")
    .map((e) => ({ label: String(e.text?.text ?? ""), url: String(e.url) }));

/** A driver with its fake in reach, for the per-platform suites. */
export type SlackDriver = Driver & { fake(): FakeSlack };
export type DiscordDriver = Driver & { fake(): FakeDiscord; keys(): KeyPair };

export function slackDriver(o: { bolt?: boolean } = {}): SlackDriver {
  let fake: FakeSlack;
  const secret = "8f742231b10e8888abcd99yyyzzz85a5";
  const user = { id: ALICE.id, username: ALICE.username };
  return {
    kind: "slack",
    fake: () => fake,
    bolt: o.bolt,
    config: (channel = CHANNELS.slack) => ({ channel }),
    async start() {
      fake = await startFakeSlack();
    },
    env: () => ({ SLACK_BOT_TOKEN: fake.token, SLACK_SIGNING_SECRET: secret, SLACK_API_URL: fake.apiUrl }),
    fetch: (input, init) => fake.fetch(input, init),
    messages: () =>
      fake.messages.map((m) => ({
        id: m.ts,
        text: `${m.text}\n${JSON.stringify(m.blocks)}`,
        buttons: slackButtons(m.blocks),
        links: slackLinks(m.blocks),
      })),
    replies: (id) => fake.replies.filter((r) => r.thread_ts === id).map((r) => r.text),
    rateLimitEverySecondPost: (times, s) => fake.rateLimitEvery("chat.postMessage", 2, times, s),
    killChannel: (channel) => fake.deadChannels.add(channel),
    async click(h, message, action, choice) {
      // The buttons as they were drawn on `message` (perhaps an older version of it).
      const m = fake.messages.find((x) => x.ts === message.id)!;
      const b = message.buttons.find((x) => x.action === action);
      if (!b) throw new Error(`no ${action} button on ${message.id}: ${message.text}`);
      // A select sends its block_id and the picked option (StaticSelectAction in @slack/bolt).
      const element = b.choices
        ? {
            type: "static_select",
            block_id: b.id,
            action_id: `mend_${action}`,
            selected_option: { text: { type: "plain_text", text: String(choice) }, value: String(choice) },
            placeholder: { type: "plain_text", text: b.label },
            action_ts: "1",
          }
        : {
            type: "button",
            block_id: "b",
            action_id: `mend_${action}`,
            value: b.id,
            text: { type: "plain_text", text: b.label },
            action_ts: "1",
          };
      const payload = {
        type: "block_actions",
        api_app_id: "A0MEND",
        token: "unused",
        trigger_id: fake.newTriggerId(),
        team: { id: "T1", domain: "fake" },
        user: { id: ALICE.id, username: ALICE.username, name: ALICE.username, team_id: "T1" },
        channel: { id: m.channel, name: "ops" },
        container: { type: "message", message_ts: m.ts, channel_id: m.channel, is_ephemeral: false },
        message: { type: "message", ts: m.ts, text: m.text, blocks: m.blocks },
        response_url: `${fake.url}/response/${m.ts}`,
        actions: [element],
      };
      return signedSlack(h, new URLSearchParams({ payload: JSON.stringify(payload) }).toString(), secret);
    },
    async command(h, sub, args = {}, user = ALICE) {
      const body = new URLSearchParams({
        token: "unused",
        team_id: "T1",
        team_domain: "fake",
        channel_id: CHANNELS.slack,
        channel_name: "ops",
        user_id: user.id,
        user_name: user.username,
        command: "/mend",
        text: [sub, ...Object.values(args)].join(" "),
        api_app_id: "A0MEND",
        response_url: `${fake.url}/response/cmd`,
        trigger_id: "123.456.def",
      }).toString();
      const res = await signedSlack(h, body, secret);
      const answer = (await res.json().catch(() => ({}))) as Json;
      const blocks = (answer.blocks as Json[] | undefined) ?? [];
      return {
        status: res.status,
        text: `${answer.text ?? ""}\n${JSON.stringify(blocks)}`,
        public: answer.response_type === "in_channel",
        buttons: slackButtons(blocks),
      };
    },
    async openForm(h, message, action) {
      const views = fake.views.length;
      const notes = fake.callsOf("chat.postEphemeral").length;
      const res = await this.click(h, message, action);
      if (res.status !== 200) throw new Error(`the click answered ${res.status}: ${await res.text()}`);
      await h.until(
        () => fake.views.length > views || fake.callsOf("chat.postEphemeral").length > notes,
        5_000,
        "views.open or a private notice",
      );
      const opened = fake.views[views];
      const input = (opened?.view.blocks as Json[] | undefined)?.find((b) => b.type === "input");
      return {
        prefill: input?.element?.initial_value,
        notice: opened ? undefined : String(fake.callsOf("chat.postEphemeral")[notes]!.args.text),
        async submit(text) {
          if (!opened) throw new Error("no form was opened");
          const payload = fake.submission(opened, user, { [input!.element.action_id]: text });
          const answer = await signedSlack(h, new URLSearchParams({ payload: JSON.stringify(payload) }).toString());
          const raw = await answer.text();
          const body = raw ? (JSON.parse(raw) as Json) : undefined;
          return { status: answer.status, error: body?.response_action === "errors" ? body.errors.input : undefined };
        },
      };
    },
    close: () => fake.close(),
  };
}

export async function signedSlack(
  h: Harness,
  body: string,
  secret = "8f742231b10e8888abcd99yyyzzz85a5",
): Promise<Response> {
  const headers = await signSlackRequest(secret, body, Math.floor(h.clock.now() / 1000));
  return h.app.request("/slack/events", {
    method: "POST",
    headers: { ...headers, "content-type": "application/x-www-form-urlencoded" },
    body,
  });
}

/** Signatures carry the fake clock's time: the server checks freshness against it. */
const fakeNow = (h: Harness) => String(Math.floor(h.clock.now() / 1000));

export function discordDriver(): DiscordDriver {
  let fake: FakeDiscord;
  let keys: KeyPair;
  /** The interaction Discord sends when ALICE clicks `action` (or picks `choice`) as drawn on `message` (perhaps an older version). */
  const clickOn = (message: Msg, action: string, choice?: string): Json => {
    const m = fake.messages.find((x) => x.id === message.id)!;
    const drawn = message.buttons.map((b) => ({
      type: 1,
      components: [
        b.choices
          ? {
              type: 3,
              custom_id: b.id,
              placeholder: b.label,
              options: b.choices.map((value) => ({ label: value, value })),
            }
          : { type: 2, style: 2, label: b.label, custom_id: b.id },
      ],
    }));
    const user = { id: ALICE.discordId, username: ALICE.username };
    return clickInteraction({ discord: fake }, { ...m, components: drawn }, action, user, choice);
  };
  const send = (h: Harness, interaction: Json) => {
    const body = JSON.stringify(interaction);
    return h.app.request("/discord/interactions", {
      method: "POST",
      headers: { ...signInteraction(keys.privateKey, body, fakeNow(h)), "content-type": "application/json" },
      body,
    });
  };
  /** The HTTP answer as Discord reads it: refused (400) when it breaks Discord's limits. */
  const checked = async (res: Response): Promise<Json> => {
    const r = (await res.json()) as Json;
    const errs = interactionResponseErrors(r);
    if (errs.length) throw new Error(`Discord would refuse this answer: ${errs.join("; ")}`);
    return r;
  };
  const buttons = (components: Json[]) =>
    components
      .flatMap((r) => (r.components as Json[]) ?? [])
      .filter((b) => typeof b.custom_id === "string")
      .map((b) => ({
        label: String(b.type === 3 ? b.placeholder : b.label),
        action: String(b.custom_id).split(":")[1]!,
        id: String(b.custom_id),
        ...(b.type === 3 ? { choices: (b.options as Json[]).map((o) => String(o.value)) } : {}),
      }));
  return {
    kind: "discord",
    fake: () => fake,
    keys: () => keys,
    config: (channel = CHANNELS.discord) => ({ channel_id: channel }),
    async start() {
      fake = await startFakeDiscord();
      keys = newKeyPair();
    },
    env: () => ({
      DISCORD_BOT_TOKEN: fake.token,
      DISCORD_PUBLIC_KEY: keys.publicKeyHex,
      DISCORD_APPLICATION_ID: fake.applicationId,
      DISCORD_API_URL: fake.apiUrl,
    }),
    fetch: (input, init) => fake.fetch(input, init),
    messages: () =>
      fake.messages.map((m) => ({
        id: m.id,
        text: `${m.content}\n${JSON.stringify(m.embeds)}`,
        buttons: buttons(m.components),
        links: (m.components as Json[])
          .flatMap((r) => (r.components as Json[]) ?? [])
          .filter((b) => b.style === 5)
          .map((b) => ({ label: String(b.label), url: String(b.url) })),
      })),
    replies: (id) => fake.replies.filter((r) => r.reference === id).map((r) => r.content),
    rateLimitEverySecondPost: (times, s) => fake.rateLimitEvery("POST", /^\/channels\/\d+\/messages$/, 2, times, s),
    killChannel: (channel) => fake.deadChannels.add(channel),
    async click(h, message, action, choice) {
      return send(h, clickOn(message, action, choice));
    },
    async openForm(h, message, action) {
      const opened = clickOn(message, action);
      const res = await send(h, opened);
      if (res.status !== 200) throw new Error(`the click answered ${res.status}: ${await res.text()}`);
      const answer = await checked(res);
      return {
        prefill: answer.type === 9 ? answer.data.components[0].component.value : undefined,
        notice: answer.type === 4 ? answer.data.content : undefined,
        async submit(text) {
          if (answer.type !== 9) throw new Error("no form was opened");
          const sent = await send(h, modalSubmitInteraction(opened, answer, { input_json: text }));
          const r = sent.status === 200 ? await checked(sent) : undefined;
          const ephemeral = r?.type === 4 && (r.data.flags & 64) !== 0;
          return { status: sent.status, error: ephemeral ? r!.data.content : undefined };
        },
      };
    },
    async command(h, sub, args = {}, user = ALICE) {
      const who = { id: user.discordId, username: user.username };
      const res = await send(h, commandInteraction({ discord: fake }, sub, args, who));
      const answer = (await res.json().catch(() => ({}))) as Json;
      const data = (answer.data as Json | undefined) ?? {};
      return {
        status: res.status,
        text: String(data.content ?? ""),
        public: ((data.flags as number | undefined) ?? 0) !== 64,
        buttons: buttons((data.components as Json[] | undefined) ?? []),
      };
    },
    close: () => fake.close(),
  };
}

export const DRIVERS = [slackDriver, discordDriver];
/** The drivers plus Slack through Bolt, for what both Slack transports must route. */
export const ALL_TRANSPORTS = [slackDriver, () => slackDriver({ bolt: true }), discordDriver];

/** "slack", "slack (bolt)", "discord": how a suite names a driver. */
const driverName = (d: Driver) => `${d.kind}${d.bolt ? " (bolt)" : ""}`;

/** Starts a harness on the suite's platform with `env`; it is closed after the test. */
export type StartHarness = (env?: Record<string, string>, o?: { start?: number }) => Promise<Harness>;

/** The suite `body` once on Slack and once on Discord: see forEachDriver. */
export function forEachPlatform(title: string, body: (start: StartHarness) => void): void {
  forEachDriver(DRIVERS, title, body);
}

/**
 * The suite `body` once per driver, under `title` with %s the driver's name; `start` is startHarness
 * on that driver, and every harness it started is closed after the test.
 */
export function forEachDriver(drivers: (() => Driver)[], title: string, body: (start: StartHarness) => void): void {
  describe.each(drivers.map((d) => [driverName(d()), d] as const))(title, (_name, makeDriver: () => Driver) => {
    let started: Harness[] = [];
    afterEach(async () => {
      const closing = started;
      started = [];
      for (const h of closing) await h.close();
    });
    body(async (env, o) => {
      const h = await startHarness(makeDriver(), env, o);
      started.push(h);
      return h;
    });
  });
}
