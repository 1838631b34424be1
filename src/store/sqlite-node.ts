// better-sqlite3 in WAL mode with the committed migrations applied.
import Database from "better-sqlite3";
import { drizzle } from "drizzle-orm/better-sqlite3";
import { migrate } from "drizzle-orm/better-sqlite3/migrator";
import { existsSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as schema from "../../db/schema";
import type { AnyDb, BatchItem, Database as Db } from "./database";
import type { Log } from "../deps";
import { WalCheckpoints, type WalCheckpointOptions } from "./wal-checkpoints";

/** db/migrations of the package: two levels up from src/store/, one or two from a dist/ bundle or chunk. */
function findMigrations(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = ["../../db/migrations", "../db/migrations", "../../../db/migrations"].map((p) => resolve(here, p));
  return candidates.find((d) => existsSync(join(d, "meta", "_journal.json"))) ?? candidates[0]!;
}

export const MIGRATIONS_DIR = findMigrations();

/**
 * Creates the missing folders one level at a time. (Node's recursive mkdir can
 * loop forever under /proc; one level at a time fails with a plain error.)
 */
function ensureDir(dir: string): void {
  const missing: string[] = [];
  for (let d = dir; !existsSync(d); d = dirname(d)) {
    missing.unshift(d);
    if (dirname(d) === d) break;
  }
  for (const d of missing) mkdirSync(d);
}

export interface SqliteOptions extends Partial<WalCheckpointOptions> {
  log?: Log;
}

export type SqliteDb = Db & { client: Database.Database; checkpoints?: WalCheckpoints };

/** Opens (creating it if needed) and migrates; `mode: "worker"` checkpoints a file database from a worker thread. */
export function openSqlite(file: string, options: SqliteOptions = {}): SqliteDb {
  if (file !== ":memory:") ensureDir(dirname(resolve(file)));
  const client = new Database(file);
  client.pragma("journal_mode = WAL");
  client.pragma("synchronous = NORMAL");
  client.pragma("busy_timeout = 5000");
  client.pragma("foreign_keys = ON");
  const db = drizzle(client, { schema });
  try {
    migrate(db, { migrationsFolder: MIGRATIONS_DIR });
  } catch (err) {
    client.close();
    // drizzle's message holds the whole failed statement; the cause's first line says what is wrong.
    const e = err as Error & { cause?: Error };
    const why = (e.cause?.message ?? e.message).split("\n")[0];
    throw new Error(
      `its tables are not the ones mend creates (${why}); point MEND_DB at a new file or a mend database`,
    );
  }
  const inTransaction = client.transaction((items: BatchItem[]) =>
    items.map((item) => (item.returning ? (item.query.all() as unknown[]) : (item.query.run(), []))),
  );
  const checkpoints =
    file === ":memory:" ? undefined : new WalCheckpoints(file, client, { mode: "inline", ...options });
  return {
    db: db as unknown as AnyDb,
    client,
    checkpoints,
    batch: async (items) => {
      const tx = () =>
        items.length === 1 && !items[0]!.returning ? (items[0]!.query.run(), [[]]) : inTransaction(items);
      return checkpoints ? checkpoints.write(tx) : tx();
    },
    close: async () => {
      if (!client.open) return;
      await checkpoints?.close();
      // The last connection: the WAL is copied in whole and emptied (close then deletes the file).
      if (checkpoints) client.pragma("wal_checkpoint(TRUNCATE)");
      client.close();
    },
  };
}
