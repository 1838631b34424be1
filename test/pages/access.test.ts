// Access to the pages: the token form and its cookie, and CSRF-protected buttons (refusals change nothing).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hmacSha256Hex } from "../../src/crypto";
import { Browser, callFlow, csrfOf, runTo, startPages, type PagesEnv } from "./helpers";

const TOKEN = "pages-test-token-0123456789";

describe("with MEND_API_TOKEN set", () => {
  let env: PagesEnv;
  let failedId: string;

  beforeAll(async () => {
    env = await startPages({ MEND_API_TOKEN: TOKEN });
    expect((await env.s.putFlow(callFlow("orders", env.up.url))).status).toBe(201);
    env.up.script([{ status: 500 }], { status: 200, body: { ok: true } });
    failedId = await runTo(env.s, "orders", { order: 1 });
  });
  afterAll(async () => {
    await env?.stop();
  });

  async function signedIn(): Promise<Browser> {
    const b = new Browser(env.s.url);
    const res = await b.post("/login", { token: TOKEN, next: "/" });
    expect(res.status).toBe(303);
    return b;
  }

  it("asks for the token once: a form, then an HttpOnly SameSite=Strict cookie opens every page", async () => {
    const b = new Browser(env.s.url);
    const first = await b.get(`/runs/${failedId}`);
    expect(first.status).toBe(303);
    expect(first.headers.get("location")).toBe(`/login?next=${encodeURIComponent(`/runs/${failedId}`)}`);
    const form = await b.page(first.headers.get("location")!);
    expect(form).toContain('<form method="post" action="/login" class="card login" id="login">');
    expect(form).toContain('type="password" name="token"');

    const wrong = await b.post("/login", { token: "nope", next: `/runs/${failedId}` });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("set-cookie")).toBeNull();
    expect(await wrong.text()).toContain("That token is not known.");

    const right = await b.post("/login", { token: TOKEN, next: `/runs/${failedId}` });
    expect(right.status).toBe(303);
    expect(right.headers.get("location")).toBe(`/runs/${failedId}`);
    const cookie = right.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/^mend_session=[0-9a-f]{32}\.admin\.[0-9a-f]{64};/);
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("SameSite=Strict");
    expect(cookie).toContain("Path=/");
    expect(cookie).not.toContain(TOKEN);
    for (const path of ["/", `/runs/${failedId}`, "/flows", "/flows/orders", "/handlers"])
      expect((await b.get(path)).status, path).toBe(200);
  });

  it("does not take a forged cookie, or one made for another token", async () => {
    const sid = "0123456789abcdef0123456789abcdef";
    for (const cookie of [
      `mend_session=${sid}`,
      `mend_session=${sid}.${"0".repeat(64)}`,
      `mend_session=${sid}.${await hmacSha256Hex("another-token", `mend-session:${sid}`)}`,
    ]) {
      const res = await fetch(`${env.s.url}/`, { headers: { cookie }, redirect: "manual" });
      expect(res.status, cookie).toBe(303);
    }
    const good = `mend_session=${sid}.${await hmacSha256Hex(TOKEN, `mend-session:${sid}`)}`;
    expect((await fetch(`${env.s.url}/`, { headers: { cookie: good }, redirect: "manual" })).status).toBe(200);
  });

  it("follows a link from another site (a chat alert) by reloading it from this site, where the Strict cookie comes along", async () => {
    const res = await fetch(`${env.s.url}/runs/${failedId}`, {
      headers: { "sec-fetch-site": "cross-site" },
      redirect: "manual",
    });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain(`<meta http-equiv="refresh" content="0;url=/runs/${failedId}"/>`);
    expect(html).not.toContain("failed");
  });

  it("returns after sign-in only to a path of this site", async () => {
    const b = new Browser(env.s.url);
    const res = await b.post("/login", { token: TOKEN, next: "//evil.example/" });
    expect(res.headers.get("location")).toBe("/");
  });

  it("keeps the API bearer-only, the live part behind the session, and ends the session on sign-out", async () => {
    const b = await signedIn();
    expect((await b.get("/api/runs")).status).toBe(401);
    expect((await fetch(`${env.s.url}/runs/${failedId}/live`)).status).toBe(401);
    expect((await b.get(`/runs/${failedId}/live`)).status).toBe(200);
    const html = await b.page("/");
    const out = await b.post("/logout", { _csrf: csrfOf(html) });
    expect(out.status).toBe(303);
    expect(out.headers.get("set-cookie")).toMatch(/mend_session=;.*Max-Age=0/);
    expect((await b.get("/")).status).toBe(303);
  });

  it("refuses a button press without the CSRF token, or from another site, with 403 and changes nothing", async () => {
    const b = await signedIn();
    const html = await b.page(`/runs/${failedId}`);
    const csrf = csrfOf(html);
    const attemptsBefore = ((await (await env.s.api(`/api/runs/${failedId}`)).json()) as { steps: unknown[] }).steps
      .length;
    const tries: [string, Record<string, string>, Record<string, string>][] = [
      ["no token", {}, {}],
      ["wrong token", { _csrf: "0".repeat(64) }, {}],
      ["foreign Origin", { _csrf: csrf }, { origin: "http://evil.example" }],
      ["opaque Origin", { _csrf: csrf }, { origin: "null" }],
      ["cross-site fetch", { _csrf: csrf }, { "sec-fetch-site": "cross-site" }],
      ["same-site fetch", { _csrf: csrf }, { "sec-fetch-site": "same-site" }],
    ];
    for (const [what, form, headers] of tries) {
      const res = await b.post(`/runs/${failedId}/retry`, form, headers);
      expect(res.status, what).toBe(403);
      expect(await res.text(), what).toContain("Refused");
    }
    // Without a session cookie at all: 401 (sign in), also nothing done.
    expect(
      (
        await fetch(`${env.s.url}/runs/${failedId}/retry`, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: `_csrf=${csrf}`,
          redirect: "manual",
        })
      ).status,
    ).toBe(401);
    await new Promise((r) => setTimeout(r, 200));
    const after = (await (await env.s.api(`/api/runs/${failedId}`)).json()) as { status: string; steps: unknown[] };
    expect(after.status).toBe("failed");
    expect(after.steps.length).toBe(attemptsBefore);
    expect(env.s.logs.some((l) => l.includes("page action refused"))).toBe(true);
  });

  it("with the token from the page, Retry resumes the run and redirects back to it", async () => {
    const b = await signedIn();
    const csrf = csrfOf(await b.page(`/runs/${failedId}`));
    const res = await b.post(
      `/runs/${failedId}/retry`,
      { _csrf: csrf },
      { origin: env.s.url, "sec-fetch-site": "same-origin" },
    );
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(`/runs/${failedId}?done=retried`);
    await env.s.waitForStatus(failedId, ["succeeded"]);
    const page = await b.page(res.headers.get("location")!);
    expect(page).toContain("Retry started");
    expect(page).toContain('data-status="succeeded"');
    // Retrying a run that has not failed: a 409 page, and the run stays as it is.
    const again = await b.post(`/runs/${failedId}/retry`, { _csrf: csrf });
    expect(again.status).toBe(409);
    expect(await again.text()).toContain("only failed or recovered runs can be retried");
  });
});

describe("without MEND_API_TOKEN", () => {
  let env: PagesEnv;
  beforeAll(async () => {
    env = await startPages();
    await env.s.putFlow(callFlow("orders", env.up.url, { retry: { max_attempts: 3, delay_ms: 60_000 } }));
  });
  afterAll(async () => {
    await env?.stop();
  });

  it("needs no sign-in but still a per-browser CSRF token for every button", async () => {
    env.up.script([{ status: 500 }], { status: 200, body: { ok: true } });
    const id = await runTo(env.s, "orders", { order: 2 }, ["retrying"]);
    const b = new Browser(env.s.url);
    expect((await b.get("/login")).headers.get("location")).toBe("/");
    const html = await b.page(`/runs/${id}`);
    expect(b.cookie).toMatch(/^mend_session=[0-9a-f]{32}$/);
    expect((await b.post(`/runs/${id}/cancel`, {})).status).toBe(403);
    const stranger = new Browser(env.s.url);
    expect((await stranger.post(`/runs/${id}/cancel`, { _csrf: csrfOf(html) })).status).toBe(403);
    expect(((await (await env.s.api(`/api/runs/${id}`)).json()) as { status: string }).status).toBe("retrying");

    const res = await b.post(`/runs/${id}/cancel`, { _csrf: csrfOf(html) });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(`/runs/${id}?done=cancelled`);
    expect(((await (await env.s.api(`/api/runs/${id}`)).json()) as { status: string }).status).toBe("cancelled");
  });

  it("Replay starts a new run with the same input and opens it", async () => {
    env.up.script([], { status: 200, body: { ok: true } });
    const id = await runTo(env.s, "orders", { order: 3 }, ["succeeded"]);
    const b = new Browser(env.s.url);
    const html = await b.page(`/runs/${id}`);
    const res = await b.post(`/runs/${id}/replay`, { _csrf: csrfOf(html), version: "latest" });
    expect(res.status).toBe(303);
    const m = /^\/runs\/([0-9A-Z]+)\?done=replayed$/.exec(res.headers.get("location") ?? "");
    expect(m).not.toBeNull();
    const replay = (await env.s.waitForStatus(m![1]!, ["succeeded"])) as { replay_of: string; input: unknown };
    expect(replay.replay_of).toBe(id);
    expect(replay.input).toEqual({ order: 3 });
  });
});

describe("with MEND_USERS: people sign in as themselves", () => {
  const ADA = "ada-token-0123456789";
  const BOB = "bob-token-0123456789";
  let env: PagesEnv;

  beforeAll(async () => {
    env = await startPages({ MEND_API_TOKEN: TOKEN, MEND_USERS: `ada:${ADA}, bob:${BOB}` });
    expect((await env.s.putFlow(callFlow("orders", env.up.url))).status).toBe(201);
  });
  afterAll(async () => {
    await env?.stop();
  });

  it("signs each person in with their own token, shows who is signed in, and takes MEND_API_TOKEN as admin", async () => {
    for (const [token, name] of [
      [ADA, "ada"],
      [BOB, "bob"],
      [TOKEN, "admin"],
    ] as const) {
      const b = new Browser(env.s.url);
      const res = await b.post("/login", { token, next: "/" });
      expect(res.status, name).toBe(303);
      expect(res.headers.get("set-cookie")).toMatch(new RegExp(`^mend_session=[0-9a-f]{32}\\.${name}\\.[0-9a-f]{64};`));
      expect(await b.page("/")).toContain(`signed in as ${name}`);
    }
    expect((await new Browser(env.s.url).post("/login", { token: "ada-token-wrong-0000", next: "/" })).status).toBe(
      401,
    );
  });

  it("does not let a cookie name someone else than the token signed it for", async () => {
    const b = new Browser(env.s.url);
    await b.post("/login", { token: BOB, next: "/" });
    const forged = b.cookie.replace(".bob.", ".ada.");
    expect((await fetch(`${env.s.url}/`, { headers: { cookie: forged }, redirect: "manual" })).status).toBe(303);
  });

  it("records who acted: the signed-in person from the pages, the token's person on the API", async () => {
    env.up.script([{ status: 500 }, { status: 500 }], { status: 200, body: { ok: true } });
    const one = await runTo(env.s, "orders", { order: 1 }, ["failed"]);
    const two = await runTo(env.s, "orders", { order: 2 }, ["failed"]);
    const ada = new Browser(env.s.url);
    await ada.post("/login", { token: ADA, next: "/" });
    const res = await ada.post(`/runs/${one}/ack`, { _csrf: csrfOf(await ada.page(`/runs/${one}`)) });
    expect(res.status).toBe(303);
    expect(await ada.page(`/runs/${one}`)).toContain("Acknowledged by <strong>ada</strong>");
    const asBob = (path: string) =>
      fetch(`${env.s.url}${path}`, { method: "POST", headers: { authorization: `Bearer ${BOB}` } });
    expect((await asBob(`/api/runs/${two}/resolve`)).status).toBe(200);
    const run = async (id: string) =>
      (await (
        await fetch(`${env.s.url}/api/runs/${id}`, { headers: { authorization: `Bearer ${TOKEN}` } })
      ).json()) as Record<string, unknown>;
    expect((await run(one)).acked_by).toBe("ada");
    expect((await run(two)).resolved_by).toBe("bob");
    const list = await ada.page("/?flow=orders");
    expect(list).toContain('data-label="acked">ada</td>');
    expect(list).toContain("✓ resolved by bob");
  });

  it("lets each person call the API with their token; others get 401", async () => {
    for (const token of [ADA, BOB, TOKEN])
      expect((await fetch(`${env.s.url}/api/runs`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(
        200,
      );
    const res = await fetch(`${env.s.url}/api/runs`, { headers: { authorization: "Bearer not-a-token-of-anyone" } });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: string }).error).toContain("bearer token");
  });
});
