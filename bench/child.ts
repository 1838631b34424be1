import { monitorEventLoopDelay } from "node:perf_hooks";

// Helpers for the bench's child processes (the mend server, the baseline server, the upstream).
// A child tells its parent its port over IPC (and on stdout), answers a few
// requests over IPC, and stops by itself when told to, when the parent goes
// away, or after a hard time limit.

export type ToChild =
  | { type: "stop" }
  | { type: "stats"; id: number }
  | { type: "mem"; id: number }
  | { type: "loop"; id: number; reset: boolean }
  | { type: "dump"; id: number };
export type FromChild =
  | { type: "ready"; port: number }
  | { type: "stats"; id: number; stats: Record<string, number> }
  | { type: "mem"; id: number; rss: number; maxRss: number }
  /** Event-loop delay since the last reset, in ms (perf_hooks.monitorEventLoopDelay). */
  | { type: "loop"; id: number; p50: number; p99: number; max: number }
  /** Whatever the child records (the fake Slack: its calls). */
  | { type: "dump"; id: number; data: unknown };

/** Longest a child may live; the whole bench is far shorter. */
const HARD_LIMIT_MS = Number(process.env.BENCH_CHILD_LIMIT_MS ?? 15 * 60_000);

function send(msg: FromChild): void {
  if (process.connected) process.send?.(msg);
}

/**
 * Wires a child: announces the port, answers IPC requests, and calls `stop`
 * (once) on a stop message, on disconnect, on SIGTERM/SIGINT or at the hard limit.
 */
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();

export function runChild(
  port: number,
  stop: () => Promise<void>,
  stats?: () => Record<string, number>,
  dump?: () => unknown,
): void {
  let stopping = false;
  const shutdown = (code: number) => {
    if (stopping) return;
    stopping = true;
    const force = setTimeout(() => process.exit(code || 2), 10_000);
    force.unref();
    stop()
      .catch((err: unknown) => console.error(`bench child: stop failed: ${String(err)}`))
      .finally(() => process.exit(code));
  };
  process.on("message", (msg: ToChild) => {
    if (msg.type === "stop") shutdown(0);
    else if (msg.type === "stats") send({ type: "stats", id: msg.id, stats: stats?.() ?? {} });
    else if (msg.type === "dump") send({ type: "dump", id: msg.id, data: dump?.() ?? null });
    else if (msg.type === "loop") {
      const ms = (ns: number) => Math.round(ns / 1e4) / 100;
      send({
        type: "loop",
        id: msg.id,
        p50: ms(loopDelay.percentile(50)),
        p99: ms(loopDelay.percentile(99)),
        max: ms(loopDelay.max),
      });
      if (msg.reset) loopDelay.reset();
    } else if (msg.type === "mem")
      send({ type: "mem", id: msg.id, rss: process.memoryUsage().rss, maxRss: process.resourceUsage().maxRSS * 1024 });
  });
  process.on("disconnect", () => shutdown(0));
  process.on("SIGTERM", () => shutdown(0));
  process.on("SIGINT", () => shutdown(0));
  setTimeout(() => {
    console.error(`bench child: hard limit of ${HARD_LIMIT_MS} ms reached, stopping`);
    shutdown(3);
  }, HARD_LIMIT_MS).unref();
  console.log(`PORT ${port}`);
  send({ type: "ready", port });
}

export function argOf(name: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : undefined;
  if (v === undefined) {
    console.error(`bench child: missing --${name}`);
    process.exit(2);
  }
  return v;
}
