// SPEC §12: saving a flow checks what can be checked, for PUT and for files at start alike.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadFlowsDir } from "../../src/entry/flows-dir";
import { makeApp } from "./app";

let h: ReturnType<typeof makeApp>;
afterEach(async () => h?.close());

async function issues(flow: Record<string, unknown>) {
  const res = await h.putFlow(flow);
  expect(res.status).toBe(400);
  return ((await res.json()) as { issues: { path: string; message: string }[] }).issues;
}

describe("save-time checks", () => {
  it("refuses unknown script names, nested ones included, naming the path", async () => {
    h = makeApp();
    expect(
      await issues({
        name: "f",
        steps: [{ id: "a", script: { name: "slak" } }],
        on_failure: [{ id: "h", script: { name: "nope" } }],
      }),
    ).toEqual([
      { path: "steps.0.script.name", message: expect.stringContaining("unknown script 'slak'") },
      { path: "on_failure.0.script.name", message: expect.stringContaining("unknown script 'nope'") },
    ]);
    const nested = await issues({
      name: "f",
      steps: [{ id: "fan", for_each: { items: [1], steps: [{ id: "s", script: { name: "x" } }] } }],
    });
    expect(nested[0]!.path).toBe("steps.0.for_each.steps.0.script.name");
    expect((await h.putFlow({ name: "f", steps: [{ id: "a", script: { name: "log" } }] })).status).toBe(201);
  });

  it("refuses handler names in alerts that are not registered, and takes them once registered", async () => {
    h = makeApp();
    expect(await issues({ name: "f", alerts: ["ops-slack"], steps: [{ id: "a", compute: 1 }] })).toEqual([
      { path: "alerts.0", message: expect.stringContaining("no handler named 'ops-slack'") },
    ]);
    await h.request("POST", "/api/handlers", { name: "ops-slack", kind: "log", config: {} });
    expect((await h.putFlow({ name: "f", alerts: ["ops-slack"], steps: [{ id: "a", compute: 1 }] })).status).toBe(201);
  });

  it("refuses unknown template roots and steps.<id> of an unknown or later step", async () => {
    h = makeApp();
    const found = await issues({
      name: "f",
      steps: [
        { id: "a", compute: "{{ env.HOME }}" },
        { id: "b", compute: "{{ steps.c.x }}" },
        { id: "c", compute: "{{ steps.zzz }}" },
        { id: "d", compute: "{{ item }}" },
      ],
      error: { message: "{{ secrets.KEY }}" },
    });
    expect(found).toEqual([
      { path: "steps.0", message: expect.stringContaining("unknown template root 'env'") },
      { path: "steps.1", message: expect.stringContaining("names step 'c', which has not run at this point") },
      { path: "steps.2", message: expect.stringContaining("names unknown step 'zzz'") },
      { path: "steps.3", message: expect.stringContaining("'item' exists only inside a for_each") },
      { path: "error", message: expect.stringContaining("'secrets' is not available in an error object") },
    ]);
  });

  it("checks files at start the same way, naming the file and the path", async () => {
    h = makeApp();
    const dir = mkdtempSync(join(tmpdir(), "mend-flows-"));
    try {
      writeFileSync(join(dir, "bad.yaml"), "steps:\n  - id: a\n    script: { name: nope }\n");
      await expect(loadFlowsDir(dir, h.deps)).rejects.toThrow(
        /bad\.yaml: steps\.0\.script\.name: unknown script 'nope'/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("loads flows from subfolders, skips *.test.yaml, and refuses one name defined twice", async () => {
    h = makeApp();
    const dir = mkdtempSync(join(tmpdir(), "mend-flows-"));
    try {
      mkdirSync(join(dir, "examples"));
      writeFileSync(join(dir, "top.yaml"), "steps: [{ id: a, compute: 1 }]\n");
      writeFileSync(join(dir, "examples", "inner.yaml"), "steps: [{ id: a, compute: 2 }]\n");
      writeFileSync(join(dir, "examples", "inner.test.yaml"), "flow: inner\nexpect: { status: succeeded }\n");
      expect(await loadFlowsDir(dir, h.deps)).toEqual(["inner", "top"]);
      writeFileSync(join(dir, "examples", "top.yaml"), "steps: [{ id: a, compute: 3 }]\n");
      await expect(loadFlowsDir(dir, h.deps)).rejects.toThrow(/flow 'top' is also defined in/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("defaults", () => {
  it("accept on_error as a synonym of error and refuse roots an error object cannot see", async () => {
    h = makeApp();
    const ok = await h.request("PUT", "/api/defaults", {
      on_error: { status: "{{ error:status }}", message: "{{ error:message }}" },
    });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ error: { status: "{{ error:status }}", message: "{{ error:message }}" } });
    const bad = await h.request("PUT", "/api/defaults", { error: { message: "{{ secrets.KEY }}" } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).issues[0]).toMatchObject({
      path: "error",
      message: expect.stringContaining("'secrets' is not available"),
    });
  });
});
