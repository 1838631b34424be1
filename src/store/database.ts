// The one seam between sync (better-sqlite3) and async (D1) SQLite: every
// query is awaited, and multi-row writes go through batch(), one transaction.
import type { BaseSQLiteDatabase } from "drizzle-orm/sqlite-core";
import type * as schema from "../../db/schema";
import type { SqliteClient } from "./run-statements";

export type AnyDb = BaseSQLiteDatabase<"sync" | "async", any, typeof schema>;

/** A built query; `returning` ones yield their rows. */
export interface BatchItem {
  query: { run(): unknown; all(): unknown };
  returning?: boolean;
}

/**
 * A read that can share a batch with others (on D1 one round trip for all): its query, and how its
 * rows become the value. A Read<void> fills a cold cache (FlowRepo.get takes those along, src/services.ts).
 */
export interface Read<T> {
  item: BatchItem;
  parse(rows: unknown[]): T;
}

/** Runs the reads in one batch (one D1 round trip) and parses each one's rows; a missing read gives undefined. */
export async function readTogether<T extends unknown[]>(
  d: Database,
  reads: { [K in keyof T]: Read<T[K]> | undefined },
): Promise<{ [K in keyof T]: T[K] | undefined }> {
  const present = (reads as (Read<unknown> | undefined)[]).filter((r): r is Read<unknown> => r !== undefined);
  const rows = await d.batch(present.map((r) => r.item));
  return (reads as (Read<unknown> | undefined)[]).map((r) => (r ? r.parse(rows[present.indexOf(r)]!) : undefined)) as {
    [K in keyof T]: T[K] | undefined;
  };
}

export interface Database {
  db: AnyDb;
  /** better-sqlite3's client, where statements can be prepared once and reused. */
  client?: SqliteClient;
  batch(items: BatchItem[]): Promise<unknown[][]>;
  close(): Promise<void>;
}
