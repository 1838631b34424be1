// Idempotency-Key on run actions: the same key on the same route within 24 h answers the first
// answer again and acts once, also when the requests arrive together.
import { beforeEach, describe, expect, it } from "vitest";
import { RunActions } from "../../src/runs/actions";
import { ActionClaimRepo } from "../../src/store/action-claims";
import { UP, reply, startMend, type Mend } from "./harness";

let m: Mend;
beforeEach(async () => {
  m = await startMend();
  await m.putFlow({
    name: "flaky",
    steps: [{ id: "call", http: { method: "POST", url: `${UP}/call` }, retry: { max_attempts: 1 } }],
  });
  m.http.fallback = reply(500);
});

const key = (k: string) => ({ "idempotency-key": k });
const calls = () => m.http.requests.filter((r) => r.url === `${UP}/call`).length;

describe("Idempotency-Key", () => {
  it("a retry sent twice with one key retries once and answers the first answer again", async () => {
    const run = await m.run("flaky");
    const first = await m.api("POST", `/api/runs/${run.id}/retry`, undefined, key("k-1"));
    await m.settle();
    expect((await m.get(run.id)).status).toBe("failed");
    const again = await m.api("POST", `/api/runs/${run.id}/retry`, undefined, key("k-1"));
    await m.settle();
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(calls()).toBe(2);
    // Another key is another request.
    expect((await m.api("POST", `/api/runs/${run.id}/retry`, undefined, key("k-2"))).status).toBe(202);
    await m.settle();
    expect(calls()).toBe(3);
  });

  it("five concurrent retries with one key act once and all get the first answer", async () => {
    const run = await m.run("flaky");
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => m.api("POST", `/api/runs/${run.id}/retry`, undefined, key("same"))),
    );
    await m.settle();
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202, 202, 202]);
    expect(new Set(answers.map((a) => JSON.stringify(a.body))).size).toBe(1);
    expect(calls()).toBe(2);
  });

  it("five concurrent replays with one key start one new run", async () => {
    const run = await m.run("flaky");
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => m.api("POST", `/api/runs/${run.id}/replay`, {}, key("replay-once"))),
    );
    await m.settle();
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202, 202, 202]);
    expect(new Set(answers.map((a) => a.body.run_id)).size).toBe(1);
    const list = await m.api("GET", "/api/runs?flow=flaky");
    expect(list.body.runs).toHaveLength(2);
  });

  it("the claim is durable: a second service on the same database (another process) does not act again", async () => {
    const run = await m.run("flaky");
    const other = new RunActions(m.deps, new ActionClaimRepo(m.deps.db));
    const req = {
      action: "retry" as const,
      runId: run.id,
      by: { id: "api", via: "api" as const },
      idempotencyKey: "two-processes",
    };
    const [a, b] = await Promise.all([m.deps.runActions.perform(req), other.perform(req)]);
    await m.settle();
    const c = await other.perform(req);
    expect(a.ok).toBe(true);
    // The loser either saw the answer already or was told to come back: it never acted.
    expect(b.ok ? b.body : b.httpStatus).toEqual(b.ok ? a.body : 409);
    expect(c).toMatchObject({ ok: true, body: a.body, replayed: true });
    expect(calls()).toBe(2);
  });

  it("a refusal is answered again too, and the key expires after 24 hours", async () => {
    const run = await m.run("flaky");
    await m.api("POST", `/api/runs/${run.id}/cancel`);
    const refused = await m.api("POST", `/api/runs/${run.id}/cancel`, undefined, key("c"));
    expect(refused.status).toBe(409);
    const again = await m.api("POST", `/api/runs/${run.id}/cancel`, undefined, key("c"));
    expect(again).toMatchObject({ status: 409, body: refused.body });
    expect(again.headers.get("idempotent-replayed")).toBe("true");

    const first = await m.api("POST", `/api/runs/${run.id}/retry`, undefined, key("day"));
    await m.settle();
    await m.clock.advance(24 * 3_600_000 + 1);
    const later = await m.api("POST", `/api/runs/${run.id}/retry`, undefined, key("day"));
    await m.settle();
    expect([first.status, later.status]).toEqual([202, 202]);
    expect(later.headers.get("idempotent-replayed")).toBeNull();
    expect(calls()).toBe(3);
  });

  it("concurrent acks with one key are answered alike, the repeats marked as replayed", async () => {
    const run = await m.run("flaky");
    const answers = await Promise.all(
      ["alice", "bob", "carol"].map((by) => m.api("POST", `/api/runs/${run.id}/ack`, { by }, key("ack-1"))),
    );
    expect(answers.map((a) => a.body.acked_by)).toEqual(["alice", "alice", "alice"]);
    expect(answers.filter((a) => a.headers.get("idempotent-replayed") === "true")).toHaveLength(2);
    expect(m.changes.filter((c) => c.kind === "ack")).toHaveLength(1);
  });

  it("the key is per route: the same key on another action acts", async () => {
    const run = await m.run("flaky");
    const ack = await m.api("POST", `/api/runs/${run.id}/ack`, { by: "alice" }, key("shared"));
    const retry = await m.api("POST", `/api/runs/${run.id}/retry`, undefined, key("shared"));
    expect([ack.status, retry.status]).toEqual([200, 202]);
    expect(retry.body).toEqual({ run_id: run.id, status: "queued" });
  });

  it("refuses a malformed key with 400, doing nothing", async () => {
    const run = await m.run("flaky");
    const r = await m.api("POST", `/api/runs/${run.id}/retry`, undefined, key("has space"));
    expect(r.status).toBe(400);
    expect(r.body.issues[0].path).toBe("Idempotency-Key");
    expect((await m.get(run.id)).status).toBe("failed");
  });
});
