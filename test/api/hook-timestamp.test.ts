// Signed flow webhooks with a timestamp: X-Mend-Signature over "<X-Mend-Timestamp>.<raw body>",
// refused more than 5 minutes from now (by the injected clock); require_timestamp refuses the old form.
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import { parseEnv } from "../../src/env";
import { createServices } from "../../src/services";
import { openSqlite } from "../../src/store/sqlite-node";
import { FakeClock } from "../fakes/fake-clock";

const SECRET = "hook-secret-123";
const sign = (payload: string) => "sha256=" + createHmac("sha256", SECRET).update(payload).digest("hex");

async function setup() {
  const clock = new FakeClock();
  const { deps } = createServices({ config: parseEnv({ MEND_DB: ":memory:" }), db: openSqlite(":memory:"), clock });
  const app = createApp(deps);
  const put = (flow: Record<string, unknown>) =>
    app.request(`/api/flows/${String(flow.name)}`, {
      method: "PUT",
      body: JSON.stringify(flow),
      headers: { "content-type": "application/json" },
    });
  expect(
    (await put({ name: "signed", webhook: { secret: SECRET }, steps: [{ id: "a", compute: "{{ input.n }}" }] })).status,
  ).toBeLessThan(300);
  expect(
    (
      await put({
        name: "strict",
        webhook: { secret: SECRET, require_timestamp: true },
        steps: [{ id: "a", compute: 1 }],
      })
    ).status,
  ).toBeLessThan(300);
  const hook = (flow: string, body: string, headers: Record<string, string>) =>
    app.request(`/hooks/${flow}`, {
      method: "POST",
      body,
      headers: { "content-type": "application/json", ...headers },
    });
  const runs = async () => ((await (await app.request("/api/runs")).json()) as { runs: unknown[] }).runs.length;
  return { clock, hook, runs, nowS: () => Math.floor(clock.now() / 1000) };
}

describe("signed webhooks with X-Mend-Timestamp", () => {
  it("accepts a signature over '<timestamp>.<body>' within 5 minutes and refuses a stale one (401, nothing runs)", async () => {
    const t = await setup();
    const body = JSON.stringify({ n: 7 });
    const at = (ts: number) => ({ "x-mend-timestamp": String(ts), "x-mend-signature": sign(`${ts}.${body}`) });
    expect((await t.hook("signed", body, at(t.nowS() - 240))).status).toBe(202);
    expect(await t.runs()).toBe(1);
    for (const ts of [t.nowS() - 301, t.nowS() + 301]) {
      const stale = await t.hook("signed", body, at(ts));
      expect(stale.status).toBe(401);
      expect(await stale.json()).toEqual({ error: expect.stringMatching(/stale.*X-Mend-Timestamp/) });
    }
    // A captured request replayed later: the same headers, 6 minutes on.
    const captured = at(t.nowS());
    await t.clock.advance(360_000);
    expect((await t.hook("signed", body, captured)).status).toBe(401);
    // The timestamp is signed: moving it forward breaks the signature.
    expect((await t.hook("signed", body, { ...captured, "x-mend-timestamp": String(t.nowS()) })).status).toBe(401);
    expect((await t.hook("signed", body, { ...at(t.nowS()), "x-mend-timestamp": "soon" })).status).toBe(401);
    expect(await t.runs()).toBe(1);
    // The GitHub-style signature of the body alone keeps working.
    expect((await t.hook("signed", body, { "x-mend-signature": sign(body) })).status).toBe(202);
    expect(await t.runs()).toBe(2);
  });

  it("with require_timestamp: true refuses the signature without a timestamp", async () => {
    const t = await setup();
    const body = "{}";
    const old = await t.hook("strict", body, { "x-mend-signature": sign(body) });
    expect(old.status).toBe(401);
    expect(await old.json()).toEqual({ error: expect.stringMatching(/X-Mend-Timestamp/) });
    const ts = t.nowS();
    expect(
      (await t.hook("strict", body, { "x-mend-timestamp": String(ts), "x-mend-signature": sign(`${ts}.${body}`) }))
        .status,
    ).toBe(202);
    expect(await t.runs()).toBe(1);
  });
});
