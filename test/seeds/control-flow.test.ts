// SPEC §12 control flow: when, parallel, for_each and child flows, with the ledger, retries,
// timeouts and error objects holding inside them.
import { describe, expect, it } from "vitest";
import { flow, hang, makeHarness, reply, URL_A } from "../engine/harness";

const ledger = async (h: ReturnType<typeof makeHarness>, id: string) =>
  (await h.attempts(id)).map((a) => `${a.step}#${a.attempt}:${a.status}`);

describe("when", () => {
  it("skips a falsy step (ledger status skipped, result null), also in on_failure, and branches on error.type", async () => {
    const h = makeHarness({
      flows: [
        flow("f", [
          { id: "maybe", when: "{{ input.go }}", compute: "ran" },
          { id: "after", compute: { maybe: "{{ steps.maybe }}" } },
        ]),
        flow("try", [{ id: "call", http: { method: "GET", url: URL_A }, timeout_ms: 50 }], {
          on_failure: [
            {
              id: "timed_out",
              when: { equals: ["{{ error.type }}", "timeout"] },
              compute: { data: "cached", message: "the API timed out" },
            },
            {
              id: "other",
              when: { not_equals: ["{{ error.type }}", "timeout"] },
              compute: { data: "cached", message: "the API failed: {{ error.message }}" },
            },
          ],
        }),
      ],
    });
    const off = await h.start("f", { go: false });
    expect(off.output).toEqual({ maybe: null });
    expect(await ledger(h, off.id)).toEqual(["maybe#1:skipped", "after#1:succeeded"]);
    expect((await h.start("f", { go: true })).output).toEqual({ maybe: "ran" });

    h.http.reply(reply(500, "down"));
    const failed = await h.start("try");
    expect(failed).toMatchObject({
      status: "recovered",
      output: { message: "the API failed: GET http://api.test/a returned 500" },
    });
    h.http.reply(hang);
    const slow = await h.start("try");
    await h.clock.advance(50);
    await h.settle();
    expect(await h.run(slow.id)).toMatchObject({ status: "recovered", output: { message: "the API timed out" } });
  });
});

describe("parallel", () => {
  it("runs named branches and answers { name: last result }, each inner step in the ledger by path", async () => {
    const h = makeHarness({
      flows: [
        flow("p", [
          {
            id: "par",
            parallel: {
              branches: {
                a: [
                  { id: "a1", compute: 1 },
                  { id: "a2", compute: "{{ steps.a1 }}" },
                ],
                b: [{ id: "b1", http: { method: "GET", url: URL_A } }],
              },
            },
          },
          { id: "out", compute: "{{ steps.par }}" },
        ]),
      ],
    });
    h.http.reply(reply(200, { ok: true }));
    const run = await h.start("p");
    expect(run.status).toBe("succeeded");
    expect(run.output).toEqual({
      a: 1,
      b: { status: 200, headers: { "content-type": "application/json" }, body: { ok: true } },
    });
    expect(await ledger(h, run.id)).toEqual(
      expect.arrayContaining([
        "par.a.a1#1:succeeded",
        "par.a.a2#1:succeeded",
        "par.b.b1#1:succeeded",
        "par#1:succeeded",
      ]),
    );
  });

  it("mode all lets every branch finish; fail_fast cancels the others; error.step names the branch step", async () => {
    const branches = {
      bad: [{ id: "boom", fail: { message: "no" } }],
      slow: [{ id: "wait", http: { method: "GET", url: URL_A } }],
    };
    const h = makeHarness({
      flows: [
        flow("all", [{ id: "par", parallel: { branches } }], {
          on_failure: [{ id: "h", compute: "{{ error.step }}" }],
        }),
        flow("fast", [{ id: "par", parallel: { branches, mode: "fail_fast" } }]),
      ],
    });
    h.http.reply(reply(200, "x"));
    const all = await h.start("all");
    expect(all).toMatchObject({ status: "recovered", output: "par.bad.boom" });
    expect(await ledger(h, all.id)).toContain("par.slow.wait#1:succeeded");
    h.http.reply(hang);
    const fast = await h.start("fast");
    expect(fast.status).toBe("failed");
    expect(fast.error).toMatchObject({ step: "par.bad.boom", message: "no" });
    expect((await h.attemptsOf(fast.id, "par.slow.wait"))[0]).toMatchObject({
      status: "failed",
      error: { type: "cancelled" },
    });
  });
});

describe("for_each", () => {
  it("answers a list, exposes item and index, honours concurrency, and retries inside an iteration", async () => {
    const h = makeHarness({
      flows: [
        flow("loop", [
          {
            id: "fan",
            for_each: {
              items: "{{ input.orders }}",
              concurrency: 2,
              steps: [
                {
                  id: "call",
                  http: { method: "POST", url: URL_A, body: { order: "{{ item }}", i: "{{ index }}" } },
                  retry: { max_attempts: 2 },
                },
                { id: "done", compute: { order: "{{ item }}", status: "{{ steps.call.status }}" } },
              ],
            },
          },
        ]),
      ],
    });
    h.http.reply(reply(200), reply(503), reply(200), reply(200));
    const run = await h.start("loop", { orders: ["a", "b", "c"] });
    expect(run.status).toBe("succeeded");
    expect(run.output).toEqual([
      { order: "a", status: 200 },
      { order: "b", status: 200 },
      { order: "c", status: 200 },
    ]);
    expect((await h.attemptsOf(run.id, "fan[1].call")).map((a) => a.status)).toEqual(["failed", "succeeded"]);
    expect(h.http.requests.map((r) => JSON.parse(r.body!).order)).toEqual(["a", "b", "b", "c"]);
  });

  it("names the failing iteration in error.step and applies the failing step's error object", async () => {
    const h = makeHarness({
      flows: [
        flow("loop", [
          {
            id: "fan",
            for_each: {
              items: [1, 2, 3],
              steps: [
                {
                  id: "call",
                  when: "{{ item }}",
                  fail: { message: "item {{ item }}" },
                  error: { params: { which: "{{ error.step }}" } },
                },
              ],
            },
          },
        ]),
      ],
    });
    const run = await h.start("loop");
    expect(run.error).toMatchObject({ step: "fan[0].call", message: "item 1", params: { which: "fan[0].call" } });
  });

  it("times out an attempt inside an iteration with its own timeout_ms", async () => {
    const h = makeHarness({
      flows: [
        flow("loop", [
          {
            id: "fan",
            for_each: { items: [1], steps: [{ id: "call", http: { method: "GET", url: URL_A }, timeout_ms: 100 }] },
          },
        ]),
      ],
    });
    h.http.reply(hang);
    const run = await h.start("loop");
    await h.clock.advance(100);
    await h.settle();
    expect((await h.run(run.id)).error).toMatchObject({ type: "timeout", step: "fan[0].call" });
  });
});

describe("child flows", () => {
  it("runs a child run with parent_run; its output is the step's result", async () => {
    const h = makeHarness({
      flows: [
        flow("child", [{ id: "c", compute: { doubled: "{{ input.n }}{{ input.n }}" } }]),
        flow("parent", [
          { id: "sub", flow: { name: "child", input: { n: "{{ input.n }}" } } },
          { id: "out", compute: "{{ steps.sub.doubled }}" },
        ]),
      ],
    });
    const run = await h.start("parent", { n: 4 });
    expect(run).toMatchObject({ status: "succeeded", output: "44" });
    const child = h.store.listRuns().find((r) => r.flow === "child")!;
    expect(child.parentRun).toBe(run.id);
  });

  it("a child's failure after its own on_failure is the step's error; a recovered child is a success", async () => {
    const h = makeHarness({
      flows: [
        flow("fails", [{ id: "x", fail: { message: "child broke", type: "network" } }]),
        flow("recovers", [{ id: "x", fail: { message: "child broke" } }], {
          on_failure: [{ id: "fb", compute: "fallback" }],
        }),
        flow("p1", [{ id: "sub", flow: { name: "fails" } }], {
          on_failure: [
            {
              id: "extract_error",
              compute: { stage: "extract", error: "{{ error.message }}", type: "{{ error.type }}" },
            },
          ],
        }),
        flow("p2", [{ id: "sub", flow: { name: "recovers" } }]),
      ],
    });
    const p1 = await h.start("p1");
    expect(p1.status).toBe("recovered");
    expect(p1.output).toMatchObject({
      stage: "extract",
      type: "network",
      error: expect.stringContaining("child broke"),
    });
    expect(await h.start("p2")).toMatchObject({ status: "succeeded", output: "fallback" });
  });
});

describe("the run page", () => {
  it("draws branches and iterations nested under their step, and skipped steps", async () => {
    const { makeApp } = await import("./app");
    const app = makeApp();
    try {
      await app.putFlow({
        name: "drawn",
        steps: [
          { id: "off", when: false, compute: 1 },
          { id: "par", parallel: { branches: { a: [{ id: "a1", compute: 1 }], b: [{ id: "b1", compute: 2 }] } } },
          { id: "fan", for_each: { items: [1, 2], steps: [{ id: "sq", compute: "{{ item }}" }] } },
        ],
      });
      const { run_id } = (await (await app.trigger("drawn")).json()) as { run_id: string };
      const html = await (await app.request("GET", `/runs/${run_id}`)).text();
      expect(html).toContain("par › a › a1");
      expect(html).toContain("fan › #1 › sq");
      expect(html).toMatch(/data-depth="2"/);
      expect(html).toContain("s-skipped");
    } finally {
      await app.close();
    }
  });
});

describe("a child flow after a crash", () => {
  it("the resumed parent waits for the child it had started instead of starting a second one", async () => {
    const h = makeHarness({
      flows: [flow("child", [{ id: "c", compute: "x" }]), flow("parent", [{ id: "sub", flow: { name: "child" } }])],
    });
    const now = h.clock.now();
    const base = {
      flowVersion: 1,
      input: {},
      output: null,
      error: null,
      replayOf: null,
      external: null,
      createdAt: now,
      updatedAt: now,
      finishedAt: null,
    };
    // What a process killed while `sub` waited leaves behind: the parent running, its attempt open, the child done.
    await h.store.commit([
      {
        op: "insertRun",
        run: {
          ...base,
          id: "P1",
          flow: "parent",
          status: "running",
          cursor: { phase: "main", index: 0, attempt: 0 },
          dueAt: now,
        },
        leaseUntil: null,
      },
      {
        op: "putAttempt",
        attempt: {
          runId: "P1",
          step: "sub",
          attempt: 1,
          phase: "main",
          status: "running",
          startedAt: now,
          finishedAt: null,
          durationMs: null,
          output: null,
          error: null,
        },
      },
      {
        op: "insertRun",
        run: {
          ...base,
          id: "P1-sub-1",
          flow: "child",
          parentRun: "P1",
          status: "succeeded",
          output: "from the first child",
          cursor: { phase: "main", index: 1, attempt: 0 },
          dueAt: null,
          finishedAt: now,
        },
        leaseUntil: null,
      },
    ]);
    await h.advance(0);
    expect(await h.run("P1")).toMatchObject({ status: "succeeded", output: "from the first child" });
    expect(
      h.store
        .listRuns()
        .map((r) => r.id)
        .sort(),
    ).toEqual(["P1", "P1-sub-1"]);
    expect(await ledger(h, "P1")).toEqual(["sub#1:succeeded"]);
  });
});
