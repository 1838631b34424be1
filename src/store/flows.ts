// Flows and their immutable versions, and the global defaults.
import { and, asc, eq } from "drizzle-orm";
import { flowVersions, flows, settings } from "../../db/schema";
import { parseDefaults, parseFlow, type Defaults, type Flow } from "../engine/flow";
import type { BatchItem, Database, Read } from "./database";

export interface PutResult {
  name: string;
  version: number;
  created: boolean;
  changed: boolean;
}

// Latest-version lookups are cached briefly: on Node this process writes every
// change (and drops the entry), elsewhere the TTL bounds how stale it can be.
const LATEST_TTL_MS = 2000;

export class FlowRepo {
  private readonly versions = new Map<string, Flow>();
  private readonly latest = new Map<string, { v: number; at: number }>();
  private defaults: Defaults | undefined;

  /** `riders`: cold reads of other repos that join the batch whenever a flow is read (see get). */
  constructor(
    private readonly d: Database,
    private readonly riders: () => (Read<void> | undefined)[] = () => [],
  ) {}

  /** Stores a new version unless the definition is unchanged; a concurrent writer of the same flow makes it look again. */
  async put(flow: Flow, now: number): Promise<PutResult> {
    for (let tries = 1; ; tries++) {
      try {
        return await this.putOnce(flow, now);
      } catch (err) {
        // Two writers took the same next version number: the loser re-reads and goes again.
        if (
          tries >= 25 ||
          !/UNIQUE constraint failed/i.test(
            String((err as Error)?.message ?? err) + String((err as { cause?: unknown })?.cause ?? ""),
          )
        )
          throw err;
      }
    }
  }

  private async putOnce(flow: Flow, now: number): Promise<PutResult> {
    const definition = JSON.stringify(flow);
    const db = this.d.db;
    const current = await db.select().from(flows).where(eq(flows.name, flow.name)).get();
    if (current) {
      const latest = await db
        .select()
        .from(flowVersions)
        .where(and(eq(flowVersions.name, flow.name), eq(flowVersions.version, current.latestVersion)))
        .get();
      if (latest?.definition === definition)
        return { name: flow.name, version: current.latestVersion, created: false, changed: false };
    }
    const version = (current?.latestVersion ?? 0) + 1;
    await this.d.batch([
      { query: db.insert(flowVersions).values({ name: flow.name, version, definition, createdAt: now }) },
      {
        query: db
          .insert(flows)
          .values({ name: flow.name, latestVersion: version, createdAt: now, updatedAt: now })
          .onConflictDoUpdate({ target: flows.name, set: { latestVersion: version, updatedAt: now } }),
      },
    ]);
    this.latest.delete(flow.name);
    return { name: flow.name, version, created: !current, changed: true };
  }

  async get(name: string, version?: number): Promise<{ version: number; flow: Flow } | undefined> {
    let v = version;
    if (v === undefined) {
      const hit = this.latest.get(name);
      if (hit && Date.now() - hit.at < LATEST_TTL_MS) v = hit.v;
    }
    if (v !== undefined) {
      const cached = this.versions.get(`${name}@${v}`);
      if (cached) return { version: v, flow: cached };
    }
    // One round trip (it counts on D1): the version (the latest unless given) and, the first
    // time, the defaults every run reads next, and the riders (what a failure reads to plan its alerts).
    const db = this.d.db;
    const latest = and(eq(flowVersions.name, name), eq(flowVersions.version, v ?? flows.latestVersion));
    const query =
      v === undefined
        ? db.select({ row: flowVersions }).from(flows).innerJoin(flowVersions, latest).where(eq(flows.name, name))
        : db.select({ row: flowVersions }).from(flowVersions).where(latest);
    const items: BatchItem[] = [{ query, returning: true }];
    if (!this.defaults)
      items.push({ query: db.select().from(settings).where(eq(settings.key, "defaults")), returning: true });
    const riders = this.riders().filter((r): r is Read<void> => r !== undefined);
    const results = await this.d.batch([...items, ...riders.map((r) => r.item)]);
    const [rows, settingRows] = results.slice(0, items.length) as [
      { row: typeof flowVersions.$inferSelect }[],
      (typeof settings.$inferSelect)[] | undefined,
    ];
    riders.forEach((r, i) => r.parse(results[items.length + i]!));
    if (settingRows) this.defaults = this.parseDefaults(settingRows[0]);
    const row = rows[0]?.row;
    if (!row) return undefined;
    if (version === undefined) this.latest.set(name, { v: row.version, at: Date.now() });
    const key = `${name}@${row.version}`;
    const cached = this.versions.get(key);
    if (cached) return { version: row.version, flow: cached };
    const parsed = parseFlow(JSON.parse(row.definition));
    if (!parsed.ok) throw new Error(`stored flow ${key} no longer parses: ${parsed.issues[0]?.message}`);
    this.versions.set(key, parsed.value);
    return { version: row.version, flow: parsed.value };
  }

  /** Every flow with its latest version, in one query (descriptions are read from the stored definitions). */
  async list(): Promise<{ name: string; version: number; description: string | null }[]> {
    const rows = await this.d.db
      .select({ name: flows.name, version: flows.latestVersion, definition: flowVersions.definition })
      .from(flows)
      .innerJoin(flowVersions, and(eq(flowVersions.name, flows.name), eq(flowVersions.version, flows.latestVersion)))
      .orderBy(asc(flows.name))
      .all();
    return rows.map((r) => ({
      name: r.name,
      version: r.version,
      description: (JSON.parse(r.definition) as { description?: string }).description ?? null,
    }));
  }

  async versionsOf(name: string): Promise<{ version: number; created_at: string }[]> {
    const rows = await this.d.db
      .select({ version: flowVersions.version, createdAt: flowVersions.createdAt })
      .from(flowVersions)
      .where(eq(flowVersions.name, name))
      .orderBy(asc(flowVersions.version))
      .all();
    return rows.map((r) => ({ version: r.version, created_at: new Date(r.createdAt).toISOString() }));
  }

  async getDefaults(): Promise<Defaults> {
    if (this.defaults) return this.defaults;
    const row = await this.d.db.select().from(settings).where(eq(settings.key, "defaults")).get();
    this.defaults = this.parseDefaults(row);
    return this.defaults;
  }

  private parseDefaults(row: typeof settings.$inferSelect | undefined): Defaults {
    const parsed = row ? parseDefaults(JSON.parse(row.value)) : undefined;
    return parsed?.ok ? parsed.value : {};
  }

  async putDefaults(defaults: Defaults): Promise<void> {
    const value = JSON.stringify(defaults);
    await this.d.db
      .insert(settings)
      .values({ key: "defaults", value })
      .onConflictDoUpdate({ target: settings.key, set: { value } })
      .run();
    this.defaults = defaults;
  }
}
