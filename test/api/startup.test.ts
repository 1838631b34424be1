// A bad configuration stops start-up with one line naming the file or variable.
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const dir = mkdtempSync(join(tmpdir(), "mend-start-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let starts = 0;

/** Starts mend with `env` (its own database file unless given) and waits for it to exit. */
function start(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const db = join(dir, `mend-${++starts}.db`);
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ["--import", "tsx", "src/entry/node.ts"],
      {
        env: { ...process.env, PORT: "0", MEND_DB: db, MEND_FLOWS_DIR: join(dir, "none"), ...env },
        encoding: "utf8",
        timeout: 20_000,
      },
      (_err, _stdout, stderr) => resolve({ code: child.exitCode, stderr: stderr.trim() }),
    );
  });
}

// Concurrent: each start-up is a process of its own (the second core works while the first compiles).
describe.concurrent("start-up with a bad configuration", () => {
  it("names the flow file and the bad field", async () => {
    const flows = join(dir, "flows");
    rmSync(flows, { recursive: true, force: true });
    mkdirSync(flows);
    writeFileSync(join(flows, "broken.yaml"), "name: Not Valid\nsteps: []\n");
    const r = await start({ MEND_FLOWS_DIR: flows });
    expect(r.code).toBe(1);
    expect(r.stderr.split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/broken\.yaml: name: must match/);
  });

  it("names the missing half of a credential pair", async () => {
    const r = await start({ SLACK_BOT_TOKEN: "xoxb-1" });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      "mend: SLACK_SIGNING_SECRET: must be set together with SLACK_BOT_TOKEN (Slack stays off until all are set)",
    );
  });

  it("stops with one line, not a hang, when MEND_DB's folder cannot be created", async () => {
    const r = await start({ MEND_DB: "/proc/mend-nope/mend.db" });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^mend: MEND_DB: cannot open \/proc\/mend-nope\/mend\.db/);
  });

  it("names MEND_DB when the database cannot be opened", async () => {
    const file = join(dir, "a-file");
    writeFileSync(file, "x");
    const r = await start({ MEND_DB: join(file, "mend.db") });
    expect(r.code).toBe(1);
    expect(r.stderr.split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^mend: MEND_DB: cannot open/);
  });
});
