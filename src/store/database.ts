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

export interface Database {
  db: AnyDb;
  /** better-sqlite3's client, where statements can be prepared once and reused. */
  client?: SqliteClient;
  batch(items: BatchItem[]): Promise<unknown[][]>;
  close(): Promise<void>;
}
