// Silences API on a real server: validation, create/list/delete, a silenced failure is recorded
// but not sent, and after ends_at the same failure is sent again.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../api/server";
import { startUpstream, type Upstream } from "../fakes/upstream";
import { createHandler, failRun, getRun, json, sleep, waitUntil } from "./helpers";

let s: TestServer;
let up: Upstream;

beforeAll(async () => {
  up = await startUpstream();
  s = await startTestServer({}, { outboxSchedule: [50] });
  await createHandler(s, { name: "everything", kind: "webhook", config: { url: `${up.url}/alerts` } });
});
afterAll(async () => {
  await s.stop();
  await up.close();
});

const silence = (body: unknown) => s.api("/api/silences", { method: "POST", json: body });
const sentFor = (runId: string) => up.requests.filter((r) => r.path === "/alerts" && r.body.includes(runId)).length;

describe("/api/silences", () => {
  it("answers 400 naming the field for bad silences and creates none", async () => {
    const cases: [unknown, string][] = [
      [{ duration_s: 60 }, "flow"],
      [{ flow: "x" }, "ends_at"],
      [{ flow: "x", duration_s: 60, ends_at: "2999-01-01T00:00:00Z" }, "duration_s"],
      [{ flow: "x", ends_at: "tomorrow" }, "ends_at"],
      [{ flow: "x", ends_at: "2001-01-01T00:00:00Z" }, "ends_at"],
      [{ flow: "x", duration_s: -5 }, "duration_s"],
      [{ error_type: "oops", duration_s: 60 }, "error_type"],
      [{ flow: "x", duration_s: 60, until: "later" }, ""],
      [{ flow: "", duration_s: 60 }, "flow"],
    ];
    for (const [body, path] of cases) {
      const res = await silence(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      const answer = await res.json();
      expect(typeof answer.error).toBe("string");
      expect(
        answer.issues.map((i: { path: string }) => i.path),
        JSON.stringify(body),
      ).toContain(path);
    }
    expect((await json<{ silences: unknown[] }>(s.api("/api/silences"))).silences).toEqual([]);
    expect(
      (await s.api("/api/silences", { method: "POST", body: "nope", headers: { "content-type": "application/json" } }))
        .status,
    ).toBe(400);
  });

  it("creates, lists and deletes a silence", async () => {
    const res = await silence({
      flow: "billing-*",
      error_type: "timeout",
      duration_s: 3600,
      created_by: "alice",
      comment: "provider maintenance",
    });
    expect(res.status).toBe(201);
    const created = await res.json();
    expect(created).toMatchObject({
      id: expect.any(String),
      flow: "billing-*",
      step: null,
      error_type: "timeout",
      created_by: "alice",
      comment: "provider maintenance",
    });
    expect(Date.parse(created.ends_at) - Date.now()).toBeGreaterThan(3590_000);
    expect((await json<{ silences: { id: string }[] }>(s.api("/api/silences"))).silences.map((x) => x.id)).toEqual([
      created.id,
    ]);
    expect((await s.api(`/api/silences/${created.id}`)).status).toBe(200);
    expect((await s.api(`/api/silences/${created.id}`, { method: "DELETE" })).status).toBe(204);
    expect((await s.api(`/api/silences/${created.id}`, { method: "DELETE" })).status).toBe(404);
    expect((await json<{ silences: unknown[] }>(s.api("/api/silences"))).silences).toEqual([]);
  });

  it("a silenced failure is recorded but not sent; after ends_at it is sent again", async () => {
    await s.putFlow({ name: "noisy", steps: [{ id: "poll", fail: { message: "still down", type: "network" } }] });
    const ends = new Date(Date.now() + 700).toISOString();
    const sil = await json<{ id: string }>(silence({ flow: "noisy", step: "poll", ends_at: ends, created_by: "bob" }));

    const quiet = await failRun(s, "noisy");
    await sleep(250);
    const run = await getRun(s, quiet);
    expect(run.status).toBe("failed");
    expect(run.alerts).toEqual([
      expect.objectContaining({ status: "silenced", attempts: 0, last_error: `silenced by ${sil.id}` }),
    ]);
    expect(sentFor(quiet)).toBe(0);

    await sleep(Math.max(0, Date.parse(ends) - Date.now()) + 50);
    expect((await json<{ silences: unknown[] }>(s.api("/api/silences"))).silences).toEqual([]);
    const loud = await failRun(s, "noisy");
    await waitUntil(() => sentFor(loud) === 1);
    expect((await getRun(s, loud)).alerts).toEqual([expect.objectContaining({ status: "delivered" })]);
    expect(sentFor(quiet)).toBe(0);
  });

  it("silences external failures too, by flow glob and error type", async () => {
    await json(silence({ flow: "external:*", error_type: "timeout", duration_s: 60 }));
    const timedOut = await json<{ run_id: string }>(
      s.api("/api/failures", {
        method: "POST",
        json: { source: "cron", job: "sync", error: { message: "took too long", type: "timeout" } },
      }),
    );
    const crashed = await json<{ run_id: string }>(
      s.api("/api/failures", { method: "POST", json: { source: "cron", job: "sync", error: { message: "crashed" } } }),
    );
    await waitUntil(() => sentFor(crashed.run_id) === 1);
    await sleep(100);
    expect((await getRun(s, timedOut.run_id)).alerts).toEqual([expect.objectContaining({ status: "silenced" })]);
    expect(sentFor(timedOut.run_id)).toBe(0);
  });
});
