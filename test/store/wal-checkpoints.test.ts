// WAL checkpoints off the event loop (src/store/wal-checkpoints.ts): a worker thread copies the WAL into
// the database file, the serving connection never does (unless the WAL passes its cap), and a clean
// close leaves no WAL behind. Sizes are scaled down so a few MiB of writes exercise every path.
import Database from "better-sqlite3";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { settings } from "../../db/schema";
import { openSqlite, type SqliteDb, type SqliteOptions } from "../../src/store/sqlite-node";
import { parseEnv } from "../../src/env";
import { startTestServer } from "../api/server";

const KiB = 1024;
const ROW = "x".repeat(1000);
let dir: string;
let file: string;
let d: SqliteDb | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "mend-wal-"));
  file = join(dir, "mend.db");
});
afterEach(async () => {
  await d?.close();
  d = undefined;
  rmSync(dir, { recursive: true, force: true });
});

const walBytes = () => statSync(`${file}-wal`, { throwIfNoEntry: false })?.size ?? 0;
const tick = () => new Promise((r) => setTimeout(r, 1));

function open(o: SqliteOptions): SqliteDb {
  d = openSqlite(file, { startBytes: 64 * KiB, restartBytes: 256 * KiB, checkMs: 5, everyMs: 5, ...o });
  return d;
}

/** Writes rows of ~1 KB in batches of 4 (one transaction each) until `done` or `max` rows; the largest WAL seen. */
async function write(db: SqliteDb, from: number, max: number, done: () => boolean = () => false) {
  let maxWal = 0;
  let n = from;
  for (; n < from + max && !done(); n += 4) {
    const rows = [0, 1, 2, 3].map((i) => ({ key: `k${n + i}`, value: ROW }));
    await db.batch(rows.map((r) => ({ query: db.db.insert(settings).values(r) })));
    maxWal = Math.max(maxWal, walBytes());
    await tick();
  }
  return { maxWal, written: n - from };
}

const countRows = () => {
  const c = new Database(file); // read-write: it may have to recover a WAL left by a killed process
  try {
    return (c.prepare("SELECT count(*) AS n FROM settings WHERE key LIKE 'k%'").get() as { n: number }).n;
  } finally {
    c.close();
  }
};

describe("WAL checkpoints from a worker thread", () => {
  it("under sustained writes the worker checkpoints and the WAL starts over; the serving connection never checkpoints", async () => {
    const db = open({ mode: "worker" });
    expect(db.client.pragma("wal_autocheckpoint", { simple: true })).toBe(0);
    expect(db.checkpoints!.workerRunning).toBe(false);
    const started = await write(db, 0, 20_000, () => db.checkpoints!.stats.workerCheckpoints > 0);
    // Then 6,000 rows of 1 KB: ~6 MiB through the WAL (without the restarts, ~11 MiB of WAL).
    const { maxWal, written } = await write(db, started.written, 6_000);
    const s = db.checkpoints!.stats;
    expect(s.workerStarts).toBe(1);
    expect(s.workerCheckpoints).toBeGreaterThan(0);
    expect(s.holds).toBeGreaterThanOrEqual(2);
    expect(s.fallbacks).toBe(0);
    expect(maxWal).toBeLessThan(written * KiB * 0.5);
    // The rows are in the database file itself: a copy without its WAL holds most of them.
    expect(statSync(file).size).toBeGreaterThan(3 * 1024 * KiB);
  });

  it("a small database never starts a worker", async () => {
    const db = open({ mode: "worker", startBytes: 4 * 1024 * KiB });
    await write(db, 0, 200);
    await new Promise((r) => setTimeout(r, 50));
    expect(db.checkpoints!.workerRunning).toBe(false);
    expect(db.checkpoints!.stats.workerStarts).toBe(0);
  });

  it("close stops the worker and leaves no WAL behind; every row is in the file", async () => {
    const db = open({ mode: "worker" });
    const { written } = await write(db, 0, 4_000, () => db.checkpoints!.stats.workerCheckpoints > 0);
    expect(db.checkpoints!.workerRunning).toBe(true);
    await db.close();
    d = undefined;
    expect(walBytes()).toBe(0);
    expect(countRows()).toBe(written);
  });

  it("past the cap with no worker alive, the serving connection checkpoints, restarts the worker and logs it", async () => {
    const lines: { level: string; msg: string; fields?: Record<string, unknown> }[] = [];
    const db = open({
      mode: "worker",
      capBytes: 1024 * KiB,
      // A worker that dies at once: what a crashed thread leaves behind.
      workerSource: "process.exit(7)",
      log: (level, msg, fields) => lines.push({ level, msg, fields }),
    });
    const done = () => db.checkpoints!.stats.fallbacks >= 2 && db.checkpoints!.stats.workerStarts >= 2;
    const { written } = await write(db, 0, 20_000, done);
    const s = db.checkpoints!.stats;
    expect(s.fallbacks).toBeGreaterThanOrEqual(2);
    expect(s.workerStarts).toBeGreaterThanOrEqual(2);
    expect(s.workerCheckpoints).toBe(0);
    expect(lines.some((l) => l.level === "warn" && /passed its cap/.test(l.msg))).toBe(true);
    expect(lines.some((l) => l.level === "warn" && /worker stopped/.test(l.msg) && l.fields?.exit_code === 7)).toBe(
      true,
    );
    // TRUNCATE emptied the WAL each time: it never got far past the cap.
    expect(walBytes()).toBeLessThan(2 * 1024 * KiB);
    await db.close();
    d = undefined;
    expect(countRows()).toBe(written);
  });

  it("kill -9 while the worker checkpoints loses no committed row", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", "test/fakes/wal-writer.ts", file], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let committed = 0;
    await new Promise<void>((resolve, reject) => {
      let out = "";
      child.stdout!.on("data", (b: Buffer) => {
        out = (out + b.toString()).slice(-200);
        const lines = out.split("\n").slice(0, -1); // whole lines only
        if (lines.length === 0) return;
        const last = lines.at(-1)!.split(" ");
        committed = Number(last[1]);
        // Past two holds: the WAL has started over at least once under the worker.
        if (Number(last[3]) >= 2 && child.kill("SIGKILL")) resolve();
      });
      child.once("exit", (code, signal) => (signal ? resolve() : reject(new Error(`writer exited with ${code}`))));
    });
    await new Promise((r) => (child.exitCode !== null || child.signalCode ? r(undefined) : child.once("exit", r)));
    expect(committed).toBeGreaterThan(0);
    expect(countRows()).toBeGreaterThanOrEqual(committed);
  });

  it("inline keeps SQLite's automatic checkpoint on the serving connection, with no worker", async () => {
    const db = open({ mode: "inline" });
    expect(db.client.pragma("wal_autocheckpoint", { simple: true })).toBe(1000);
    await write(db, 0, 2_000);
    expect(db.checkpoints!.stats.workerStarts).toBe(0);
  });

  it("the server takes the mode from MEND_WAL_CHECKPOINT (worker unless told) and refuses other values", async () => {
    for (const [env, autocheckpoint] of [
      [{}, 0],
      [{ MEND_WAL_CHECKPOINT: "inline" }, 1000],
    ] as const) {
      const server = await startTestServer(env);
      try {
        const db = server.deps.db as SqliteDb;
        expect(db.client.pragma("wal_autocheckpoint", { simple: true })).toBe(autocheckpoint);
      } finally {
        await server.stop();
      }
    }
    expect(() => parseEnv({ MEND_WAL_CHECKPOINT: "thread" })).toThrow(/MEND_WAL_CHECKPOINT/);
  });
});
