// kill -9 in the middle of a parallel step and of a for_each: a restart finishes the run
// without redoing the branches and items that had finished.
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServerProcess } from "../fakes/server-process";
import { startUpstream, type Upstream } from "../fakes/upstream";

let fast: Upstream;
let slow: Upstream;
let dir: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  fast = await startUpstream();
  slow = await startUpstream();
  dir = mkdtempSync(join(tmpdir(), "mend-kill-blocks-"));
  mkdirSync(join(dir, "flows"));
  const call = (url: string) => ({ method: "POST", url, body: { item: "{{ item }}" } });
  writeFileSync(
    join(dir, "flows", "fan.json"),
    JSON.stringify({
      name: "fan",
      steps: [
        {
          id: "fan",
          for_each: { items: "{{ input.items }}", steps: [{ id: "call", http: call(`${fast.url}/item`) }] },
        },
      ],
    }),
  );
  writeFileSync(
    join(dir, "flows", "par.json"),
    JSON.stringify({
      name: "par",
      steps: [
        {
          id: "par",
          parallel: {
            branches: {
              quick: [{ id: "a", http: { method: "POST", url: `${fast.url}/a` } }],
              late: [{ id: "b", http: { method: "POST", url: `${slow.url}/b` } }],
            },
          },
        },
      ],
    }),
  );
});

afterAll(async () => {
  for (const c of children) c.kill("SIGKILL");
  await fast.close();
  await slow.close();
  rmSync(dir, { recursive: true, force: true });
});

async function getRun(url: string, id: string): Promise<Record<string, any>> {
  return (await (await fetch(`${url}/api/runs/${id}`)).json()) as Record<string, any>;
}

async function until(check: () => Promise<boolean> | boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function trigger(url: string, flow: string, input: unknown): Promise<string> {
  const res = await fetch(`${url}/hooks/${flow}`, {
    method: "POST",
    body: JSON.stringify(input),
    headers: { "content-type": "application/json" },
  });
  return ((await res.json()) as { run_id: string }).run_id;
}

async function killHard(child: ChildProcess): Promise<void> {
  child.kill("SIGKILL");
  await new Promise((r) => child.once("exit", r));
}

describe("kill -9 inside blocks", () => {
  it("a for_each resumes at the item in flight; finished items are not called again", async () => {
    fast.script(
      [
        { status: 200, body: { n: 0 } },
        { status: 200, body: { n: 1 } },
      ],
      { status: 200, delayMs: 10_000 },
    );
    const first = await startServerProcess(dir, children);
    const id = await trigger(first.url, "fan", { items: ["x", "y", "z"] });
    await until(() => fast.requests.length === 3, "the third item's call");
    await killHard(first.child);
    fast.script([], { status: 200, body: { n: 2 } });

    const second = await startServerProcess(dir, children);
    let run = await getRun(second.url, id);
    await until(async () => (run = await getRun(second.url, id)).status === "succeeded", "the run to succeed");
    expect(fast.requests.map((r) => JSON.parse(r.body).item)).toEqual(["x", "y", "z", "z"]);
    expect(run.output.map((o: { body: unknown }) => o.body)).toEqual([{ n: 0 }, { n: 1 }, { n: 2 }]);
    const calls = run.steps
      .filter((a: { step: string }) => a.step.startsWith("fan["))
      .map((a: any) => `${a.step}#${a.attempt}:${a.status}`);
    expect(calls).toEqual([
      "fan[0].call#1:succeeded",
      "fan[1].call#1:succeeded",
      "fan[2].call#1:failed",
      "fan[2].call#2:succeeded",
    ]);
    second.child.kill("SIGTERM");
  });

  it("a parallel step resumes the branch in flight; the finished branch is not called again", async () => {
    fast.requests.length = 0;
    fast.script([], { status: 200, body: { branch: "quick" } });
    slow.script([], { status: 200, delayMs: 10_000 });
    const first = await startServerProcess(dir, children);
    const id = await trigger(first.url, "par", {});
    await until(
      async () =>
        slow.requests.length === 1 &&
        (await getRun(first.url, id)).steps.some((a: any) => a.step === "par.quick.a" && a.status === "succeeded"),
      "branch quick done, late in flight",
    );
    await killHard(first.child);
    slow.script([], { status: 200, body: { branch: "late" } });

    const second = await startServerProcess(dir, children);
    let run = await getRun(second.url, id);
    await until(async () => (run = await getRun(second.url, id)).status === "succeeded", "the run to succeed");
    expect(fast.requests).toHaveLength(1);
    expect(slow.requests).toHaveLength(2);
    expect(run.output).toMatchObject({ quick: { body: { branch: "quick" } }, late: { body: { branch: "late" } } });
    second.child.kill("SIGTERM");
  });
});
