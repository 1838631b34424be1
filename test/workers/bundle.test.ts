// The Worker stays free of Node: Node-only packages (better-sqlite3, @hono/node-server, Bolt,
// the Slack WebClient, discord.js, ws) and node: builtins are imported only by the Node entry and
// the bot transports it wires, never by anything the Worker entry reaches. Checked twice: on the
// source import graph (value imports, static and dynamic) and on the real bundle wrangler builds
// offline (`wrangler deploy --dry-run --outdir`).
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { ROOT } from "../blackbox/targets";

const NODE_ONLY = [
  "better-sqlite3",
  "@hono/node-server",
  "@slack/bolt",
  "@slack/web-api",
  "discord.js",
  "@discordjs/ws",
  "ws",
  "undici",
];
const WORKER_ENTRY = "src/entry/worker.ts";

function pkgName(spec: string): string {
  const parts = spec.split("/");
  return spec.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
}

/** Value imports of a TS file: `import x from`, `import { a, type B } from`, `export … from`, `import("…")`; not `import type`. */
export function valueImports(source: string): string[] {
  const out: string[] = [];
  const stmt = /^\s*(import|export)\s+([^'";]*?)\s*from\s*["']([^"']+)["']/gm;
  for (const m of source.matchAll(stmt)) {
    const clause = m[2]!.trim();
    if (/^type\s/.test(clause)) continue;
    if (m[1] === "export" && !/^(\*|\{)/.test(clause)) continue;
    // `import { type A, type B } from` is type-only as well.
    const named = clause.match(/^\{([^}]*)\}$/);
    if (
      named &&
      named[1]!
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean)
        .every((s) => s.startsWith("type "))
    )
      continue;
    out.push(m[3]!);
  }
  for (const m of source.matchAll(/^\s*import\s+["']([^"']+)["']/gm)) out.push(m[1]!);
  for (const m of source.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)) out.push(m[1]!);
  return out;
}

function resolveLocal(from: string, spec: string): string | undefined {
  const base = resolve(dirname(from), spec);
  for (const c of [base, `${base}.ts`, `${base}.tsx`, join(base, "index.ts"), join(base, "index.tsx")])
    if (existsSync(c) && statSync(c).isFile()) return c;
  return undefined;
}

/** Every source file the Worker entry reaches through value imports, with the bare packages each one imports. */
function workerGraph(): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const queue = [join(ROOT, WORKER_ENTRY)];
  while (queue.length) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    const bare: string[] = [];
    seen.set(file, bare);
    for (const spec of valueImports(readFileSync(file, "utf8"))) {
      if (spec.startsWith(".")) {
        const r = resolveLocal(file, spec);
        if (!r) throw new Error(`${relative(ROOT, file)}: cannot resolve ${spec}`);
        queue.push(r);
      } else bare.push(spec);
    }
  }
  return seen;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? sourceFiles(join(dir, d.name)) : /\.tsx?$/.test(d.name) ? [join(dir, d.name)] : [],
  );
}

describe("the Worker bundle stays free of Node", () => {
  it("the import parser sees value imports and skips type-only ones", () => {
    const src = [
      'import { a, type B } from "pkg-a";',
      'import type { C } from "pkg-b";',
      'import { type D, type E } from "pkg-c";',
      'export { f } from "./f";',
      'export type { G } from "pkg-d";',
      'const m = await import("pkg-e");',
      'import "pkg-f";',
    ].join("\n");
    expect(valueImports(src).sort()).toEqual(["./f", "pkg-a", "pkg-e", "pkg-f"]);
  });

  it("nothing the Worker entry reaches imports a Node-only package or a node: builtin", () => {
    const graph = workerGraph();
    expect(graph.size).toBeGreaterThan(20);
    const offenders: string[] = [];
    for (const [file, bare] of graph) {
      for (const spec of bare)
        if (spec.startsWith("node:") || NODE_ONLY.includes(pkgName(spec)))
          offenders.push(`${relative(ROOT, file)} imports ${spec}`);
    }
    expect(
      offenders,
      "Node-only imports reachable from the Worker entry (move them behind the Node entry, see docs/workers.md)",
    ).toEqual([]);
  });

  it("only Node entry files read process.env, and the Worker entry reaches none of them", () => {
    const graph = workerGraph();
    const readers = sourceFiles(join(ROOT, "src")).filter((f) =>
      /\bprocess\.env\b/.test(readFileSync(f, "utf8").replace(/\/\/.*$/gm, "")),
    );
    for (const f of readers) {
      expect(relative(ROOT, f), "process.env outside an entry").toMatch(/^src\/entry\//);
      expect(graph.has(f), `${relative(ROOT, f)} reads process.env and is reachable from the Worker`).toBe(false);
    }
  });

  it("wrangler bundles the Worker offline without nodejs_compat and without Node-only packages", async () => {
    const out = mkdtempSync(join(tmpdir(), "mend-bundle-"));
    try {
      await promisify(execFile)(
        process.execPath,
        [join(ROOT, "node_modules/wrangler/bin/wrangler.js"), "deploy", "--dry-run", "--outdir", out],
        {
          cwd: ROOT,
          env: {
            ...process.env,
            WRANGLER_SEND_METRICS: "false",
            CLOUDFLARE_CF_FETCH_ENABLED: "false",
            CI: "true",
            NO_COLOR: "1",
            WRANGLER_LOG_PATH: join(out, "logs"),
          },
          timeout: 120_000,
        },
      );
      const code = readFileSync(join(out, "worker.js"), "utf8");
      const map = JSON.parse(readFileSync(join(out, "worker.js.map"), "utf8")) as { sources: string[] };
      const packages = new Set(
        map.sources
          .map((s) => s.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/)?.[1])
          .filter((p): p is string => Boolean(p)),
      );
      expect([...packages].filter((p) => NODE_ONLY.includes(p))).toEqual([]);
      expect(packages.has("drizzle-orm")).toBe(true);
      expect(packages.has("hono")).toBe(true);
      expect(code).not.toMatch(/\b(?:from|import|require)\s*\(?\s*["']node:/);
      expect(map.sources.some((s) => s.endsWith("src/store/d1.ts"))).toBe(true);
      expect(map.sources.some((s) => s.endsWith("src/store/sqlite-node.ts"))).toBe(false);
      expect(readFileSync(join(ROOT, "wrangler.toml"), "utf8")).not.toMatch(
        /^\s*compatibility_flags\s*=.*nodejs_compat/m,
      );
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 120_000);

  it("importing the Worker entry does nothing: no env read, no database opened", async () => {
    const mod = (await import("../../src/entry/worker")) as {
      default: { fetch: unknown; scheduled: unknown };
      Ticker: unknown;
    };
    expect(typeof mod.default.fetch).toBe("function");
    expect(typeof mod.default.scheduled).toBe("function");
    expect(typeof mod.Ticker).toBe("function");
  });
});
