// `npm run flows:test` runs every *.test.yaml beside the flows; the shipped examples all pass.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { runFlowTests } from "../../src/entry/flows-test";
import { makeApp } from "./app";

const run = promisify(execFile);

describe("npm run flows:test", () => {
  it("passes for every shipped flow test, the seed examples included", async () => {
    const { stdout } = await run("npm", ["run", "-s", "flows:test"], { cwd: process.cwd(), timeout: 60_000 });
    for (const example of [
      "windmill-slack-handler",
      "windmill-crm",
      "semaphore-errors",
      "mashin-weather",
      "mashin-pipeline",
      "mashin-try-it",
      "hello",
    ]) {
      expect(stdout).toContain(`ok   flows/`);
      expect(stdout).toMatch(new RegExp(`ok {3}flows/(examples/)?${example}\\.test\\.yaml`));
    }
    expect(stdout).toMatch(/\d+ passed, 0 failed/);
  }, 90_000);

  it("exits 1 naming the mismatch", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mend-flowtests-"));
    try {
      writeFileSync(join(dir, "f.yaml"), "steps: [{ id: a, compute: { n: 1 } }]\n");
      writeFileSync(join(dir, "f.test.yaml"), "flow: f\nexpect: { status: succeeded, output: { n: 2 } }\n");
      const lines: string[] = [];
      expect(await runFlowTests(dir, (l) => lines.push(l))).toBe(1);
      expect(lines[0]).toMatch(/FAIL .*f\.test\.yaml: output \{"n":1\}, expected \{"n":2\}/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the README's weather.yaml", () => {
  let h: ReturnType<typeof makeApp>;
  afterEach(async () => h?.close());

  it("is shipped at the repo root as the README shows it, and its curl stores it", async () => {
    const readme = readFileSync("README.md", "utf8");
    const block = /```yaml\n(name: weather\n[\s\S]*?)```/.exec(readme)![1]!;
    expect(readFileSync("weather.yaml", "utf8")).toBe(block);
    expect(readme).toContain("--data-binary @weather.yaml");
    h = makeApp();
    const res = await h.request("PUT", "/api/flows/weather", readFileSync("weather.yaml", "utf8"), {
      "content-type": "application/yaml",
    });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ name: "weather", version: 1 });
  });
});
