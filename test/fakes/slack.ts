// A fake Slack on 127.0.0.1: the Web API methods mend uses (POST /api/<method>), response_url
// endpoints (/response/<id>) and incoming webhooks (/webhook/<id>). It checks the bearer token,
// accepts JSON and form-encoded bodies (as the WebClient sends them: non-scalar fields JSON-encoded),
// records every call, and can be told to answer 429 with Retry-After.
// Modals: views.open takes a trigger_id the fake issued (newTriggerId(), as in a click's payload)
// at most 3 s ago and once, checks the view against Block Kit's modal limits, and records it
// (`views`); submission(view, user, values) is the view_submission payload Slack sends back.
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface SlackCall {
  method: string;
  args: Record<string, unknown>;
  headers: IncomingHttpHeaders;
  at: number;
  /** What the fake answered. */
  status: number;
  answer: unknown;
}

export interface SlackMessage {
  channel: string;
  ts: string;
  text: string;
  blocks: Block[];
  /** Every version of the message: [posted, update 1, update 2, …]. */
  versions: { text: string; blocks: Block[] }[];
}

export type Block = Record<string, any>;

export interface SlackView {
  id: string;
  trigger_id: string;
  view: Block;
}

const TRIGGER_TTL_MS = 3_000;

/** What Slack would refuse in a modal view (api.slack.com/reference/surfaces/views, block-kit limits). */
export function modalErrors(view: Block): string[] {
  const errs: string[] = [];
  const plain = (t: Block | undefined, max: number, what: string, required = true) => {
    if (!t) return void (required && errs.push(`${what} is required`));
    if (t.type !== "plain_text" || typeof t.text !== "string" || t.text.length < 1 || t.text.length > max)
      errs.push(`${what} must be plain_text of 1 to ${max} characters`);
  };
  if (view.type !== "modal") errs.push("type must be modal");
  plain(view.title, 24, "title");
  plain(view.submit, 24, "submit", false);
  plain(view.close, 24, "close", false);
  const blocks = (view.blocks ?? []) as Block[];
  if (!Array.isArray(view.blocks) || blocks.length > 100) errs.push("blocks: 1 to 100 blocks");
  if (String(view.callback_id ?? "").length > 255) errs.push("callback_id: at most 255 characters");
  if (String(view.private_metadata ?? "").length > 3000) errs.push("private_metadata: at most 3000 characters");
  const inputs = blocks.filter((b) => b.type === "input");
  if (inputs.length && !view.submit) errs.push("submit is required when the view has input blocks");
  for (const b of inputs) {
    plain(b.label, 2000, `input ${b.block_id} label`);
    const e = (b.element ?? {}) as Block;
    if (!e.action_id || String(e.action_id).length > 255) errs.push(`input ${b.block_id}: action_id 1 to 255`);
    if (e.type === "plain_text_input") {
      const max = e.max_length ?? 3000;
      if (max < 1 || max > 3000) errs.push(`input ${b.block_id}: max_length 1 to 3000`);
      if (typeof e.initial_value === "string" && e.initial_value.length > max)
        errs.push(`input ${b.block_id}: initial_value longer than max_length`);
    }
  }
  return errs;
}

/** A message posted in a thread (chat.postMessage with thread_ts). */
export interface SlackReply {
  channel: string;
  thread_ts: string;
  ts: string;
  text: string;
}

export interface FakeSlack {
  url: string;
  /** SLACK_API_URL for the service. */
  apiUrl: string;
  token: string;
  calls: SlackCall[];
  /** Top-level messages (thread replies are in `replies`). */
  messages: SlackMessage[];
  replies: SlackReply[];
  /** Modals opened with views.open (the view as sent, with the id the fake gave it). */
  views: SlackView[];
  /** A trigger_id as Slack puts in an interaction payload: views.open takes it within 3 s, once. */
  newTriggerId(): string;
  /** The view_submission payload when `user` submits `view` with `values` (action_id → text; others keep their initial_value). */
  submission(view: SlackView, user: { id: string; username: string }, values: Record<string, string>): Block;
  /** POSTs to /response/<id> (response_url) and /webhook/<id>. */
  responses: { path: string; body: Record<string, unknown>; at: number }[];
  callsOf(method: string, okOnly?: boolean): SlackCall[];
  /** The next `times` calls of `method` answer 429 with Retry-After: retryAfterS. */
  rateLimit(method: string, times: number, retryAfterS: number): void;
  /** Every `every`-th call of `method` answers 429 with Retry-After: retryAfterS, `times` times. */
  rateLimitEvery(method: string, every: number, times: number, retryAfterS: number): void;
  /** Channels chat.postMessage answers `channel_not_found` for. */
  deadChannels: Set<string>;
  /** Webhook requests to /webhook/* answer with this status (default 200). */
  webhookStatus: number;
  waitFor<T>(probe: () => T | undefined | false, timeoutMs?: number, what?: string): Promise<T>;
  /** The time recorded in `at` (an in-process test sets its fake clock here). */
  now: () => number;
  /** The same fake without the network: for createServices({ fetch }) in in-process tests. */
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

function parseBody(raw: string, type: string): Record<string, unknown> {
  if (type.includes("application/json")) return raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
  const out: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(raw)) {
    if ((k === "blocks" || k === "attachments" || k === "metadata" || k === "view") && /^[[{]/.test(v))
      out[k] = JSON.parse(v);
    else out[k] = v;
  }
  return out;
}

/**
 * What real Slack refuses with `invalid_blocks` in the blocks mend sends: block_ids longer than 255 or
 * repeated; actions blocks of 1-25 elements; static_select / overflow options (1-100 / 1-5) whose text
 * is at most 75 characters and value at most 75, a placeholder of at most 150
 * (docs.slack.dev/reference/block-kit/block-elements).
 */
export function blockErrors(blocks: Block[]): string[] {
  const errs: string[] = [];
  const ids = new Set<string>();
  for (const [i, b] of blocks.entries()) {
    if (b.block_id !== undefined) {
      if (String(b.block_id).length > 255) errs.push(`blocks[${i}].block_id: must be at most 255 characters`);
      if (ids.has(b.block_id)) errs.push(`blocks[${i}].block_id: must be unique`);
      ids.add(b.block_id);
    }
    if (b.type !== "actions") continue;
    const elements = (b.elements ?? []) as Block[];
    if (elements.length < 1 || elements.length > 25) errs.push(`blocks[${i}].elements: 1 to 25 elements`);
    for (const [j, e] of elements.entries()) {
      if (e.type !== "static_select" && e.type !== "overflow") continue;
      const at = `blocks[${i}].elements[${j}]`;
      const options = (e.options ?? []) as Block[];
      const max = e.type === "overflow" ? 5 : 100;
      if (options.length < 1 || options.length > max) errs.push(`${at}.options: 1 to ${max} options`);
      for (const o of options)
        if (!o.text?.text || o.text.text.length > 75 || !o.value || String(o.value).length > 75)
          errs.push(`${at}.options: text and value of 1 to 75 characters`);
      if (e.placeholder && String(e.placeholder.text ?? "").length > 150) errs.push(`${at}.placeholder: too long`);
    }
  }
  return errs;
}

export async function startFakeSlack(token = "xoxb-test-token"): Promise<FakeSlack> {
  const calls: SlackCall[] = [];
  const messages: SlackMessage[] = [];
  const replies: SlackReply[] = [];
  const responses: FakeSlack["responses"] = [];
  const limits = new Map<string, { times: number; retryAfterS: number }>();
  let seq = 100;
  const fake = {} as FakeSlack;

  const every = new Map<string, { every: number; times: number; retryAfterS: number; seen: number }>();
  const views: SlackView[] = [];
  /** Issued trigger ids: when, and whether views.open used them. */
  const triggers = new Map<string, { at: number; used: boolean }>();
  const handle = (
    method: string,
    args: Record<string, unknown>,
    headers: IncomingHttpHeaders,
  ): { status: number; body: unknown; headers?: Record<string, string> } => {
    const tooMany = (retryAfterS: number) => ({
      status: 429,
      body: { ok: false, error: "ratelimited" },
      headers: { "retry-after": String(retryAfterS) },
    });
    const limit = limits.get(method);
    if (limit && limit.times > 0) {
      limit.times--;
      return tooMany(limit.retryAfterS);
    }
    const periodic = every.get(method);
    if (periodic && periodic.times > 0 && ++periodic.seen % periodic.every === 0) {
      periodic.times--;
      return tooMany(periodic.retryAfterS);
    }
    const auth = headers.authorization ?? (typeof args.token === "string" ? `Bearer ${args.token}` : undefined);
    if (!auth) return { status: 200, body: { ok: false, error: "not_authed" } };
    if (auth !== `Bearer ${token}`) return { status: 200, body: { ok: false, error: "invalid_auth" } };
    const blocks = (args.blocks as Block[] | undefined) ?? [];
    const text = typeof args.text === "string" ? args.text : "";
    const invalid = blockErrors(blocks);
    if (invalid.length && (method === "chat.postMessage" || method === "chat.update"))
      return { status: 200, body: { ok: false, error: "invalid_blocks", errors: invalid } };
    switch (method) {
      case "auth.test":
        return {
          status: 200,
          body: {
            ok: true,
            url: "https://fake.slack.com/",
            team: "Fake",
            user: "mend",
            team_id: "T1",
            user_id: "UBOT",
            bot_id: "BBOT",
          },
        };
      case "chat.postMessage": {
        const channel = String(args.channel ?? "");
        if (!channel || fake.deadChannels.has(channel))
          return { status: 200, body: { ok: false, error: "channel_not_found" } };
        if (!text && blocks.length === 0) return { status: 200, body: { ok: false, error: "no_text" } };
        const ts = `1700000000.${String(seq++).padStart(6, "0")}`;
        if (typeof args.thread_ts === "string") {
          if (!messages.some((m) => m.channel === channel && m.ts === args.thread_ts))
            return { status: 200, body: { ok: false, error: "thread_not_found" } };
          replies.push({ channel, thread_ts: args.thread_ts, ts, text });
        } else messages.push({ channel, ts, text, blocks, versions: [{ text, blocks }] });
        return { status: 200, body: { ok: true, channel, ts, message: { type: "message", text, blocks, ts } } };
      }
      case "chat.update": {
        const m = messages.find((x) => x.channel === args.channel && x.ts === args.ts);
        if (!m) return { status: 200, body: { ok: false, error: "message_not_found" } };
        if (args.text !== undefined) m.text = text;
        if (args.blocks !== undefined) m.blocks = blocks;
        m.versions.push({ text: m.text, blocks: m.blocks });
        return {
          status: 200,
          body: { ok: true, channel: m.channel, ts: m.ts, text: m.text, message: { text: m.text, blocks: m.blocks } },
        };
      }
      case "views.open": {
        const trigger = triggers.get(String(args.trigger_id ?? ""));
        if (!trigger) return { status: 200, body: { ok: false, error: "invalid_trigger_id" } };
        if (trigger.used) return { status: 200, body: { ok: false, error: "trigger_exchanged" } };
        if (fake.now() - trigger.at > TRIGGER_TTL_MS)
          return { status: 200, body: { ok: false, error: "expired_trigger_id" } };
        const view = (typeof args.view === "string" ? JSON.parse(args.view) : args.view) as Block | undefined;
        const errs = view ? modalErrors(view) : ["view is required"];
        if (errs.length)
          return {
            status: 200,
            body: { ok: false, error: "invalid_arguments", response_metadata: { messages: errs } },
          };
        trigger.used = true;
        const opened = { id: `V${String(seq++).padStart(10, "0")}`, trigger_id: String(args.trigger_id), view: view! };
        views.push(opened);
        return { status: 200, body: { ok: true, view: { ...view, id: opened.id, state: { values: {} } } } };
      }
      case "chat.postEphemeral":
        if (!args.channel || !args.user) return { status: 200, body: { ok: false, error: "invalid_arguments" } };
        return { status: 200, body: { ok: true, message_ts: `1700000001.${String(seq++).padStart(6, "0")}` } };
      default:
        return { status: 200, body: { ok: false, error: "unknown_method" } };
    }
  };

  /** One request as the fake answers it (the HTTP server and `fetch` both use this). */
  const serve = (
    path: string,
    raw: string,
    headers: IncomingHttpHeaders,
  ): { status: number; body: string; headers: Record<string, string> } => {
    const type = String(headers["content-type"] ?? "");
    let args: Record<string, unknown>;
    try {
      args = parseBody(raw, type);
    } catch {
      return {
        status: 200,
        body: JSON.stringify({ ok: false, error: "invalid_json" }),
        headers: { "content-type": "application/json" },
      };
    }
    if (path.startsWith("/response/") || path.startsWith("/webhook/")) {
      responses.push({ path, body: args, at: fake.now() });
      const status = path.startsWith("/webhook/") ? fake.webhookStatus : 200;
      return { status, body: status === 200 ? "ok" : "no_service", headers: { "content-type": "text/plain" } };
    }
    const method = path.replace(/^\/api\//, "");
    const out = handle(method, args, headers);
    calls.push({ method, args, headers, at: fake.now(), status: out.status, answer: out.body });
    return {
      status: out.status,
      body: JSON.stringify(out.body),
      headers: { "content-type": "application/json", ...out.headers },
    };
  };

  const server: Server = createServer((req, res) => {
    let raw = "";
    req.on("data", (c: Buffer) => (raw += c.toString()));
    req.on("end", () => {
      const out = serve((req.url ?? "").split("?")[0]!, raw, req.headers);
      res.writeHead(out.status, out.headers);
      res.end(out.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  Object.assign(fake, {
    url,
    apiUrl: `${url}/api/`,
    token,
    calls,
    messages,
    replies,
    responses,
    views,
    newTriggerId() {
      const id = `${seq++}.${fake.now()}.${Math.random().toString(16).slice(2, 10)}`;
      triggers.set(id, { at: fake.now(), used: false });
      return id;
    },
    submission(opened: SlackView, user: { id: string; username: string }, values: Record<string, string>): Block {
      const state: Record<string, Record<string, Block>> = {};
      for (const b of (opened.view.blocks ?? []) as Block[]) {
        if (b.type !== "input") continue;
        const e = b.element as Block;
        const value = values[e.action_id] ?? e.initial_value ?? null;
        state[b.block_id] = { [e.action_id]: { type: e.type, value } };
      }
      return {
        type: "view_submission",
        team: { id: "T1", domain: "fake" },
        user: { id: user.id, username: user.username, name: user.username, team_id: "T1" },
        api_app_id: "A0MEND",
        token: "unused",
        trigger_id: fake.newTriggerId(),
        view: {
          ...opened.view,
          id: opened.id,
          team_id: "T1",
          app_id: "A0MEND",
          bot_id: "BBOT",
          state: { values: state },
          hash: `${opened.id}.hash`,
          private_metadata: opened.view.private_metadata ?? "",
          root_view_id: opened.id,
          previous_view_id: null,
          clear_on_close: false,
          notify_on_close: false,
        },
        response_urls: [],
      };
    },
    webhookStatus: 200,
    now: () => Date.now(),
    async fetch(input: RequestInfo | URL, init?: RequestInit) {
      const req = new Request(input, init);
      const headers: IncomingHttpHeaders = {};
      req.headers.forEach((v, k) => (headers[k] = v));
      const out = serve(new URL(req.url).pathname, await req.text(), headers);
      return new Response(out.body, { status: out.status, headers: out.headers });
    },
    callsOf: (method: string, okOnly = false) =>
      calls.filter((c) => c.method === method && (!okOnly || (c.answer as { ok?: boolean }).ok === true)),
    rateLimit: (method: string, times: number, retryAfterS: number) => void limits.set(method, { times, retryAfterS }),
    rateLimitEvery: (method: string, n: number, times: number, retryAfterS: number) =>
      void every.set(method, { every: n, times, retryAfterS, seen: 0 }),
    deadChannels: new Set<string>(),
    async waitFor<T>(probe: () => T | undefined | false, timeoutMs = 10_000, what = "condition"): Promise<T> {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const v = probe();
        if (v !== undefined && v !== false) return v;
        if (Date.now() > end)
          throw new Error(`fake slack: timed out waiting for ${what}; calls: ${calls.map((c) => c.method).join(", ")}`);
        await new Promise((r) => setTimeout(r, 15));
      }
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  });
  return fake;
}
