// The `prune-under-load` scenario: does deleting old runs stall requests? Seeds BENCH_PRUNE_RUNS ended
// runs (default 500,000: about 60 s of seeding on 2 loaded cores; 1,000,000 took 117 s) with attempts,
// outbox rows and alerts as bench/pages.ts fills them, spread over the last 60 days, into a SQLite file, then drives POST /hooks/bench-accept twice on a mend process of its own:
// with MEND_RETENTION_DAYS=0 (nothing pruned), and with MEND_RETENTION_DAYS=1, where the server's first
// Retention.prune() pass starts 5 s after boot and deletes ~98% of them. Accept's p99 while the pass
// runs is printed next to the p99 without pruning. `BENCH_ONLY=prune-under-load npm run bench`.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, copyFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { fill, pct, startMend, TOKEN } from "./pages";

const CONNECTIONS = 10;
const PRUNE_START_MS = 5_000;

export interface PruneFigure {
  seeded: number;
  seedSeconds: number;
  pruned: number;
  pruneSeconds: number;
  p99Idle: number;
  p99Pruning: number;
  requestsIdle: number;
  requestsPruning: number;
  errors: number;
}

function post(agent: Agent, base: URL): Promise<number> {
  return new Promise((resolveRes, reject) => {
    const req = request(
      {
        agent,
        method: "POST",
        host: base.hostname,
        port: base.port,
        path: "/hooks/bench-accept",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolveRes(res.statusCode ?? 0));
      },
    );
    req.on("error", reject);
    req.end('{"n":1}');
  });
}

/** Drives accept until `until()` says stop; latencies of requests started while `measuring()` holds. */
async function driveAccept(
  url: string,
  until: () => boolean,
  measuring: () => boolean,
): Promise<{ latencies: number[]; errors: number }> {
  const base = new URL(url);
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const latencies: number[] = [];
  let errors = 0;
  const worker = async () => {
    while (!until()) {
      const measured = measuring();
      const t = performance.now();
      const status = await post(agent, base).catch(() => 0);
      if (status !== 202) errors++;
      if (measured) latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  agent.destroy();
  return { latencies: latencies.sort((a, b) => a - b), errors };
}

/** Seeded runs only (accepted ones are added meanwhile). */
const countRuns = (file: string) => {
  const db = new Database(file, { readonly: true });
  const n = (db.prepare("select count(*) as n from runs where flow != 'bench-accept'").get() as { n: number }).n;
  db.close();
  return n;
};

export async function runPruneBench(log: (line: string) => void = console.log): Promise<PruneFigure> {
  const runs = Number(process.env.BENCH_PRUNE_RUNS ?? 500_000);
  const dir = mkdtempSync(join(tmpdir(), "mend-prune-"));
  try {
    const seeded = join(dir, "seeded.db");
    const filled = fill(seeded, runs, 60 * 24);
    log(`seeded ${runs} ended runs in ${(filled.fillMs / 1000).toFixed(1)} s`);
    mkdirSync(join(dir, "flows"));
    writeFileSync(
      join(dir, "flows", "bench-accept.json"),
      JSON.stringify({ name: "bench-accept", steps: [{ id: "a", compute: "{{ input.n }}" }] }),
    );

    // Without pruning: the same file, MEND_RETENTION_DAYS=0, 10 s of accept after 1 s of warm-up.
    const idleFile = join(dir, "idle.db");
    copyFileSync(seeded, idleFile);
    const idle = await startMend(idleFile, dir, { MEND_RETENTION_DAYS: "0" });
    const t0 = performance.now();
    const a = await driveAccept(
      idle.url,
      () => performance.now() - t0 > 11_000,
      () => performance.now() - t0 > 1_000,
    );
    await idle.stop();

    // With pruning: the pass starts PRUNE_START_MS after boot; measured from then until its log line.
    const pruneFile = join(dir, "prune.db");
    copyFileSync(seeded, pruneFile);
    const before = countRuns(pruneFile);
    const server = await startMend(pruneFile, dir, { MEND_RETENTION_DAYS: "1", MEND_LOG_LEVEL: "info" });
    const booted = performance.now();
    let prunedAt: number | undefined;
    let out = "";
    server.child.stdout!.on("data", (c: Buffer) => {
      out += c.toString();
      if (prunedAt === undefined && out.includes("retention: deleted ended runs")) prunedAt = performance.now();
    });
    const capMs = Number(process.env.BENCH_PRUNE_CAP_S ?? 180) * 1000;
    const b = await driveAccept(
      server.url,
      () => prunedAt !== undefined || performance.now() - booted > capMs,
      () => performance.now() - booted >= PRUNE_START_MS,
    );
    await server.stop();
    const after = countRuns(pruneFile);
    const figure: PruneFigure = {
      seeded: runs,
      seedSeconds: filled.fillMs / 1000,
      pruned: before - after,
      pruneSeconds: ((prunedAt ?? performance.now()) - booted - PRUNE_START_MS) / 1000,
      p99Idle: pct(a.latencies, 99),
      p99Pruning: pct(b.latencies, 99),
      requestsIdle: a.latencies.length,
      requestsPruning: b.latencies.length,
      errors: a.errors + b.errors,
    };
    if (prunedAt === undefined) log(`the prune pass had not ended after ${capMs / 1000} s (BENCH_PRUNE_CAP_S)`);
    log(`accept p99 without pruning: ${figure.p99Idle.toFixed(1)} ms over ${figure.requestsIdle} requests`);
    log(
      `accept p99 while pruning:   ${figure.p99Pruning.toFixed(1)} ms over ${figure.requestsPruning} requests ` +
        `(${figure.pruned} runs deleted in ${figure.pruneSeconds.toFixed(1)} s)`,
    );
    if (figure.errors) log(`${figure.errors} requests not answered 202`);
    return figure;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
