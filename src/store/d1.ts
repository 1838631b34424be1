// D1 (Cloudflare Workers) through drizzle-orm/d1: the same schema and repos as better-sqlite3.
// Migrations are not applied here: `wrangler d1 migrations apply mend` applies db/migrations
// (drizzle-kit output) before the Worker serves; see docs/workers.md.
import { drizzle } from "drizzle-orm/d1";
import * as schema from "../../db/schema";
import type { AnyDb, BatchItem, Database } from "./database";

/**
 * The slice of the D1 binding (`env.DB`) that drizzle uses. Typed here so no Workers types
 * leak into the Node build; the real D1Database and miniflare's proxy both fit.
 */
export interface D1Binding {
  prepare(query: string): unknown;
  batch(statements: unknown[]): Promise<unknown[]>;
  exec(query: string): Promise<unknown>;
}

export function openD1(binding: D1Binding): Database {
  const db = drizzle(binding as never, { schema });
  const one = async (item: BatchItem): Promise<unknown[]> => {
    if (item.returning) return (await item.query.all()) as unknown[];
    await item.query.run();
    return [];
  };
  return {
    db: db as unknown as AnyDb,
    // D1 runs a batch as one implicit transaction: all statements commit or none do.
    batch: async (items) => {
      if (items.length === 0) return [];
      if (items.length === 1) return [await one(items[0]!)];
      const results = (await db.batch(items.map((i) => i.query) as never)) as unknown[];
      return items.map((item, i) => (item.returning ? ((results[i] as unknown[] | undefined) ?? []) : []));
    },
    close: async () => undefined,
  };
}
