// The same pages on Cloudflare's runtime: `wrangler dev` (workerd, local D1) serves them from the same app.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorkersWith, type Target } from "../blackbox/targets";
import { csrfOf } from "./helpers";

const TOKEN = "workers-pages-token-123";
const bearer = { authorization: `Bearer ${TOKEN}` };
let t: Target;

beforeAll(async () => {
  t = await startWorkersWith({ startTimeoutMs: 90_000 })({ MEND_API_TOKEN: TOKEN });
}, 150_000);

afterAll(async () => {
  await t?.stop();
});

describe("pages on workerd", () => {
  it("sign in with the token, see every page, replay from a run page; a button without the CSRF token is refused", async () => {
    expect(
      (
        await t.api("/api/flows/guard", {
          method: "PUT",
          headers: bearer,
          json: { name: "guard", steps: [{ id: "check", fail: { message: "not allowed" } }] },
        })
      ).status,
    ).toBe(201);
    const { run_id: id } = (await (
      await t.api("/hooks/guard", { method: "POST", headers: bearer, json: { order: 1 } })
    ).json()) as { run_id: string };
    const login = await fetch(`${t.url}/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `token=${TOKEN}&next=/`,
      redirect: "manual",
    });
    expect(login.status).toBe(303);
    const cookie = login.headers.get("set-cookie")?.split(";")[0] ?? "";
    expect(cookie).toMatch(/^mend_session=/);
    const get = (path: string) => fetch(t.url + path, { headers: { cookie }, redirect: "manual" });
    let html = "";
    for (const deadline = Date.now() + 20_000; !html.includes('data-status="failed"') && Date.now() < deadline; ) {
      html = await (await get(`/runs/${id}`)).text();
      if (!html.includes('data-status="failed"')) await new Promise((r) => setTimeout(r, 100));
    }
    expect(html).toContain('<section id="run" data-status="failed"');
    for (const path of ["/", "/?status=failed", "/flows", "/flows/guard", "/handlers", `/runs/${id}/live`])
      expect((await get(path)).status, path).toBe(200);
    expect(await (await get("/")).text()).toContain('aria-label="guard: 100% of 1 runs failed in the last 24 hours"');
    // Search on D1: the FTS5 index (a migration) for input words, the primary key for an id prefix.
    expect(await (await get("/?q=order")).text()).toContain(`<tr data-run="${id}"`);
    expect(await (await get(`/?q=${id.slice(0, 10)}`)).text()).toContain(`<tr data-run="${id}"`);
    expect(await (await get("/?q=nothing-like-this")).text()).not.toContain(`<tr data-run="${id}"`);

    const post = (body: string) =>
      fetch(`${t.url}/runs/${id}/replay`, {
        method: "POST",
        headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
        body,
        redirect: "manual",
      });
    expect((await post("version=latest")).status).toBe(403);
    const replay = await post(`_csrf=${csrfOf(html)}&version=latest`);
    expect(replay.status).toBe(303);
    expect(replay.headers.get("location")).toMatch(/^\/runs\/[0-9A-Z]+\?done=replayed$/);
  }, 60_000);
});
