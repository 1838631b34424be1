// Registered error handlers (who hears about failures).
import { asc, eq } from "drizzle-orm";
import { handlers } from "../../db/schema";
import type { Database, Read } from "./database";

export interface HandlerMatch {
  flows?: string[];
  steps?: string[];
  error_types?: string[];
}

export interface HandlerRecord {
  id: string;
  name: string;
  kind: string;
  config: Record<string, unknown>;
  match: HandlerMatch | null;
  enabled: boolean;
  /** Told when another handler's alerts cannot be delivered. */
  fallback: boolean;
  created_at: string;
  updated_at: string;
}

type Row = typeof handlers.$inferSelect;

function toHandler(r: Row): HandlerRecord {
  return {
    id: r.id,
    name: r.name,
    kind: r.kind,
    config: JSON.parse(r.config) as Record<string, unknown>,
    match: (r.match as HandlerMatch | null) ?? null,
    enabled: r.enabled,
    fallback: r.fallback,
    created_at: new Date(r.createdAt).toISOString(),
    updated_at: new Date(r.updatedAt).toISOString(),
  };
}

export class HandlerRepo {
  private cache: HandlerRecord[] | undefined;

  constructor(private readonly d: Database) {}

  private query() {
    return this.d.db.select().from(handlers).orderBy(asc(handlers.createdAt));
  }

  async list(): Promise<HandlerRecord[]> {
    if (!this.cache) this.cache = ((await this.query().all()) as Row[]).map(toHandler);
    return this.cache;
  }

  /** The handlers' read while they are not cached, to ride along in another batch. */
  rider(): Read<void> | undefined {
    if (this.cache) return undefined;
    return {
      item: { query: this.query(), returning: true },
      parse: (rows) => (this.cache ??= (rows as Row[]).map(toHandler)),
    };
  }

  async get(id: string): Promise<HandlerRecord | undefined> {
    return (await this.list()).find((h) => h.id === id);
  }

  async insert(
    h: Omit<HandlerRecord, "created_at" | "updated_at" | "fallback"> & { fallback?: boolean },
    now: number,
  ): Promise<HandlerRecord> {
    await this.d.db
      .insert(handlers)
      .values({
        id: h.id,
        name: h.name,
        kind: h.kind,
        config: JSON.stringify(h.config),
        match: h.match,
        enabled: h.enabled,
        fallback: h.fallback ?? false,
        createdAt: now,
        updatedAt: now,
      })
      .run();
    this.cache = undefined;
    return (await this.get(h.id))!;
  }

  async update(
    id: string,
    patch: Partial<Pick<HandlerRecord, "name" | "config" | "match" | "enabled" | "fallback">>,
    now: number,
  ): Promise<HandlerRecord | undefined> {
    const set: Partial<typeof handlers.$inferInsert> = { updatedAt: now };
    if (patch.name !== undefined) set.name = patch.name;
    if (patch.config !== undefined) set.config = JSON.stringify(patch.config);
    if (patch.match !== undefined) set.match = patch.match;
    if (patch.enabled !== undefined) set.enabled = patch.enabled;
    if (patch.fallback !== undefined) set.fallback = patch.fallback;
    await this.d.db.update(handlers).set(set).where(eq(handlers.id, id)).run();
    this.cache = undefined;
    return this.get(id);
  }

  async remove(id: string): Promise<boolean> {
    const existed = await this.get(id);
    if (!existed) return false;
    await this.d.db.delete(handlers).where(eq(handlers.id, id)).run();
    this.cache = undefined;
    return true;
  }
}
