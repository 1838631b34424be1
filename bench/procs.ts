// The bench's child processes (servers, upstream, fake Slack) and what it measures about them:
// peak RSS and CPU time from /proc.
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { build } from "esbuild";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { FromChild, ToChild } from "./child";
import { CPU_PROF, SERVER_V8_FLAGS } from "./settings";

const HERE = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(HERE, "..");

export interface Child {
  name: string;
  pid: number;
  port: number;
  url: string;
  ask(type: "stats"): Promise<Record<string, number>>;
  askMem(): Promise<{ rss: number; maxRss: number }>;
  /** Event-loop delay (ms) since the last reset; `reset` starts a new window. */
  askLoop(reset: boolean): Promise<{ p50: number; p99: number; max: number }>;
  /** What the child records (the fake Slack's posts). */
  dump<T>(): Promise<T>;
  stop(): Promise<void>;
  stderrTail(): string;
}

const children = new Set<ChildProcess>();
let nextAsk = 1;

/**
 * Servers run as esbuild bundles under plain node, as a deployment would: under tsx,
 * its loader thread would add ~30 MiB to every server's RSS. The bundle sits two
 * folders below the root so paths the code resolves from its own file (the
 * migrations folder) stay the same; packages stay in node_modules.
 */
const bundles = new Map<string, Promise<string>>();

function bundle(script: string): Promise<string> {
  let b = bundles.get(script);
  if (!b) bundles.set(script, (b = bundleOnce(script)));
  return b;
}

async function bundleOnce(script: string): Promise<string> {
  const outdir = join(ROOT, ".bench-build", script.replace(/\.ts$/, ""));
  // Split so code behind a dynamic import (Bolt, only when Slack is on) is loaded only when used.
  await build({
    entryPoints: { server: join(HERE, script) },
    outdir,
    outExtension: { ".js": ".mjs" },
    splitting: true,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    logLevel: "warning",
  });
  return join(outdir, "server.mjs");
}

export async function startChild(
  name: string,
  script: string,
  args: string[],
  o: { profile?: boolean; env?: Record<string, string>; v8Flags?: string[] } = {},
): Promise<Child> {
  const profile = o.profile ?? false;
  // One folder per server: Node writes one profile per thread.
  const flags = profile && CPU_PROF ? ["--cpu-prof", "--cpu-prof-dir", join(CPU_PROF, name)] : [];
  // Node itself (not the tsx CLI, which would add a wrapper process) so the pid is the server's.
  const cp = spawn(process.execPath, [...(o.v8Flags ?? SERVER_V8_FLAGS), ...flags, await bundle(script), ...args], {
    cwd: ROOT,
    stdio: ["ignore", "ignore", "pipe", "ipc"],
    env: { ...process.env, NODE_ENV: "production", ...o.env },
  });
  children.add(cp);
  let tail = "";
  cp.stderr!.setEncoding("utf8").on("data", (d: string) => {
    tail = (tail + d).slice(-4000);
  });
  const exited = new Promise<number | null>((res) => cp.on("exit", (code) => (children.delete(cp), res(code))));
  const pending = new Map<number, (m: FromChild) => void>();
  cp.on("message", (m: FromChild) => {
    if ("id" in m) {
      pending.get(m.id)?.(m);
      pending.delete(m.id);
    }
  });
  const port = await new Promise<number>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`${name}: not ready after 30 s\n${tail}`)), 30_000);
    cp.on("message", (m: FromChild) => {
      if (m.type === "ready") clearTimeout(timer), res(m.port);
    });
    void exited.then(
      (code) => (clearTimeout(timer), rej(new Error(`${name}: exited with ${code} before it was ready\n${tail}`))),
    );
  });
  const request = (type: "stats" | "mem" | "loop" | "dump", reset = false) =>
    new Promise<FromChild>((res, rej) => {
      const id = nextAsk++;
      const timer = setTimeout(() => (pending.delete(id), rej(new Error(`${name}: no answer to '${type}'`))), 5000);
      pending.set(id, (m) => (clearTimeout(timer), res(m)));
      cp.send((type === "loop" ? { type, id, reset } : { type, id }) satisfies ToChild);
    });
  return {
    name,
    pid: cp.pid!,
    port,
    url: `http://127.0.0.1:${port}`,
    ask: async () => {
      const m = await request("stats");
      return m.type === "stats" ? m.stats : {};
    },
    askMem: async () => {
      const m = await request("mem");
      return m.type === "mem" ? { rss: m.rss, maxRss: m.maxRss } : { rss: 0, maxRss: 0 };
    },
    dump: async <T>() => {
      const m = await request("dump");
      return (m.type === "dump" ? m.data : null) as T;
    },
    askLoop: async (reset) => {
      const m = await request("loop", reset);
      return m.type === "loop" ? { p50: m.p50, p99: m.p99, max: m.max } : { p50: 0, p99: 0, max: 0 };
    },
    stop: async () => {
      if (cp.exitCode !== null || cp.signalCode !== null) return;
      cp.send({ type: "stop" } satisfies ToChild);
      const timer = setTimeout(() => cp.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(timer);
    },
    stderrTail: () => tail,
  };
}

export function killChildren(): void {
  for (const cp of children) if (cp.exitCode === null) cp.kill("SIGKILL");
}

// ---------------------------------------------------------------- memory

/** Samples the child's RSS from /proc every 100 ms; the kernel's high-water mark (VmHWM) backs it up. */
export class RssSampler {
  private peak = 0;
  private timer: NodeJS.Timeout | undefined;
  private procOk = true;

  constructor(private readonly child: Child) {}

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), 100);
  }

  private read(): { rss: number; hwm: number } | undefined {
    if (!this.procOk) return undefined;
    try {
      const text = readFileSync(`/proc/${this.child.pid}/status`, "utf8");
      const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? 0) * 1024;
      return { rss: kb("VmRSS"), hwm: kb("VmHWM") };
    } catch {
      this.procOk = false;
      return undefined;
    }
  }

  private sample(): void {
    const r = this.read();
    if (r) this.peak = Math.max(this.peak, r.rss);
  }

  /** Peak RSS in bytes: the largest sample, the kernel's VmHWM, or (without /proc) the child's own maxRSS. */
  async stop(): Promise<number> {
    clearInterval(this.timer);
    const r = this.read();
    if (r) return Math.max(this.peak, r.rss, r.hwm);
    const m = await this.child.askMem();
    return Math.max(m.rss, m.maxRss);
  }
}

// ---------------------------------------------------------------- CPU

const CLK_TCK = 100; // USER_HZ of /proc/<pid>/stat on Linux

/** CPU seconds a process used so far (all its threads), or undefined without /proc. */
export function cpuOfPid(pid: number): number | undefined {
  const t = cpuTimesOfPid(pid);
  return t && t.user + t.sys;
}

/** User and system CPU seconds of a process (all its threads). */
function cpuTimesOfPid(pid: number): { user: number; sys: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return { user: Number(fields[11]) / CLK_TCK, sys: Number(fields[12]) / CLK_TCK }; // utime, stime
  } catch {
    return undefined;
  }
}

/**
 * Busy CPU seconds of the whole machine (all cores) that processes account
 * for: user, nice and system time. Interrupt and softirq time (loopback TCP is
 * processed there) and a hypervisor's steal time are counted apart.
 */
function machineBusy(): { process: number; irq: number; steal: number } | undefined {
  try {
    const f = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f;
    return { process: (user + nice + system) / CLK_TCK, irq: (irq + softirq) / CLK_TCK, steal: steal / CLK_TCK };
  } catch {
    return undefined;
  }
}

export interface CpuMark {
  server?: number;
  serverSys?: number;
  upstream?: number;
  self: number;
  machine?: { process: number; irq: number; steal: number };
  at: number;
}

export function cpuMark(server: Child, upstream: Child): CpuMark {
  const u = process.cpuUsage();
  return {
    server: cpuOfPid(server.pid),
    serverSys: cpuTimesOfPid(server.pid)?.sys,
    upstream: cpuOfPid(upstream.pid),
    self: (u.user + u.system) / 1e6,
    machine: machineBusy(),
    at: performance.now(),
  };
}
