// External failures (POST /api/failures): retry and replay go to their callbacks, from the service
// only; without a URL nothing is sent; concurrent requests never overwrite ledger rows.
import { Webhook } from "standardwebhooks";
import { beforeEach, describe, expect, it } from "vitest";
import type { RecordedRequest } from "../engine/harness";
import { SECRET, reply, startMend, type Mend } from "./harness";

const RETRY = "https://ci.example/mend/retry";
const REPLAY = "https://ci.example/mend/replay";

let m: Mend;
beforeEach(async () => {
  m = await startMend();
});

const sent = (url: string) => m.http.requests.filter((r) => r.url === url);
const ledger = async (id: string, step: string) =>
  (await m.get(id)).steps.filter((s: { step: string }) => s.step === step);

/** A callback answer held until release(): the calls overlap as they would on a slow CI. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return {
    release: () => open(),
    reply: async (_: RecordedRequest) => {
      await opened;
      return new Response(JSON.stringify({ queued: true }), {
        status: 200,
        headers: { "content-type": "application/json" },
      });
    },
  };
}

describe("external runs", () => {
  it("without replay_url: replay is a 409 that says so, and nothing is sent", async () => {
    const id = await m.report({ retry_url: RETRY });
    const r = await m.api("POST", `/api/runs/${id}/replay`);
    expect(r.status).toBe(409);
    expect(r.body.error).toContain("replay_url");
    expect(r.body.error).not.toContain("could not reach");
    expect(m.http.requests).toEqual([]);
    expect(await ledger(id, "replay_callback")).toEqual([]);
  });

  it("a chat click on Replay without replay_url says so, not 'could not reach', and sends nothing", async () => {
    const id = await m.report({ retry_url: RETRY });
    const r = await m.deps.clicks.handle({
      platform: "slack",
      action: "replay",
      runId: id,
      user: { id: "U1", name: "alice" },
      allowed: true,
    });
    expect(r.status).toBe("refused");
    expect(r.summary).toContain("replay_url");
    expect(r.summary).not.toContain("could not reach");
    expect(m.http.requests).toEqual([]);
    // Retry from chat goes through the same service: one signed callback naming the clicker.
    m.http.reply(reply(200, {}));
    const retry = await m.deps.clicks.handle({
      platform: "slack",
      action: "retry",
      runId: id,
      user: { id: "U1", name: "alice" },
      allowed: true,
    });
    expect(retry.summary).toContain("sent to ci (answered 200)");
    expect(JSON.parse(sent(RETRY)[0]!.body!).requested_by).toBe("slack:U1");
  });

  it("retry sends one signed callback and records the answer", async () => {
    const id = await m.report({ retry_url: RETRY, input: { commit: "abc" } });
    m.http.reply(reply(200, { queued: "build-43" }));
    const r = await m.api("POST", `/api/runs/${id}/retry`, { by: "alice" });
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({
      run_id: id,
      status: "failed",
      action: "retry",
      callback: { url: RETRY, status: 200, body: { queued: "build-43" } },
    });
    const [req] = sent(RETRY);
    const headers = Object.fromEntries(Object.entries(req!.headers));
    expect(new Webhook(SECRET).verify(req!.body!, headers)).toEqual({
      type: "retry",
      run_id: id,
      source: "ci",
      job: "nightly-build",
      input: { commit: "abc" },
      requested_by: "alice",
    });
    expect(await ledger(id, "retry_callback")).toMatchObject([
      { attempt: 1, status: "succeeded", output: { status: 200, requested_by: "alice" } },
    ]);
  });

  it("five concurrent retries without a key make one callback; the others are told one is on its way", async () => {
    const id = await m.report({ retry_url: RETRY });
    const g = gate();
    m.http.reply(g.reply);
    const pending = Array.from({ length: 5 }, () => m.api("POST", `/api/runs/${id}/retry`));
    await new Promise((r) => setTimeout(r, 50));
    g.release();
    const answers = await Promise.all(pending);
    expect(answers.map((a) => a.status).sort()).toEqual([202, 409, 409, 409, 409]);
    expect(answers.find((a) => a.status === 409)!.body.error).toContain("already on its way");
    expect(sent(RETRY)).toHaveLength(1);

    // A later retry is a new callback with its own ledger row; the first row stays.
    m.http.reply(reply(200, { queued: "again" }));
    expect((await m.api("POST", `/api/runs/${id}/retry`)).status).toBe(202);
    const rows = await ledger(id, "retry_callback");
    expect(rows.map((r: { attempt: number; output: { body: unknown } }) => [r.attempt, r.output.body])).toEqual([
      [1, { queued: true }],
      [2, { queued: "again" }],
    ]);
    const ids = sent(RETRY).map((r) => r.headers["webhook-id"]);
    expect(new Set(ids).size).toBe(2);
  });

  it("five concurrent retries with one Idempotency-Key make exactly one callback and one answer", async () => {
    const id = await m.report({ retry_url: RETRY });
    const g = gate();
    m.http.reply(g.reply);
    const pending = Array.from({ length: 5 }, () =>
      m.api("POST", `/api/runs/${id}/retry`, undefined, { "idempotency-key": "ci-once" }),
    );
    await new Promise((r) => setTimeout(r, 50));
    g.release();
    const answers = await Promise.all(pending);
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202, 202, 202]);
    expect(new Set(answers.map((a) => JSON.stringify(a.body))).size).toBe(1);
    expect(sent(RETRY)).toHaveLength(1);
    expect(await ledger(id, "retry_callback")).toHaveLength(1);
  });

  it("replay with an edited input sends that input", async () => {
    const id = await m.report({ replay_url: REPLAY, input: { env: "prod" } });
    m.http.reply(reply(202, {}));
    const r = await m.api("POST", `/api/runs/${id}/replay`, { input: { env: "staging" } });
    expect(r.status).toBe(202);
    expect(r.body.replay_of).toBe(id);
    expect(JSON.parse(sent(REPLAY)[0]!.body!).input).toEqual({ env: "staging" });
  });

  it("a success report closes the run and is told to the listeners", async () => {
    const id = await m.report();
    const r = await m.api("POST", "/api/failures", { source: "ci", job: "nightly-build", status: "succeeded" });
    expect(r.status).toBe(202);
    await m.settle();
    expect((await m.get(id)).status).toBe("succeeded");
    expect(m.changes).toContainEqual(expect.objectContaining({ runId: id, kind: "external_resolved" }));
  });
});
