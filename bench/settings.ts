// The bench's settings (environment variables) and small report helpers, shared by its modules.
import { resolve } from "node:path";

export function positive(name: string, fallback: number, zeroOk = false): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || (!zeroOk && n === 0)) {
    console.error(`bench: ${name} must be a ${zeroOk ? "non-negative" : "positive"} number, got '${raw}'`);
    process.exit(2);
  }
  return n;
}

export const SECONDS = positive("BENCH_SECONDS", 8);
export const WARMUP_SECONDS = positive("BENCH_WARMUP_SECONDS", 2, true);
export const CONNECTIONS = positive("BENCH_CONNECTIONS", 50);
/** Rounds of the throughput scenarios, run in turn (A B A B …); the report shows medians. */
export const ROUNDS = positive("BENCH_ROUNDS", 3);
export const ONLY = (process.env.BENCH_ONLY ?? "")
  .split(",")
  .map((s) => s.trim())
  .filter(Boolean);
export const CPU_PROF = process.env.BENCH_CPU_PROF ? resolve(process.env.BENCH_CPU_PROF) : undefined;
const flagList = (text: string) => text.split(/\s+/).filter((f) => f && f !== "none");

/**
 * The V8 flags every server (mend and baselines alike) runs with: `npm start`'s by default,
 * BENCH_V8_FLAGS (space-separated, "none" for none) to compare others.
 */
export const SERVER_V8_FLAGS =
  process.env.BENCH_V8_FLAGS === undefined ? ["--max-old-space-size=192"] : flagList(process.env.BENCH_V8_FLAGS);

/**
 * BENCH_FLAG_SETS ("none; --max-semi-space-size=4; …", semicolon-separated): every selected
 * scenario runs once per set in each round (A B C A B C …), named `<scenario> [<flags>]`.
 */
export const FLAG_SETS: string[][] | undefined = process.env.BENCH_FLAG_SETS?.split(";").map(flagList);

/**
 * BENCH_WAL_CHECKPOINT ("worker,inline", comma-separated MEND_WAL_CHECKPOINT values): every mend scenario runs
 * once per value in each round (A B A B …), named `<scenario> [<value>]`; the chat scenarios run BENCH_ROUNDS times.
 */
export const WAL_MODES = (process.env.BENCH_WAL_CHECKPOINT ?? "")
  .split(",")
  .map((s) => s.trim())
  .filter(Boolean);
for (const m of WAL_MODES)
  if (m !== "worker" && m !== "inline") {
    console.error(`bench: BENCH_WAL_CHECKPOINT takes worker and/or inline, got '${m}'`);
    process.exit(2);
  }

/** The mend server's WAL figures (bench/server-mend.ts stats) as one check line. */
export function walCheck(s: Record<string, number>): string {
  const mib = (b: number | undefined) => fmt((b ?? 0) / 1024 / 1024);
  return (
    `WAL (${s.worker ? "worker" : "inline"}): largest ${mib(s.walMaxBytes)} MiB; worker checkpoints ${s.workerCheckpoints ?? 0} ` +
    `(${s.framesCopied ?? 0} frames, ${s.holds ?? 0} holding writes), checkpoints on the serving connection past the cap ${s.fallbacks ?? 0}`
  );
}

export const INPUT = { order: 1234, customer: "ada@example.com", amount: 42.5 };
export const BODY = JSON.stringify(INPUT);

export function percentile(sorted: number[], q: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : NaN;
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function table(rows: string[][], right: boolean[]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (right[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ");
  return [line(rows[0]!), widths.map((w) => "-".repeat(w)).join("  "), ...rows.slice(1).map(line)].join("\n");
}

export const fmt = (n: number, digits = 1) =>
  n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

export async function getJson<T>(url: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`${init.method ?? "GET"} ${url} → ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}
