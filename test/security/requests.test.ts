// Red-team findings about requests: bearer scheme case, wrong-token throttle, short tokens, cross-site
// form posts, the login redirect, silence end caps, a foreign database at start.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import { parseEnv } from "../../src/env";
import { safeNext } from "../../src/pages/session";
import { WRONG_PER_MINUTE } from "../../src/routes/bearer";
import { createServices } from "../../src/services";
import { openSqlite } from "../../src/store/sqlite-node";
import { FakeClock } from "../fakes/fake-clock";

const TOKEN = "a-long-enough-token-123";

function app(env: Record<string, string> = {}) {
  const clock = new FakeClock();
  const { deps } = createServices({
    config: parseEnv({ MEND_DB: ":memory:", ...env }),
    db: openSqlite(":memory:"),
    clock,
    log: () => undefined,
  });
  return { app: createApp(deps), clock, deps };
}

describe("the bearer token", () => {
  it("accepts the scheme in any case", async () => {
    const { app: a } = app({ MEND_API_TOKEN: TOKEN });
    for (const scheme of ["Bearer", "bearer", "BEARER"])
      expect((await a.request("/api/flows", { headers: { authorization: `${scheme} ${TOKEN}` } })).status).toBe(200);
  });

  it("must be 16 characters or more", () => {
    expect(() => parseEnv({ MEND_API_TOKEN: "x" })).toThrow(/^MEND_API_TOKEN: must be at least 16 characters/);
  });

  it("answers 429 once wrong tokens come too fast, never to the right token, and lets up after a minute", async () => {
    const { app: a, clock } = app({ MEND_API_TOKEN: TOKEN });
    const wrong = () => a.request("/api/flows", { headers: { authorization: "Bearer wrong-wrong-wrong-wrong" } });
    for (let i = 0; i < WRONG_PER_MINUTE; i++) expect((await wrong()).status).toBe(401);
    const limited = await wrong();
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await a.request("/api/flows", { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    clock.advance(60_000);
    expect((await wrong()).status).toBe(401);
  });
});

describe("without a token", () => {
  it("refuses cross-site form posts to /hooks and /api, and still takes curl's", async () => {
    const { app: a, deps } = app();
    await deps.flows.put({ name: "hello", steps: [{ id: "a", compute: 1 }] } as never, 0);
    const form = await a.request("/hooks/hello", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: "https://evil.example" },
      body: "",
    });
    expect(form.status).toBe(415);
    const noCors = await a.request("/api/runs/x/retry", {
      method: "POST",
      headers: { "sec-fetch-site": "cross-site" },
    });
    expect(noCors.status).toBe(415);
    expect((await deps.runs.listRuns({ limit: 10 })).runs).toHaveLength(0);
    expect((await a.request("/hooks/hello", { method: "POST" })).status).toBe(202);
    expect(
      (
        await a.request("/hooks/hello", {
          method: "POST",
          headers: { "content-type": "application/json", origin: "https://app.example" },
          body: "{}",
        })
      ).status,
    ).toBe(202);
  });
});

describe("deeply nested input", () => {
  it("is a 400 on every JSON route, not a 500", async () => {
    const { app: a, deps } = app();
    await deps.flows.put({ name: "hello", steps: [{ id: "a", compute: 1 }] } as never, 0);
    const body = `{"a":${"[".repeat(2500)}${"]".repeat(2500)}}`;
    const json = { "content-type": "application/json" };
    for (const [method, path] of [
      ["POST", "/hooks/hello"],
      ["POST", "/api/failures"],
      ["PUT", "/api/flows/x"],
      ["POST", "/api/silences"],
      ["POST", "/api/handlers"],
    ]) {
      const res = await a.request(path!, { method, headers: json, body });
      expect(res.status, `${method} ${path}`).toBe(400);
      expect(((await res.json()) as { error: string }).error).toBe("body nests deeper than 400 levels");
    }
    expect((await deps.runs.listRuns({ limit: 10 })).runs).toHaveLength(0);
  });
});

describe("the login redirect", () => {
  it("stays on this site whatever `next` holds", () => {
    for (const next of [
      "/\t/evil.com",
      "/\n/evil.com",
      "//evil.com",
      "/\\evil.com",
      "https://evil.com",
      "/ /evil.com",
      "/\u00a0/evil.com",
    ])
      expect(safeNext(next)).toBe("/");
    expect(safeNext("/runs/abc?status=failed")).toBe("/runs/abc?status=failed");
  });
});

describe("silences", () => {
  it("cannot end more than a year from now", async () => {
    const { app: a, clock } = app();
    const far = new Date(clock.now() + 400 * 86_400_000).toISOString();
    const res = await a.request("/api/silences", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ flow: "x", ends_at: far }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      issues: [{ path: "ends_at", message: expect.stringMatching(/within 366 days/) }],
    });
  });
});

describe("a database of another application", () => {
  const dir = mkdtempSync(join(tmpdir(), "mend-foreign-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("stops start-up with one line", () => {
    const file = join(dir, "other.db");
    const other = new Database(file);
    other.exec("create table runs (x integer); create table step_attempts (y integer);");
    other.close();
    const r = spawnSync(process.execPath, ["--import", "tsx", "src/entry/node.ts"], {
      env: { ...process.env, PORT: "0", MEND_DB: file, MEND_FLOWS_DIR: join(dir, "none") },
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split("\n"), r.stderr).toHaveLength(1);
    expect(r.stderr).toMatch(
      /^mend: MEND_DB: cannot open .*other\.db: its tables are not the ones mend creates \(table `runs` already exists\)/,
    );
  });
});
