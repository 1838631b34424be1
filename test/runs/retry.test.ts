// Retry as SPEC §4/§10 has it: recovered runs too, on the latest version, from an earlier step.
import { beforeEach, describe, expect, it } from "vitest";
import { UP, reply, startMend, type Json, type Mend } from "./harness";

let m: Mend;
beforeEach(async () => {
  m = await startMend();
});

const once = { max_attempts: 1 };
const call = (id: string) => ({ id, http: { method: "POST", url: `${UP}/${id}` }, retry: once });
const calls = (path: string) => m.http.requests.filter((r) => r.url === `${UP}/${path}`).length;
const attempts = (run: Json, step: string) => run.steps.filter((s: { step: string }) => s.step === step).length;

describe("POST /api/runs/:id/retry", () => {
  it("retries a recovered run, which ends succeeded with the real output", async () => {
    await m.putFlow({
      name: "rec",
      steps: [call("call"), { id: "done", compute: { ok: "{{ steps.call.body.v }}" } }],
      on_failure: [{ id: "fallback", compute: { fallback: true } }],
    });
    m.http.reply(reply(500));
    const run = await m.run("rec");
    expect(run.status).toBe("recovered");
    expect(run.output).toEqual({ fallback: true });

    m.http.reply(reply(200, { v: 7 }));
    const r = await m.api("POST", `/api/runs/${run.id}/retry`);
    expect(r.status).toBe(202);
    expect(r.body).toEqual({ run_id: run.id, status: "queued" });
    await m.settle();
    const after = await m.get(run.id);
    expect(after.status).toBe("succeeded");
    expect(after.output).toEqual({ ok: 7 });
    expect(after.error).toBeNull();
  });

  it("with version latest resumes on the flow's latest version", async () => {
    await m.putFlow({ name: "ver", steps: [{ id: "prep", compute: { n: 1 } }, call("call")] });
    m.http.reply(reply(500));
    const run = await m.run("ver");
    expect(run.status).toBe("failed");
    await m.putFlow({
      name: "ver",
      steps: [{ id: "prep", compute: { n: 1 } }, call("call"), { id: "added", compute: { v2: true } }],
    });

    m.http.reply(reply(200, {}));
    const r = await m.api("POST", `/api/runs/${run.id}/retry`, { version: "latest" });
    expect(r.status).toBe(202);
    await m.settle();
    const after = await m.get(run.id);
    expect(after).toMatchObject({ status: "succeeded", flow_version: 2, output: { v2: true } });
    expect(attempts(after, "prep")).toBe(1);
  });

  it("with version latest answers 409 naming the failed step when the latest version lacks it", async () => {
    await m.putFlow({ name: "gone", steps: [call("call")] });
    m.http.reply(reply(500));
    const run = await m.run("gone");
    await m.putFlow({ name: "gone", steps: [call("renamed")] });
    const r = await m.api("POST", `/api/runs/${run.id}/retry`, { version: "latest" });
    expect(r.status).toBe(409);
    expect(r.body.error).toContain("'call'");
    expect((await m.get(run.id)).status).toBe("failed");
    expect(calls("renamed")).toBe(0);
  });

  it("with from_step reruns from an earlier step; the steps before it keep their results", async () => {
    await m.putFlow({ name: "from", steps: [{ id: "prep", compute: { n: 1 } }, call("mid"), call("last")] });
    m.http.reply(reply(200, {}), reply(500));
    const run = await m.run("from");
    expect(run.status).toBe("failed");

    m.http.reply(reply(200, {}), reply(200, { fine: true }));
    const r = await m.api("POST", `/api/runs/${run.id}/retry`, { from_step: "mid" });
    expect(r.status).toBe(202);
    await m.settle();
    const after = await m.get(run.id);
    expect(after.status).toBe("succeeded");
    expect([attempts(after, "prep"), attempts(after, "mid"), attempts(after, "last")]).toEqual([1, 2, 2]);
    expect(calls("mid")).toBe(2);
  });

  it("refuses a from_step after the failed step or not in the flow, changing nothing", async () => {
    await m.putFlow({ name: "bad-from", steps: [call("first"), call("second")] });
    m.http.reply(reply(500));
    const run = await m.run("bad-from");
    const later = await m.api("POST", `/api/runs/${run.id}/retry`, { from_step: "second" });
    expect(later.status).toBe(400);
    expect(later.body.issues[0].path).toBe("from_step");
    const unknown = await m.api("POST", `/api/runs/${run.id}/retry`, { from_step: "nope" });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toContain("nope");
    expect((await m.get(run.id)).status).toBe("failed");
  });

  it("answers 409 for a run that has not ended", async () => {
    await m.putFlow({ name: "slow", steps: [{ id: "wait", sleep: { ms: 60_000 } }] });
    const r = await m.api("POST", "/hooks/slow", {});
    await m.settle();
    const retry = await m.api("POST", `/api/runs/${r.body.run_id}/retry`);
    expect(retry.status).toBe(409);
    expect(retry.body.error).toContain("only failed or recovered runs");
  });
});
