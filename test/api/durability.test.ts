// kill -9 while a run waits for its retry; a restart on the same file finishes it.
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startUpstream, type Upstream } from "../fakes/upstream";
import { startServerProcess } from "../fakes/server-process";

let up: Upstream;
let dir: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  up = await startUpstream();
  dir = mkdtempSync(join(tmpdir(), "mend-kill-"));
  mkdirSync(join(dir, "flows"));
  writeFileSync(
    join(dir, "flows", "durable.json"),
    JSON.stringify({
      name: "durable",
      steps: [
        { id: "prepare", compute: { order: "{{ input.order }}" } },
        {
          id: "charge",
          http: { method: "POST", url: `${up.url}/charge`, body: { order: "{{ steps.prepare.order }}" } },
          retry: { max_attempts: 3, delay_ms: 1500 },
        },
      ],
    }),
  );
});

afterAll(async () => {
  for (const c of children) c.kill("SIGKILL");
  await up.close();
  rmSync(dir, { recursive: true, force: true });
});

function startChild(): Promise<{ child: ChildProcess; url: string }> {
  return startServerProcess(dir, children);
}

async function runStatus(url: string, id: string): Promise<Record<string, unknown>> {
  return (await (await fetch(`${url}/api/runs/${id}`)).json()) as Record<string, unknown>;
}

async function untilStatus(url: string, id: string, status: string): Promise<Record<string, unknown>> {
  let run = await runStatus(url, id);
  for (let i = 0; i < 500 && run.status !== status; i++) {
    await new Promise((r) => setTimeout(r, 20));
    run = await runStatus(url, id);
  }
  return run;
}

describe("durability", () => {
  it("a run waiting for its retry survives kill -9 and succeeds after a restart, calling the upstream once per attempt", async () => {
    up.script([{ status: 503 }], { status: 200, body: { charged: true } });
    const first = await startChild();
    const res = await fetch(`${first.url}/hooks/durable`, {
      method: "POST",
      body: JSON.stringify({ order: 42 }),
      headers: { "content-type": "application/json" },
    });
    expect(res.status).toBe(202);
    const { run_id } = (await res.json()) as { run_id: string };
    for (let i = 0; i < 200 && (await runStatus(first.url, run_id)).status !== "retrying"; i++)
      await new Promise((r) => setTimeout(r, 10));
    expect((await runStatus(first.url, run_id)).status).toBe("retrying");
    first.child.kill("SIGKILL");
    await new Promise((r) => first.child.once("exit", r));
    expect(up.requests).toHaveLength(1);

    const second = await startChild();
    const run = await untilStatus(second.url, run_id, "succeeded");
    expect(run.status).toBe("succeeded");
    expect(run.output).toMatchObject({ status: 200, body: { charged: true } });
    expect(up.requests).toHaveLength(2);
    expect(up.requests.map((r) => JSON.parse(r.body))).toEqual([{ order: 42 }, { order: 42 }]);
    expect(up.requests[0]!.headers["idempotency-key"]).toBe(up.requests[1]!.headers["idempotency-key"]);
    expect(
      (run.steps as { step: string; attempt: number; status: string }[]).map((a) => [a.step, a.attempt, a.status]),
    ).toEqual([
      ["prepare", 1, "succeeded"],
      ["charge", 1, "failed"],
      ["charge", 2, "succeeded"],
    ]);
    second.child.kill("SIGTERM");
  });

  it("a step in flight during kill -9 runs again after the restart (at-least-once)", async () => {
    up.requests.length = 0;
    up.script([{ status: 200, delayMs: 5000 }], { status: 200, body: { charged: "again" } });
    const first = await startChild();
    const res = await fetch(`${first.url}/hooks/durable`, {
      method: "POST",
      body: JSON.stringify({ order: 7 }),
      headers: { "content-type": "application/json" },
    });
    const { run_id } = (await res.json()) as { run_id: string };
    for (let i = 0; i < 200 && up.requests.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    first.child.kill("SIGKILL");
    await new Promise((r) => first.child.once("exit", r));
    const second = await startChild();
    const run = await untilStatus(second.url, run_id, "succeeded");
    expect(run.status).toBe("succeeded");
    expect(up.requests).toHaveLength(2);
    const charge = (run.steps as { step: string; status: string; error: { message: string } | null }[]).filter(
      (a) => a.step === "charge",
    );
    expect(charge.map((a) => a.status)).toEqual(["failed", "succeeded"]);
    expect(charge[0]!.error!.message).toMatch(/interrupted/);
    second.child.kill("SIGTERM");
  });
});
