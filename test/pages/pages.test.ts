// The history pages as HTML: list, filters, keyset pages, failure-rate charts, the run timeline,
// alerts, replay links, flows and their diff, handlers and silences, redaction and escaping.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Browser, callFlow, count, csrfOf, runTo, startPages, startRun, type PagesEnv } from "./helpers";

const SECRET = "sk-live-9c1e77a0b3";
let env: PagesEnv;
let b: Browser;
let failedId: string;

beforeAll(async () => {
  env = await startPages({ MEND_SECRET_API_KEY: SECRET });
  const { s, up } = env;
  b = new Browser(s.url);
  expect(
    (
      await s.putFlow({
        name: "greet",
        description: "Says hello",
        steps: [{ id: "hi", compute: { text: "hello {{ input.name }}" } }],
      })
    ).status,
  ).toBe(201);
  expect((await s.putFlow({ ...callFlow("orders", up.url), retry: { max_attempts: 2, delay_ms: 0 } })).status).toBe(
    201,
  );
  for (const name of ["ada", "bob", "cy"]) await runTo(s, "greet", { name });
  up.script(
    [
      { status: 500, body: { error: "db down" } },
      { status: 500, body: { error: "db still down", key: SECRET } },
    ],
    { status: 200, body: { ok: true } },
  );
  failedId = await runTo(s, "orders", { order: 7 });
});

afterAll(async () => {
  await env?.stop();
});

const rowIds = (html: string) =>
  [...html.matchAll(/<tr data-run="([^"]+)" data-status="([^"]+)"/g)].map((m) => ({ id: m[1]!, status: m[2]! }));

describe("the run list", () => {
  it("shows runs newest first with flow and status, like GET /api/runs", async () => {
    const html = await b.page("/");
    const api = (await (await env.s.api("/api/runs")).json()) as { runs: { id: string; status: string }[] };
    expect(rowIds(html)).toEqual(api.runs.map((r) => ({ id: r.id, status: r.status })));
    expect(rowIds(html)[0]).toEqual({ id: failedId, status: "failed" });
    expect(html).toContain(`href="/runs/${failedId}"`);
  });

  it("filters by status and by flow, keeping the choice selected", async () => {
    const failed = await b.page("/?status=failed");
    expect(rowIds(failed)).toEqual([{ id: failedId, status: "failed" }]);
    expect(failed).toMatch(
      /<option value="failed" selected="">failed<\/option>|<option value="failed" selected>failed<\/option>/,
    );
    const greet = await b.page("/?flow=greet");
    expect(rowIds(greet)).toHaveLength(3);
    expect(rowIds(greet).every((r) => r.status === "succeeded")).toBe(true);
    const none = await b.page("/?flow=greet&status=failed");
    expect(rowIds(none)).toEqual([]);
    expect(none).toContain("No runs match these filters");
  });

  it("says why a run failed: the failed step and the start of the error, and the job of an external run", async () => {
    const html = await b.page("/?status=failed");
    const row = html.slice(
      html.indexOf(`<tr data-run="${failedId}"`),
      html.indexOf("</tr>", html.indexOf(`<tr data-run="${failedId}"`)),
    );
    expect(row).toContain('<td class="step empty" data-label="failed step"><span class="mono">call</span></td>');
    expect(row).toContain(`POST ${env.up.url}/work returned 500`);
    expect(row).toMatch(/<time datetime="[^"]+Z" title="\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ">\d+ s ago<\/time>/);
    const long = "x".repeat(300);
    const res = await env.s.api("/api/failures", {
      method: "POST",
      json: { source: "ci", job: "nightly-build", error: { message: long } },
    });
    const ext = ((await res.json()) as { run_id: string }).run_id;
    const list = await b.page("/?flow=external:ci");
    const extRow = list.slice(list.indexOf(`<tr data-run="${ext}"`));
    expect(extRow).toContain('job <span class="mono">nightly-build</span>');
    expect(extRow).toContain(`>${"x".repeat(120)}…</td>`);
  });

  it("searches run id prefixes and input text, and filters by start time", async () => {
    const ids = async (path: string) => rowIds(await b.page(path)).map((r) => r.id);
    expect(await ids(`/?q=${failedId.slice(0, 12)}`)).toEqual([failedId]);
    expect(await ids(`/?q=${failedId.slice(0, 12).toLowerCase()}`)).toEqual([failedId]);
    const bob = await ids("/?q=bob");
    expect(bob).toHaveLength(1);
    expect(((await (await env.s.api(`/api/runs/${bob[0]}`)).json()) as { input: unknown }).input).toEqual({
      name: "bob",
    });
    expect(await ids("/?q=nobody-has-this")).toEqual([]);
    const run = (await (await env.s.api(`/api/runs/${failedId}`)).json()) as { created_at: string };
    const all = await ids("/?flow=orders");
    expect(await ids(`/?flow=orders&since=${encodeURIComponent(run.created_at)}`)).toEqual(
      all.slice(0, all.indexOf(failedId) + 1),
    );
    expect(await ids(`/?flow=orders&until=${encodeURIComponent(run.created_at)}`)).toEqual(
      all.slice(all.indexOf(failedId) + 1),
    );
    // The same windows on a text search (bounded by rowid there): every orders input has the word "order".
    expect(await ids("/?q=order")).toEqual(all);
    expect(await ids(`/?q=order&since=${encodeURIComponent(run.created_at)}`)).toEqual(
      all.slice(0, all.indexOf(failedId) + 1),
    );
    expect(await ids(`/?q=order&until=${encodeURIComponent(run.created_at)}`)).toEqual(
      all.slice(all.indexOf(failedId) + 1),
    );
    expect(await ids("/?q=order&since=2000-01-01T00:00&until=2000-01-02T00:00")).toEqual([]);
    expect(await ids("/?since=2000-01-01T00:00&until=2000-01-02T00:00")).toEqual([]);
    expect((await ids("/?since=1h")).length).toBeGreaterThan(0);
    const form = await b.page("/?q=bob&since=2020-05-01T10:30");
    expect(form).toContain('name="q" value="bob"');
    expect(form).toContain('name="since" value="2020-05-01T10:30"');
  });

  it("draws each flow's failure rate of the last 24 hours as an inline SVG", async () => {
    const html = await b.page("/");
    expect(html).toContain('aria-label="orders: 100% of 1 runs failed in the last 24 hours"');
    expect(html).toContain('aria-label="greet: 0% of 3 runs failed in the last 24 hours"');
    const orders = html.slice(
      html.indexOf('data-flow="orders"'),
      html.indexOf("</svg>", html.indexOf('data-flow="orders"')),
    );
    expect(count(orders, 'fill="#d64045"')).toBe(1); // one red bar: the current hour
    expect(count(orders, "<rect")).toBe(24 + 1);
    expect(orders).toMatch(/<title>\d\d:00–\d\d:00 UTC: 1 of 1 failed \(100%\)<\/title>/);
  });

  it("pages through history with keyset links that neither skip nor repeat a run", async () => {
    for (let i = 0; i < 52; i++) await startRun(env.s, "greet", { name: `n${i}` });
    const first = await b.page("/?flow=greet");
    const page1 = rowIds(first);
    expect(page1).toHaveLength(50);
    const older = /href="(\/\?flow=greet&amp;cursor=[0-9A-Z]+)" rel="next"/.exec(first);
    expect(older).not.toBeNull();
    const second = await b.page(older![1]!.replaceAll("&amp;", "&"));
    const page2 = rowIds(second);
    expect(page2).toHaveLength(55 - 50);
    expect(second).toContain('href="/?flow=greet">← Newest</a>');
    expect(second).not.toContain('rel="next"');
    const all = [...page1, ...page2].map((r) => r.id);
    expect(new Set(all).size).toBe(55);
    expect([...all].sort().reverse()).toEqual(all);
  });

  it("pages through a text search, inside a time window, without skipping or repeating a run", async () => {
    const since = new Date(Date.now() - 60_000).toISOString();
    for (let i = 0; i < 53; i++) await startRun(env.s, "greet", { name: `paged${i}`, tag: "pagesearch" });
    const first = await b.page(`/?q=pagesearch&since=${encodeURIComponent(since)}`);
    const page1 = rowIds(first);
    expect(page1).toHaveLength(50);
    const older = /href="(\/\?[^"]*cursor=t\.\d+[^"]*)" rel="next"/.exec(first);
    expect(older).not.toBeNull();
    const page2 = rowIds(await b.page(older![1]!.replaceAll("&amp;", "&")));
    expect(page2).toHaveLength(3);
    const all = [...page1, ...page2].map((r) => r.id);
    expect(new Set(all).size).toBe(53);
    expect([...all].sort().reverse()).toEqual(all);
    const later = encodeURIComponent(new Date(Date.now() + 120_000).toISOString());
    expect(rowIds(await b.page(`/?q=pagesearch&since=${later}`))).toEqual([]);
    expect(rowIds(await b.page("/?q=pagesearch&until=2001-01-01T00:00"))).toEqual([]);
  });
});

describe("a run's page", () => {
  it("shows the timeline of attempts with durations, the input and the error", async () => {
    const html = await b.page(`/runs/${failedId}`);
    expect(html).toContain('<section id="run" data-status="failed"');
    const attempts = [...html.matchAll(/data-step="call" data-attempt="(\d)" data-status="(\w+)"/g)].map((m) => [
      m[1],
      m[2],
    ]);
    expect(attempts).toEqual([
      ["1", "failed"],
      ["2", "failed"],
    ]);
    expect(count(html, /<span class="wdur">\d+ ms<\/span>/)).toBe(2);
    expect(html).toContain("[http_status]");
    expect(html).toContain("after 2 attempt(s)");
    expect(html).toContain("&quot;order&quot;: 7");
    expect(html).toMatch(/action="\/runs\/[^"]+\/retry"/);
    expect(html).toMatch(/action="\/runs\/[^"]+\/replay"/);
    expect(html).not.toMatch(/action="\/runs\/[^"]+\/cancel"/);
  });

  it("shows the failed attempt open: what was sent and what came back, JSON bodies pretty-printed", async () => {
    const html = await b.page(`/runs/${failedId}`);
    const panels = [...html.matchAll(/<article class="attempt" id="attempt-(\d)" data-index="\d"( hidden="")?/g)].map(
      (m) => [m[1], !m[2]],
    );
    expect(panels).toEqual([
      ["0", false],
      ["1", true],
    ]);
    const open = html.slice(html.indexOf('id="attempt-1"'));
    expect(open).toContain(`<b>POST</b>${env.up.url}/work`);
    expect(open).toContain("{\n  &quot;order&quot;: 7\n}");
    expect(open).toContain("<b>HTTP 500</b>");
    expect(open).toContain("&quot;error&quot;: &quot;db still down&quot;,\n");
    // Without JavaScript a row of the waterfall selects its attempt by link.
    const first = await b.page(`/runs/${failedId}?attempt=0`);
    expect(first).toMatch(/<article class="attempt" id="attempt-0" data-index="0" aria-labelledby/);
    expect(first).toContain('href="?attempt=0#attempt-0"');
  });

  it("never shows a secret: the upstream's echo is stored and shown redacted", async () => {
    const html = await b.page(`/runs/${failedId}`);
    expect(html).not.toContain(SECRET);
    expect(html).toContain("[redacted]");
  });

  it("lists the alerts sent for the failure", async () => {
    const deadline = Date.now() + 5000;
    let html = "";
    while (Date.now() < deadline) {
      html = await b.page(`/runs/${failedId}`);
      if (html.includes("s-delivered")) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const alerts = html.slice(html.indexOf('<table class="alerts stack">'));
    expect(alerts).toContain('<td data-label="kind">log</td>');
    expect(alerts).toContain('<span class="badge s-delivered">delivered</span>');
  });

  it("links a replay and the run it replays, both ways", async () => {
    const res = await env.s.api(`/api/runs/${failedId}/replay`, { method: "POST" });
    const { run_id: replayId } = (await res.json()) as { run_id: string };
    await env.s.waitForStatus(replayId, ["succeeded"]);
    const replay = await b.page(`/runs/${replayId}`);
    expect(replay).toContain(`<a href="/runs/${failedId}" rel="replay-of">${failedId}</a>`);
    const original = await b.page(`/runs/${failedId}`);
    expect(original).toContain(`<a href="/runs/${replayId}" class="replayed-by">${replayId}</a>`);
  });

  it("escapes what runs carry, and links an external failure to where it was reported", async () => {
    const id = await runTo(env.s, "greet", { name: "<script>alert(1)</script>" });
    const html = await b.page(`/runs/${id}`);
    expect(html).not.toContain("<script>alert(1)</script>");
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    const good = await env.s.api("/api/failures", {
      method: "POST",
      json: { source: "ci", job: "deploy2", error: { message: "boom" }, link: "https://ci.example/jobs/2" },
    });
    expect(good.status).toBe(202);
    const goodRun = await b.page(`/runs/${((await good.json()) as { run_id: string }).run_id}`);
    expect(goodRun).toContain("ci · job");
    expect(goodRun).toContain('href="https://ci.example/jobs/2"');
  });

  it("answers an unknown run with a 404 page", async () => {
    const res = await b.get("/runs/01NOPE");
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(await res.text()).toContain("There is no run &#39;01NOPE&#39;.");
  });

  it("is sent with a CSP whose nonce is the only way a script runs, and is never cached", async () => {
    const res = await b.get(`/runs/${failedId}`);
    const csp = res.headers.get("content-security-policy") ?? "";
    const nonce = /script-src 'nonce-([0-9a-f]+)'/.exec(csp)?.[1];
    expect(nonce).toBeTruthy();
    expect(csp).toContain("frame-ancestors 'none'");
    expect(res.headers.get("cache-control")).toBe("no-store");
    const html = await res.text();
    expect(html).toContain(`<script nonce="${nonce}">`);
    expect(count(html, "<script")).toBe(1);
  });

  it("offers its live part alone at /runs/:id/live for the polling script", async () => {
    const res = await b.get(`/runs/${failedId}/live`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html.startsWith('<section id="run" data-status="failed"')).toBe(true);
    expect(html).not.toContain("<html");
  });
});

describe("flows, handlers and silences", () => {
  it("lists flows with their version and last 24 hours", async () => {
    const html = await b.page("/flows");
    expect(html).toContain('<a href="/flows/greet">greet</a>');
    expect(html).toContain("Says hello");
    expect(html).toContain('<a href="/?flow=orders&amp;status=failed">1</a>');
  });

  it("shows a flow's definition and versions, and a line diff between two versions; the webhook secret stays hidden", async () => {
    const v1 = {
      name: "shipping",
      webhook: { secret: "hook-secret-123456" },
      steps: [
        { id: "a", compute: { x: 1 } },
        { id: "b", compute: { y: 2 } },
      ],
    };
    await env.s.putFlow(v1);
    await env.s.putFlow({
      ...v1,
      steps: [
        { id: "a", compute: { x: 1 } },
        { id: "c", compute: { z: 3 } },
      ],
    });
    const html = await b.page("/flows/shipping");
    expect(html).toContain('shipping <span class="muted">v2</span>');
    expect(html).toContain('<tr data-version="1">');
    expect(html).toContain('<tr data-version="2">');
    expect(html).not.toContain("hook-secret-123456");
    expect(html).toContain("secret: &quot;[hidden]&quot;");
    const diff = await b.page("/flows/shipping?a=1&b=2");
    const lines = [...diff.matchAll(/<div class="(add|del)">([^<]*)<\/div>/g)].map((m) => `${m[1]} ${m[2]!.trim()}`);
    expect(lines).toEqual(["del - id: b", "add - id: c", "del y: 2", "add z: 3"]);
    expect(diff).toContain("v1 → v2: 4 line(s) changed");
    const old = await b.page("/flows/shipping?v=1");
    expect(old).toContain("id: b");
    expect((await b.get("/flows/shipping?a=1&b=9")).status).toBe(404);
    expect((await b.get("/flows/nope")).status).toBe(404);
  });

  it("lists handlers with their secrets hidden, and active silences", async () => {
    const h = await env.s.api("/api/handlers", {
      method: "POST",
      json: {
        name: "ops hook",
        kind: "webhook",
        config: { url: "https://hooks.example/mend" },
        match: { flows: ["orders*"] },
      },
    });
    expect(h.status).toBe(201);
    const secret = ((await h.json()) as { config: { secret: string } }).config.secret;
    const sl = await env.s.api("/api/silences", {
      method: "POST",
      json: { flow: "orders", duration_s: 3600, comment: "db maintenance" },
    });
    expect(sl.status).toBe(201);
    // A comment that reads like a chat mute's does not make it one: no Unmute pointing at that run.
    const lookalike = await env.s.api("/api/silences", {
      method: "POST",
      json: { flow: "billing", duration_s: 3600, comment: "Muted from run 01NOTAMUTE" },
    });
    expect(lookalike.status).toBe(201);
    const html = await b.page("/handlers");
    expect(html).toContain("Muted from run 01NOTAMUTE");
    expect(html).not.toContain("/runs/01NOTAMUTE/unmute");
    expect(html).toContain("<td>ops hook</td>");
    expect(html).toContain("flows orders*");
    expect(html).not.toContain(secret);
    expect(html).toContain("[hidden]");
    expect(html).toContain("db maintenance");
    expect(html).toContain('<table class="silences stack">');
  });
});

describe("acting from the pages, through the run actions service", () => {
  const api = async (path: string) =>
    (await (await env.s.api(path)).json()) as Record<string, unknown> & {
      status: string;
      input: unknown;
      flow_version: number;
    };
  const csrf = async (path: string) => csrfOf(await b.page(path));

  it("replays with edited input: the flow's schema errors inline, nothing started; valid input starts a run with it", async () => {
    const schema = { type: "object", required: ["order"], properties: { order: { type: "integer", minimum: 1 } } };
    expect((await env.s.putFlow({ ...callFlow("typed", env.up.url), input: schema })).status).toBe(201);
    env.up.script([{ status: 500 }], { status: 200, body: { ok: true } });
    const id = await runTo(env.s, "typed", { order: 3 });
    const before = rowIds(await b.page("/?flow=typed")).length;
    const token = await csrf(`/runs/${id}`);
    const bad = await b.post(`/runs/${id}/replay`, { _csrf: token, input: '{ "order": 0 }', version: "latest" });
    expect(bad.status).toBe(400);
    const page = await bad.text();
    expect(page).toContain('<details class="more editor" id="replay-editor" open="">');
    expect(page).toContain("{ &quot;order&quot;: 0 }</textarea>");
    expect(page).toMatch(/<code>input\.order<\/code>: [^<]*(minimum|>= 1|1)/);
    const notJson = await b.post(`/runs/${id}/replay`, { _csrf: token, input: "{ order: ", version: "latest" });
    expect(notJson.status).toBe(400);
    expect(await notJson.text()).toContain("The input is not valid JSON");
    expect(rowIds(await b.page("/?flow=typed"))).toHaveLength(before);
    const good = await b.post(`/runs/${id}/replay`, { _csrf: token, input: '{ "order": 9 }', version: "latest" });
    expect(good.status).toBe(303);
    const newId = /^\/runs\/([0-9A-Z]+)\?done=replayed$/.exec(good.headers.get("location") ?? "")![1]!;
    await env.s.waitForStatus(newId, ["succeeded", "failed"]);
    expect((await api(`/api/runs/${newId}`)).input).toEqual({ order: 9 });
  });

  it("retries on the latest version and from a chosen step", async () => {
    const v1 = {
      name: "two",
      steps: [
        { id: "prep", compute: { n: "{{ input.n }}" } },
        { id: "send", http: { method: "POST", url: `${env.up.url}/work`, body: { n: "{{ steps.prep.n }}" } } },
      ],
    };
    expect((await env.s.putFlow(v1)).status).toBe(201);
    env.up.script([{ status: 500 }], { status: 200, body: { ok: true } });
    const id = await runTo(env.s, "two", { n: 1 });
    expect((await env.s.putFlow({ ...v1, description: "v2" })).status).toBe(200);
    let html = await b.page(`/runs/${id}`);
    expect(html).toContain("Retry on v2");
    expect(html).toMatch(
      /<select name="from_step"><option value="prep">prep<\/option><option value="send" selected="">send<\/option><\/select>/,
    );
    env.up.script([{ status: 500 }], { status: 500 });
    expect((await b.post(`/runs/${id}/retry`, { _csrf: csrfOf(html), version: "latest" })).status).toBe(303);
    await env.s.waitForStatus(id, ["failed"]);
    expect((await api(`/api/runs/${id}`)).flow_version).toBe(2);
    html = await b.page(`/runs/${id}`);
    expect(
      (await b.post(`/runs/${id}/retry`, { _csrf: csrfOf(html), from_step: "prep", version: "original" })).status,
    ).toBe(303);
    await env.s.waitForStatus(id, ["failed"]);
    const steps = (await api(`/api/runs/${id}`)).steps as { step: string }[];
    expect(steps.filter((s) => s.step === "prep")).toHaveLength(2);
  });

  it("acks, mutes, unmutes and resolves from the run page, telling who in words", async () => {
    expect((await env.s.putFlow(callFlow("ackme", env.up.url))).status).toBe(201);
    env.up.script([{ status: 500 }], { status: 200, body: { ok: true } });
    const id = await runTo(env.s, "ackme", { order: 77 });
    const act = async (kind: string, fields: Record<string, string> = {}) => {
      const res = await b.post(`/runs/${id}/${kind}`, { _csrf: await csrf(`/runs/${id}`), ...fields });
      expect(res.status, kind).toBe(303);
      return b.page(`/runs/${id}`);
    };
    let html = await act("ack");
    expect(html).toContain("Acknowledged by <strong>web</strong>");
    expect(html).not.toMatch(/action="\/runs\/[^"]+\/ack"/);
    html = await act("mute", { duration_s: "3600" });
    expect(html).toMatch(/Muted by web: until \d{4}-/);
    expect(html).toMatch(/action="\/runs\/[^"]+\/unmute"/);
    html = await act("unmute");
    expect(html).not.toContain("Muted by");
    html = await act("resolve", { note: "db restarted" });
    expect(html).toContain("Resolved by <strong>web</strong>");
    expect(html).toContain("“db restarted”");
    expect((await api(`/api/runs/${id}`)).resolved_by).toBe("web");
    expect(await b.page("/?flow=ackme")).toContain("✓ resolved by web");
  });

  it("bulk: a confirmation with the count, then each run acted on once, with progress", async () => {
    env.up.script(
      Array.from({ length: 6 }, () => ({ status: 500 })),
      { status: 200, body: { ok: true } },
    ); // orders tries twice
    const ids = [];
    for (const order of [81, 82, 83]) ids.push(await runTo(env.s, "orders", { order }, ["failed"]));
    const token = await csrf("/");
    const none = await b.post("/runs/bulk/confirm", { _csrf: token, do: "retry:selected" });
    expect(none.status).toBe(400);
    expect(await none.text()).toContain("Tick the runs to act on first");
    const matching = rowIds(await b.page("/?flow=orders&status=failed")).length;
    const all = await b.post("/runs/bulk/confirm", { _csrf: token, do: "retry:all", flow: "orders", status: "failed" });
    expect(all.status).toBe(200);
    expect(await all.text()).toContain(`Retry ${matching} runs?`);
    const body = new URLSearchParams({ _csrf: token, do: "retry:selected" });
    for (const id of ids.slice(0, 2)) body.append("run", id);
    const confirm = await (
      await fetch(`${env.s.url}/runs/bulk/confirm`, {
        method: "POST",
        headers: { cookie: b.cookie, "content-type": "application/x-www-form-urlencoded" },
        body,
      })
    ).text();
    expect(confirm).toContain("Retry 2 runs?");
    const form = [...confirm.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]+)"/g)].map((m) => [
      m[1]!,
      m[2]!,
    ]);
    expect(form.filter(([k]) => k === "run").map(([, v]) => v)).toEqual([...ids.slice(0, 2)].sort().reverse());
    const send = () =>
      fetch(`${env.s.url}/runs/bulk`, {
        method: "POST",
        headers: { cookie: b.cookie, "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams(form),
      });
    const [first, again] = await Promise.all([send(), send()]);
    expect(first.status).toBe(200);
    expect(again.status).toBe(200);
    expect(await first.text()).toContain("Bulk retry: 2 accepted, 0 skipped");
    for (const id of ids.slice(0, 2)) await env.s.waitForStatus(id, ["succeeded"]);
    // Two failed tries, and one retry though the form was sent twice.
    for (const id of ids.slice(0, 2)) expect(((await api(`/api/runs/${id}`)).steps as unknown[]).length).toBe(3);
    expect((await api(`/api/runs/${ids[2]}`)).status).toBe("failed");
    const progress = await (
      await fetch(`${env.s.url}/runs/bulk/progress`, {
        method: "POST",
        headers: { cookie: b.cookie, "content-type": "application/x-www-form-urlencoded", "x-mend-live": "1" },
        body: new URLSearchParams(form),
      })
    ).text();
    expect(progress.startsWith('<section id="bulk-progress" data-done="true">')).toBe(true);
    expect(progress).toContain("<strong>2 of 2</strong> retried runs ended");
  });
});
