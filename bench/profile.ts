// Summarises a V8 CPU profile (`npm run bench` with BENCH_CPU_PROF=<dir>):
//   npx tsx bench/profile.ts <file.cpuprofile> [top]
// Prints self time by area (package or source folder, GC, idle) and the hottest functions.
import { readFileSync } from "node:fs";

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

function area(url: string, fn: string): string {
  if (fn === "(garbage collector)") return "GC";
  if (fn === "(idle)") return "idle";
  if (fn === "(program)") return "(program: native, not attributed)";
  const pkg = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/)?.[1];
  if (pkg) return pkg === "undici" ? "undici (package)" : pkg;
  if (url.startsWith("node:internal/deps/undici")) return "undici (node's fetch)";
  if (/node:internal\/webstreams/.test(url)) return "web streams";
  if (/node:internal\/abort_controller|node:internal\/event_target/.test(url)) return "AbortSignal / EventTarget";
  if (/node:internal\/(worker|per_context\/messageport|structured_clone)/.test(url) || fn === "makeTransferable")
    return "AbortSignal / EventTarget";
  if (url.startsWith("node:")) return `node: ${url.replace(/^node:(internal\/)?/, "").split("/")[0]}`;
  const src = url.match(/\/(src\/[^/]+)\//)?.[1] ?? url.match(/\/(bench)\//)?.[1];
  if (src) return src;
  if (url.includes("server.mjs")) return "bundle (mend or baseline code)";
  return url ? "other" : `(native) ${fn || "anonymous"}`;
}

const [file, topArg] = process.argv.slice(2);
if (!file) {
  console.error("usage: tsx bench/profile.ts <file.cpuprofile> [top]");
  process.exit(2);
}
const p = JSON.parse(readFileSync(file, "utf8")) as Profile;
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
const total = [...self.values()].reduce((a, b) => a + b, 0);
const idle = [...self]
  .filter(([id]) => byId.get(id)!.callFrame.functionName === "(idle)")
  .reduce((a, [, t]) => a + t, 0);
const busy = total - idle;

const areas = new Map<string, number>();
const fns = new Map<string, number>();
for (const [id, t] of self) {
  const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
  const a = area(url, functionName);
  if (a === "idle") continue;
  areas.set(a, (areas.get(a) ?? 0) + t);
  const key = `${functionName || "(anonymous)"} ${url.replace(/^.*node_modules\//, "").replace(/^.*\/wt-[^/]+\//, "")}:${lineNumber + 1}`;
  fns.set(key, (fns.get(key) ?? 0) + t);
}
const pct = (t: number) => `${((100 * t) / busy).toFixed(1).padStart(5)}%`;
console.log(
  `${file}\nbusy ${(busy / 1e6).toFixed(2)} s of ${(total / 1e6).toFixed(2)} s sampled (self time, share of busy time)\n`,
);
for (const [a, t] of [...areas].sort((x, y) => y[1] - x[1])) if (t / busy >= 0.005) console.log(`${pct(t)}  ${a}`);
console.log("");
for (const [f, t] of [...fns].sort((x, y) => y[1] - x[1]).slice(0, Number(topArg ?? 25)))
  console.log(`${pct(t)}  ${f}`);
