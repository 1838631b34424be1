// The two SQLite backends the store must behave the same on: better-sqlite3 (Node) and D1
// (workerd's D1 through miniflare, driven from Node over miniflare's binding proxy). D1 gets the
// committed drizzle-kit migrations applied the way `wrangler d1 migrations apply` does: each
// file split at `--> statement-breakpoint`, the statements run in order.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Miniflare } from "miniflare";
import type { Database } from "../../src/store/database";
import { openD1, type D1Binding } from "../../src/store/d1";
import { MIGRATIONS_DIR, openSqlite } from "../../src/store/sqlite-node";

export interface Backend {
  name: "better-sqlite3" | "d1";
  /** A fresh, migrated, empty database. */
  open(): Promise<Database>;
  dispose(): Promise<void>;
}

/** The statements of the committed migrations (those whose file name `only` accepts), in order. */
export function migrationStatements(only: (file: string) => boolean = () => true): string[] {
  const files = readdirSync(MIGRATIONS_DIR)
    .filter((f) => f.endsWith(".sql") && only(f))
    .sort();
  return files.flatMap((f) =>
    readFileSync(join(MIGRATIONS_DIR, f), "utf8")
      .split("--> statement-breakpoint")
      .map((s) => s.trim())
      .filter(Boolean),
  );
}

export function sqliteBackend(): Backend {
  const open: Database[] = [];
  return {
    name: "better-sqlite3",
    async open() {
      const db = openSqlite(":memory:");
      open.push(db);
      return db;
    },
    async dispose() {
      for (const db of open.splice(0)) await db.close();
    },
  };
}

export function d1Backend(): Backend {
  let mf: Miniflare | undefined;
  let n = 0;
  const names = Array.from({ length: 64 }, (_, i) => `DB${i}`);
  return {
    name: "d1",
    async open() {
      // One workerd for the suite; each open() takes the next empty database of it.
      mf ??= new Miniflare({
        modules: true,
        script: "export default { fetch() { return new Response(null, { status: 404 }); } };",
        d1Databases: names,
      });
      if (n >= names.length) throw new Error("d1Backend: out of databases; raise the count");
      const binding = (await mf.getD1Database(names[n++]!)) as unknown as D1Binding;
      for (const stmt of migrationStatements()) await (binding.prepare(stmt) as { run(): Promise<unknown> }).run();
      return openD1(binding);
    },
    async dispose() {
      await mf?.dispose();
      mf = undefined;
      n = 0;
    },
  };
}
