// A fake Discord REST API (v10) on 127.0.0.1, for the real @discordjs/rest client (DISCORD_API_URL =
// `${fake.url}/api`). It checks `Authorization: Bot <token>` on bot routes, records every call,
// creates messages with snowflake-like ids, honours `nonce` + `enforce_nonce` (a repeated nonce in
// the same channel returns the existing message), enforces the content / embed / component limits
// (400, code 50035, as Discord does), answers GET /gateway/bot with the fake gateway's URL, and can
// be told to answer 429 — always with Retry-After and the X-RateLimit-* headers, as Discord does.
// Interaction responses (the callback route, and interactionResponseErrors for HTTP answers) are
// checked too: a modal (9) against Discord's modal and text input limits.
//
// Routes: POST /channels/:c/messages, PATCH /channels/:c/messages/:m, GET /gateway/bot,
// POST /interactions/:id/:token/callback, POST /webhooks/:id/:token (an incoming webhook made with
// createWebhook(), or an interaction follow-up), PATCH /webhooks/:id/:token/messages/:m|@original,
// PUT /applications/:app/commands and /applications/:app/guilds/:g/commands.
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export type Json = Record<string, any>;

export interface DiscordCall {
  method: string;
  /** Path after /api/v10, without the query. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Json | undefined;
  at: number;
  status: number;
  answer: unknown;
}

export interface DiscordMessage {
  id: string;
  channel_id: string;
  content: string;
  embeds: Json[];
  components: Json[];
  nonce?: string;
  /** "bot", or "webhook:<id>". */
  author: string;
  /** Every version: [posted, edit 1, edit 2, …]. */
  versions: { content: string; embeds: Json[]; components: Json[] }[];
}

export interface FakeDiscord {
  url: string;
  /** DISCORD_API_URL for the service. */
  apiUrl: string;
  token: string;
  applicationId: string;
  calls: DiscordCall[];
  /** Messages that reply to none (replies, with message_reference, are in `replies`). */
  messages: DiscordMessage[];
  replies: (DiscordMessage & { reference: string })[];
  /** Interaction callbacks (POST /interactions/:id/:token/callback). */
  callbacks: { id: string; token: string; body: Json; at: number }[];
  /** Interaction follow-ups (POST /webhooks/:app/:token) and @original edits. */
  followUps: { token: string; body: Json; at: number }[];
  originals: { token: string; body: Json; at: number }[];
  commands: Map<string, Json[]>;
  /** The ws:// URL GET /gateway/bot answers with. */
  gatewayUrl: string;
  callsOf(method: string, pathRe: RegExp, okOnly?: boolean): DiscordCall[];
  /** Every `every`-th request matching method + path answers 429 with Retry-After: retryAfterS, `times` times. */
  rateLimitEvery(method: string, pathRe: RegExp, every: number, times: number, retryAfterS: number): void;
  /** Channels whose message posts answer 404 Unknown Channel (code 10003). */
  deadChannels: Set<string>;
  /** The next `times` requests matching method + path answer 429 with Retry-After: retryAfterS. */
  rateLimit(method: string, pathRe: RegExp, times: number, retryAfterS: number, opts?: { global?: boolean }): void;
  /** The next `times` requests matching method + path are carried out, but the answer is lost (502, no body). */
  loseAnswers(method: string, pathRe: RegExp, times: number): void;
  /** Makes an incoming (bot-less) webhook; returns its URL. */
  createWebhook(channelId: string): string;
  /** Requests to incoming webhooks answer with this status (default: normal handling). */
  webhookStatus?: number;
  /** The time recorded in `at` (an in-process test sets its fake clock here). */
  now: () => number;
  waitFor<T>(probe: () => T | undefined | false, timeoutMs?: number, what?: string): Promise<T>;
  /** The same fake without the network: for createServices({ fetch }) in in-process tests. */
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

const BOT_ID = "900000000000000001";

/**
 * A row with a string select (ComponentType.StringSelect, 3): that one select and nothing else,
 * custom_id 1-100, 1-25 options with label and value of at most 100, placeholder at most 150
 * (discord.com/developers/docs/components/reference#string-select).
 */
function selectRowErrors(row: Json[], i: number): string[] {
  const errs: string[] = [];
  const at = `components.${i}.components`;
  if (row.length !== 1) errs.push(`${at}: a row with a select holds that select only`);
  const s = row[0]!;
  if (s.type !== 3) return [...errs, `${at}.0.type: expected a string select`];
  if (!s.custom_id || String(s.custom_id).length > 100) errs.push(`${at}.0.custom_id: 1 to 100 characters`);
  if (s.placeholder !== undefined && String(s.placeholder).length > 150) errs.push(`${at}.0.placeholder: too long`);
  const options = (s.options ?? []) as Json[];
  if (options.length < 1 || options.length > 25) errs.push(`${at}.0.options: 1 to 25 options`);
  for (const [k, o] of options.entries())
    if (!o.label || String(o.label).length > 100 || !o.value || String(o.value).length > 100)
      errs.push(`${at}.0.options.${k}: label and value of 1 to 100 characters`);
  return errs;
}

/** A modal's text input (type 4) as Discord checks it (components/reference#text-input). */
function textInputErrors(c: Json, at: string, inRow: boolean): string[] {
  const errs: string[] = [];
  if (c.type !== 4) return [`${at}.type: expected a text input (4)`];
  if (!c.custom_id || String(c.custom_id).length > 100) errs.push(`${at}.custom_id: 1 to 100 characters`);
  if (c.style !== 1 && c.style !== 2) errs.push(`${at}.style: 1 (short) or 2 (paragraph)`);
  if (inRow && (!c.label || String(c.label).length > 45)) errs.push(`${at}.label: 1 to 45 characters`);
  const max = c.max_length ?? 4000;
  if (max < 1 || max > 4000) errs.push(`${at}.max_length: 1 to 4000`);
  if (c.value !== undefined && String(c.value).length > max) errs.push(`${at}.value: longer than max_length`);
  return errs;
}

/**
 * What Discord would refuse (400, 50035) in an interaction response: the modal (9) limits of
 * interactions/receiving-and-responding#interaction-response-object-modal, a message's limits.
 */
export function interactionResponseErrors(r: Json): string[] {
  if (![1, 4, 5, 6, 7, 8, 9].includes(r.type)) return [`type: unknown interaction callback type ${r.type}`];
  if (r.type === 4 || r.type === 7) return limitErrors(r.data ?? {});
  if (r.type !== 9) return [];
  const d = (r.data ?? {}) as Json;
  const errs: string[] = [];
  if (!d.custom_id || String(d.custom_id).length > 100) errs.push("data.custom_id: 1 to 100 characters");
  if (!d.title || String(d.title).length > 45) errs.push("data.title: 1 to 45 characters");
  const top = (d.components ?? []) as Json[];
  if (top.length < 1 || top.length > 5) errs.push("data.components: 1 to 5 components");
  for (const [i, c] of top.entries()) {
    const at = `data.components.${i}`;
    if (c.type === 18) {
      if (!c.label || String(c.label).length > 45) errs.push(`${at}.label: 1 to 45 characters`);
      if (c.description !== undefined && String(c.description).length > 100)
        errs.push(`${at}.description: at most 100 characters`);
      errs.push(...textInputErrors(c.component ?? {}, `${at}.component`, false));
    } else if (c.type === 1) {
      const inner = (c.components ?? []) as Json[];
      if (inner.length !== 1) errs.push(`${at}.components: exactly one text input`);
      for (const [j, x] of inner.entries()) errs.push(...textInputErrors(x, `${at}.components.${j}`, true));
    } else errs.push(`${at}.type: a label (18) or an action row (1)`);
  }
  return errs;
}

function limitErrors(body: Json): string[] {
  const errs: string[] = [];
  if (typeof body.content === "string" && body.content.length > 2000)
    errs.push("content: Must be 2000 or fewer in length.");
  const embeds = (body.embeds ?? []) as Json[];
  if (embeds.length > 10) errs.push("embeds: Must be 10 or fewer in length.");
  let total = 0;
  for (const [i, e] of embeds.entries()) {
    if ((e.title ?? "").length > 256) errs.push(`embeds.${i}.title: too long`);
    if ((e.description ?? "").length > 4096) errs.push(`embeds.${i}.description: too long`);
    if ((e.footer?.text ?? "").length > 2048) errs.push(`embeds.${i}.footer.text: too long`);
    const fields = (e.fields ?? []) as Json[];
    if (fields.length > 25) errs.push(`embeds.${i}.fields: Must be 25 or fewer in length.`);
    for (const [j, f] of fields.entries()) {
      if (!f.name || String(f.name).length > 256) errs.push(`embeds.${i}.fields.${j}.name: bad length`);
      if (!f.value || String(f.value).length > 1024) errs.push(`embeds.${i}.fields.${j}.value: bad length`);
      total += String(f.name ?? "").length + String(f.value ?? "").length;
    }
    total +=
      (e.title ?? "").length +
      (e.description ?? "").length +
      (e.footer?.text ?? "").length +
      (e.author?.name ?? "").length;
  }
  if (total > 6000) errs.push("embeds: Embed size exceeds maximum size of 6000");
  const rows = (body.components ?? []) as Json[];
  if (rows.length > 5) errs.push("components: Must be 5 or fewer in length.");
  for (const [i, r] of rows.entries()) {
    if (r.type !== 1) errs.push(`components.${i}.type: expected an action row`);
    const buttons = (r.components ?? []) as Json[];
    if (buttons.some((b) => b.type === 3)) {
      errs.push(...selectRowErrors(buttons, i));
      continue;
    }
    if (buttons.length < 1 || buttons.length > 5) errs.push(`components.${i}.components: 1 to 5 buttons`);
    for (const [j, b] of buttons.entries()) {
      if (b.type !== 2) errs.push(`components.${i}.components.${j}.type: expected a button`);
      if (b.label && String(b.label).length > 80) errs.push(`components.${i}.components.${j}.label: too long`);
      if (b.style === 5) {
        if (!b.url || b.custom_id)
          errs.push(`components.${i}.components.${j}: a link button has a url and no custom_id`);
      } else if (!b.custom_id || String(b.custom_id).length > 100)
        errs.push(`components.${i}.components.${j}.custom_id: 1 to 100 characters`);
    }
  }
  if (body.nonce !== undefined && String(body.nonce).length > 25) errs.push("nonce: Must be 25 or fewer in length.");
  return errs;
}

export async function startFakeDiscord(
  token = "MTAwMDAwMDAwMDAwMDAwMDAx.fake.bot-token",
  applicationId = "100000000000000001",
): Promise<FakeDiscord> {
  const calls: DiscordCall[] = [];
  const messages: DiscordMessage[] = [];
  const replies: FakeDiscord["replies"] = [];
  const callbacks: FakeDiscord["callbacks"] = [];
  const followUps: FakeDiscord["followUps"] = [];
  const originals: FakeDiscord["originals"] = [];
  const commands = new Map<string, Json[]>();
  const webhooks = new Map<string, { token: string; channelId: string }>();
  const limits: { method: string; pathRe: RegExp; times: number; retryAfterS: number; global: boolean }[] = [];
  const losses: { method: string; pathRe: RegExp; times: number }[] = [];
  const periodics: {
    method: string;
    pathRe: RegExp;
    every: number;
    times: number;
    retryAfterS: number;
    seen: number;
  }[] = [];
  let seq = 1_000_000n;
  const snowflake = () => String(1_200_000_000_000_000_000n + seq++);
  const fake = { gatewayUrl: "" } as FakeDiscord;

  type Out = { status: number; body?: unknown; headers?: Record<string, string> };
  const json = (status: number, body: unknown, headers: Record<string, string> = {}): Out => ({
    status,
    body,
    headers,
  });
  const noAuth = () => json(401, { message: "401: Unauthorized", code: 0 });
  const invalid = (errs: string[]) =>
    json(400, {
      message: "Invalid Form Body",
      code: 50035,
      errors: { _errors: errs.map((m) => ({ code: "BASE_TYPE_BAD", message: m })) },
    });

  const createMessage = (
    channelId: string,
    body: Json,
    author: string,
  ): { message: DiscordMessage; existed: boolean } => {
    if (body.enforce_nonce && body.nonce !== undefined) {
      const prior = messages.find(
        (m) => m.channel_id === channelId && m.author === author && m.nonce === String(body.nonce),
      );
      if (prior) return { message: prior, existed: true };
    }
    const m: DiscordMessage = {
      id: snowflake(),
      channel_id: channelId,
      content: String(body.content ?? ""),
      embeds: (body.embeds ?? []) as Json[],
      components: (body.components ?? []) as Json[],
      nonce: body.nonce === undefined ? undefined : String(body.nonce),
      author,
      versions: [],
    };
    m.versions.push({ content: m.content, embeds: m.embeds, components: m.components });
    const ref = (body.message_reference as Json | undefined)?.message_id;
    if (ref !== undefined) replies.push({ ...m, reference: String(ref) });
    else messages.push(m);
    return { message: m, existed: false };
  };
  const editMessage = (m: DiscordMessage, body: Json) => {
    if (body.content !== undefined) m.content = String(body.content ?? "");
    if (body.embeds !== undefined) m.embeds = body.embeds as Json[];
    if (body.components !== undefined) m.components = body.components as Json[];
    m.versions.push({ content: m.content, embeds: m.embeds, components: m.components });
  };
  const view = (m: DiscordMessage) => ({
    id: m.id,
    channel_id: m.channel_id,
    content: m.content,
    embeds: m.embeds,
    components: m.components,
    nonce: m.nonce,
    author: { id: BOT_ID, username: "mend", bot: true },
    type: 0,
  });

  const route = (
    method: string,
    path: string,
    query: URLSearchParams,
    headers: IncomingHttpHeaders,
    body: Json | undefined,
  ): Out => {
    const botAuth = headers.authorization === `Bot ${token}`;
    let m: RegExpExecArray | null;
    if (method === "GET" && path === "/gateway/bot") {
      if (!botAuth) return noAuth();
      return json(200, {
        url: fake.gatewayUrl,
        shards: 1,
        session_start_limit: { total: 1000, remaining: 999, reset_after: 0, max_concurrency: 1 },
      });
    }
    if ((m = /^\/channels\/(\d+)\/messages$/.exec(path)) && method === "POST") {
      if (!botAuth) return noAuth();
      if (fake.deadChannels.has(m[1]!)) return json(404, { message: "Unknown Channel", code: 10003 });
      if (!String(headers["content-type"] ?? "").includes("application/json"))
        return json(400, { message: "Cannot send an empty message", code: 50006 });
      const errs = limitErrors(body ?? {});
      if (errs.length) return invalid(errs);
      if (!body?.content && !(body?.embeds as Json[] | undefined)?.length)
        return json(400, { message: "Cannot send an empty message", code: 50006 });
      return json(200, view(createMessage(m[1]!, body ?? {}, "bot").message));
    }
    if ((m = /^\/channels\/(\d+)\/messages\/(\d+)$/.exec(path)) && method === "PATCH") {
      if (!botAuth) return noAuth();
      const msg = messages.find((x) => x.channel_id === m![1] && x.id === m![2] && x.author === "bot");
      if (!msg) return json(404, { message: "Unknown Message", code: 10008 });
      const errs = limitErrors(body ?? {});
      if (errs.length) return invalid(errs);
      editMessage(msg, body ?? {});
      return json(200, view(msg));
    }
    if ((m = /^\/interactions\/(\d+)\/([^/]+)\/callback$/.exec(path)) && method === "POST") {
      if (!body || typeof body.type !== "number") return invalid(["type: required"]);
      const errs = interactionResponseErrors(body);
      if (errs.length) return invalid(errs);
      if (callbacks.some((c) => c.id === m![1]))
        return json(400, { message: "Interaction has already been acknowledged.", code: 40060 });
      callbacks.push({ id: m[1]!, token: m[2]!, body, at: fake.now() });
      return query.get("with_response") === "true"
        ? json(200, { interaction: { id: m[1], type: 3 } })
        : { status: 204 };
    }
    if ((m = /^\/webhooks\/(\d+)\/([^/]+)$/.exec(path)) && method === "POST") {
      const hook = webhooks.get(m[1]!);
      if (hook) {
        if (hook.token !== m[2]) return json(401, { message: "Invalid Webhook Token", code: 50027 });
        if (fake.webhookStatus) return json(fake.webhookStatus, { message: "Unknown Webhook", code: 10015 });
        const errs = limitErrors(body ?? {});
        if (errs.length) return invalid(errs);
        // A webhook no application owns cannot send interactive components: Discord drops them.
        const b = { ...(body ?? {}) };
        b.components = ((b.components ?? []) as Json[])
          .map((r) => ({ ...r, components: ((r.components ?? []) as Json[]).filter((c) => c.style === 5) }))
          .filter((r) => r.components.length);
        const { message } = createMessage(hook.channelId, b, `webhook:${m[1]}`);
        return query.get("wait") === "true" ? json(200, view(message)) : { status: 204 };
      }
      if (m[1] !== applicationId) return json(404, { message: "Unknown Webhook", code: 10015 });
      followUps.push({ token: m[2]!, body: body ?? {}, at: fake.now() });
      return json(200, { id: snowflake(), channel_id: "0", content: body?.content ?? "", flags: body?.flags ?? 0 });
    }
    if ((m = /^\/webhooks\/(\d+)\/([^/]+)\/messages\/(@original|\d+)$/.exec(path)) && method === "PATCH") {
      const hook = webhooks.get(m[1]!);
      if (hook) {
        if (hook.token !== m[2]) return json(401, { message: "Invalid Webhook Token", code: 50027 });
        const msg = messages.find((x) => x.id === m![3] && x.author === `webhook:${m![1]}`);
        if (!msg) return json(404, { message: "Unknown Message", code: 10008 });
        editMessage(msg, body ?? {});
        return json(200, view(msg));
      }
      if (m[1] !== applicationId) return json(404, { message: "Unknown Webhook", code: 10015 });
      originals.push({ token: m[2]!, body: body ?? {}, at: fake.now() });
      return json(200, { id: snowflake(), content: body?.content ?? "" });
    }
    if ((m = /^\/applications\/(\d+)(?:\/guilds\/(\d+))?\/commands$/.exec(path)) && method === "PUT") {
      if (!botAuth) return noAuth();
      if (m[1] !== applicationId) return json(403, { message: "Missing Access", code: 50001 });
      const list = ((Array.isArray(body) ? body : []) as Json[]).map((c) => ({
        ...c,
        id: snowflake(),
        application_id: applicationId,
        version: snowflake(),
      }));
      commands.set(m[2] ? `guild:${m[2]}` : "global", list);
      return json(200, list);
    }
    return json(404, { message: "404: Not Found", code: 0 });
  };

  /** One request as the fake answers it (the HTTP server and `fetch` both use this). */
  const serve = (method: string, rawUrl: string, headers: IncomingHttpHeaders, raw: string): Out => {
    const u = new URL(rawUrl, "http://x");
    const path = u.pathname.replace(/^\/api(?:\/v\d+)?/, "");
    let body: Json | undefined;
    try {
      body = raw ? (JSON.parse(raw) as Json) : undefined;
    } catch {
      return { status: 400, body: { message: "400: Bad Request", code: 50109 } };
    }
    let out: Out;
    const periodic = periodics.find(
      (l) => l.times > 0 && l.method === method && l.pathRe.test(path) && ++l.seen % l.every === 0,
    );
    if (periodic) {
      periodic.times--;
      limits.unshift({ method, pathRe: /.*/, times: 1, retryAfterS: periodic.retryAfterS, global: false });
    }
    const limit = limits.find((l) => l.times > 0 && l.method === method && l.pathRe.test(path));
    if (limit) {
      limit.times--;
      const h: Record<string, string> = {
        "retry-after": String(limit.retryAfterS),
        "x-ratelimit-limit": "5",
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset": String(fake.now() / 1000 + limit.retryAfterS),
        "x-ratelimit-reset-after": String(limit.retryAfterS),
        "x-ratelimit-bucket": "fakebucket",
        "x-ratelimit-scope": limit.global ? "global" : "user",
      };
      if (limit.global) h["x-ratelimit-global"] = "true";
      out = json(
        429,
        { message: "You are being rate limited.", retry_after: limit.retryAfterS, global: limit.global },
        h,
      );
    } else {
      out = route(method, path, u.searchParams, headers, body);
      const loss = losses.find((l) => l.times > 0 && l.method === method && l.pathRe.test(path));
      if (loss) {
        loss.times--;
        out = { status: 502, body: undefined, headers: { "content-type": "text/html" } };
      }
      if (out.status < 300)
        Object.assign((out.headers ??= {}), {
          "x-ratelimit-limit": "50",
          "x-ratelimit-remaining": "49",
          "x-ratelimit-reset-after": "1",
          "x-ratelimit-bucket": "fakebucket",
        });
    }
    calls.push({
      method,
      path,
      query: u.searchParams,
      headers,
      body,
      at: fake.now(),
      status: out.status,
      answer: out.body,
    });
    return out;
  };

  const server: Server = createServer((req, res) => {
    let raw = "";
    req.on("data", (c: Buffer) => (raw += c.toString()));
    req.on("end", () => {
      const out = serve(req.method ?? "GET", req.url ?? "/", req.headers, raw);
      if (out.body === undefined) {
        res.writeHead(out.status, out.headers);
        res.end();
      } else {
        res.writeHead(out.status, { "content-type": "application/json", ...out.headers });
        res.end(JSON.stringify(out.body));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  Object.assign(fake, {
    url,
    apiUrl: `${url}/api`,
    token,
    applicationId,
    calls,
    messages,
    replies,
    callbacks,
    followUps,
    originals,
    commands,
    now: () => Date.now(),
    async fetch(input: RequestInfo | URL, init?: RequestInit) {
      const req = new Request(input, init);
      const headers: IncomingHttpHeaders = {};
      req.headers.forEach((v, k) => (headers[k] = v));
      const u = new URL(req.url);
      const out = serve(req.method, u.pathname + u.search, headers, await req.text());
      if (out.body === undefined) return new Response(null, { status: out.status, headers: out.headers });
      return new Response(JSON.stringify(out.body), {
        status: out.status,
        headers: { "content-type": "application/json", ...out.headers },
      });
    },
    callsOf: (method: string, pathRe: RegExp, okOnly = false) =>
      calls.filter((c) => c.method === method && pathRe.test(c.path) && (!okOnly || c.status < 300)),
    rateLimit: (method: string, pathRe: RegExp, times: number, retryAfterS: number, opts: { global?: boolean } = {}) =>
      void limits.push({ method, pathRe, times, retryAfterS, global: Boolean(opts.global) }),
    rateLimitEvery: (method: string, pathRe: RegExp, every: number, times: number, retryAfterS: number) =>
      void periodics.push({ method, pathRe, every, times, retryAfterS, seen: 0 }),
    deadChannels: new Set<string>(),
    loseAnswers: (method: string, pathRe: RegExp, times: number) => void losses.push({ method, pathRe, times }),
    createWebhook(channelId: string) {
      const id = snowflake();
      const hookToken = `hook-token-${id}`;
      webhooks.set(id, { token: hookToken, channelId });
      return `${url}/api/webhooks/${id}/${hookToken}`;
    },
    async waitFor<T>(probe: () => T | undefined | false, timeoutMs = 10_000, what = "condition"): Promise<T> {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const v = probe();
        if (v !== undefined && v !== false) return v;
        if (Date.now() > end)
          throw new Error(
            `fake discord: timed out waiting for ${what}; calls: ${calls.map((c) => `${c.method} ${c.path} ${c.status}`).join(", ")}`,
          );
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
