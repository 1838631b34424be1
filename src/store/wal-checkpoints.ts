// Who copies the WAL into the database file. "inline": SQLite's automatic checkpoint, inside whichever
// commit passes 1000 pages, on the event loop (page copies and two fsyncs: at a busy disk a stall of
// seconds for every request behind that commit). "worker": the serving connection never checkpoints
// (wal_autocheckpoint = 0); a worker thread with its own connection runs PASSIVE checkpoints, started
// once the WAL has grown (a database that stays small never pays for a thread). Past a hard cap (the
// worker died or cannot keep up) the serving connection checkpoints itself and the worker is restarted.
import { statSync } from "node:fs";
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import type BetterSqlite3 from "better-sqlite3";
import type { Log } from "../deps";
import type { Config } from "../env";
import {
  BUSY,
  CHECKPOINT_WORKER_SOURCE,
  HOLD,
  type CheckpointReport,
  type CheckpointWorkerData,
} from "./checkpoint-worker";

export type WalCheckpointMode = Config["MEND_WAL_CHECKPOINT"];

const MiB = 1024 * 1024;

export interface WalCheckpointOptions {
  mode: WalCheckpointMode;
  log?: Log;
  /** The worker starts once the WAL file is this big (SQLite's automatic checkpoint: 1000 pages, 4 MiB). */
  startBytes?: number;
  /** Past this the worker holds writes for a moment so the WAL can start over (default 16 MiB). */
  restartBytes?: number;
  /** Past this the serving connection checkpoints itself. */
  capBytes?: number;
  /** How often the main thread looks at the WAL file's size (one stat). */
  checkMs?: number;
  /** How often the worker checkpoints while frames keep coming. */
  everyMs?: number;
  /** The worker's code (tests give one that dies). */
  workerSource?: string;
}

/** A worker that has not reported for this long while the WAL is past its cap is replaced. */
const SILENT_MS = 30_000;
const MAX_BACKOFF_MS = 60_000;
/** Writes wait at most this long for the worker's hold (a stalled disk): then they go on, the WAL just grows. */
const HOLD_MAX_MS = 1_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class WalCheckpoints {
  /** What happened so far: the worker's checkpoints that copied frames, and the serving connection's own. */
  readonly stats = { workerStarts: 0, workerCheckpoints: 0, framesCopied: 0, holds: 0, fallbacks: 0 };
  /** The worker's latest report (undefined until it checkpointed once). */
  last?: CheckpointReport;
  private worker?: Worker;
  private timer?: NodeJS.Timeout;
  private lastReportAt = 0;
  private retryAt = 0;
  private backoffMs = 1000;
  private lastWarnAt = -Infinity;
  private readonly startBytes: number;
  private readonly capBytes: number;
  /** Shared with the worker: HOLD (it copies the last frames), BUSY (a write transaction is running here). */
  private readonly gate = new Int32Array(new SharedArrayBuffer(8));

  constructor(
    private readonly file: string,
    private readonly client: BetterSqlite3.Database,
    private readonly o: WalCheckpointOptions,
  ) {
    this.startBytes = o.startBytes ?? 4 * MiB;
    this.capBytes = o.capBytes ?? 64 * MiB;
    if (o.mode !== "worker") return;
    client.pragma("wal_autocheckpoint = 0");
    // A restarted WAL is cut back to this at its first commit, so its size tells how far it has grown since.
    client.pragma(`journal_size_limit = ${Math.floor(this.capBytes / 4)}`);
    this.timer = setInterval(() => this.check(), o.checkMs ?? 250);
    this.timer.unref();
  }

  /** Runs a write transaction: at once, or after the worker's hold (in a timer, never blocking). */
  write<T>(tx: () => T): T | Promise<T> {
    return this.enter() ? this.run(tx) : this.afterHold(tx);
  }

  private enter(): boolean {
    const g = this.gate;
    if (Atomics.load(g, HOLD) === 1) return false;
    Atomics.store(g, BUSY, 1);
    if (Atomics.load(g, HOLD) === 0) return true;
    Atomics.store(g, BUSY, 0);
    return false;
  }

  private run<T>(tx: () => T): T {
    try {
      return tx();
    } finally {
      Atomics.store(this.gate, BUSY, 0);
    }
  }

  private async afterHold<T>(tx: () => T): Promise<T> {
    const until = Date.now() + HOLD_MAX_MS;
    while (!this.enter()) {
      if (Date.now() >= until) {
        Atomics.store(this.gate, BUSY, 1);
        break;
      }
      await sleep(1);
    }
    return this.run(tx);
  }

  get workerRunning(): boolean {
    return this.worker !== undefined;
  }

  walBytes(): number {
    return statSync(`${this.file}-wal`, { throwIfNoEntry: false })?.size ?? 0;
  }

  /** The main thread's look: start the worker once the WAL has grown, checkpoint here past the cap. */
  check(): void {
    const size = this.walBytes();
    if (size >= this.capBytes) this.fallback(size);
    else if (!this.worker && size >= this.startBytes && Date.now() >= this.retryAt) this.startWorker();
  }

  private fallback(size: number): void {
    this.stats.fallbacks++;
    const silent = this.worker !== undefined && Date.now() - this.lastReportAt > SILENT_MS;
    // Readers are not waited for (a backup's long read would stall the event loop for busy_timeout):
    // what they still see stays in the WAL until the next look.
    const busyMs = this.client.pragma("busy_timeout", { simple: true }) as number;
    this.client.pragma("busy_timeout = 0");
    let r: CheckpointReport | undefined;
    try {
      r = (this.client.pragma("wal_checkpoint(TRUNCATE)") as CheckpointReport[])[0];
    } finally {
      this.client.pragma(`busy_timeout = ${busyMs}`);
    }
    if (Date.now() - this.lastWarnAt > 10_000) {
      this.lastWarnAt = Date.now();
      this.o.log?.("warn", "the WAL passed its cap: checkpointed on the serving connection", {
        wal_bytes: size,
        cap_bytes: this.capBytes,
        worker: this.worker ? (silent ? "silent" : "running") : "not running",
        fallbacks: this.stats.fallbacks,
        busy: r?.busy,
      });
    }
    if (silent) void this.worker!.terminate();
    else if (!this.worker) this.startWorker();
  }

  private startWorker(): void {
    const workerData: CheckpointWorkerData = {
      driver: createRequire(import.meta.url).resolve("better-sqlite3"),
      file: this.file,
      everyMs: this.o.everyMs ?? 100,
      restartBytes: this.o.restartBytes ?? 16 * MiB,
      gate: this.gate,
    };
    const w = new Worker(this.o.workerSource ?? CHECKPOINT_WORKER_SOURCE, { eval: true, workerData });
    w.unref();
    this.worker = w;
    this.stats.workerStarts++;
    this.lastReportAt = Date.now();
    w.on("message", (r: CheckpointReport) => {
      this.last = r;
      this.lastReportAt = Date.now();
      this.backoffMs = 1000;
      if (r.held) this.stats.holds++;
      if (r.copied > 0) {
        this.stats.workerCheckpoints++;
        this.stats.framesCopied += r.copied;
      }
    });
    w.on("error", (err) => this.o.log?.("warn", "the checkpoint worker failed", { error: String(err) }));
    w.on("exit", (code) => {
      Atomics.store(this.gate, HOLD, 0);
      if (this.worker !== w) return;
      this.worker = undefined;
      this.retryAt = Date.now() + this.backoffMs;
      this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
      this.o.log?.("warn", "the checkpoint worker stopped; it restarts when the WAL grows again", { exit_code: code });
    });
  }

  /** Stops the worker (its connection closes). The caller's connection then checkpoints what is left. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    const w = this.worker;
    if (!w) return;
    this.worker = undefined;
    const exited = new Promise<void>((resolve) => w.once("exit", () => resolve()));
    w.postMessage("stop");
    const late = setTimeout(() => void w.terminate(), 5_000);
    await exited;
    clearTimeout(late);
  }
}
