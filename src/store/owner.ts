// One process owns a database: a lease row in `settings` holding pid, host and a heartbeat.
// A second process refuses to start while the owner beats; a killed owner is taken over at once
// on the same host (its pid is gone) and after STALE_MS from any other host.
import { and, eq } from "drizzle-orm";
import { settings } from "../../db/schema";
import type { Database } from "./database";

export interface OwnerRow {
  pid: number;
  host: string;
  token: string;
  heartbeat: number;
}

export const HEARTBEAT_MS = 5_000;
export const STALE_MS = 20_000;
const KEY = "owner";

/** Another live process owns the database; the message is one line for the operator. */
export class OwnedError extends Error {
  override readonly name = "OwnedError";
  constructor(
    readonly owner: OwnerRow,
    readonly ageMs: number,
  ) {
    super(
      `owned by pid ${owner.pid} on host ${owner.host} (heartbeat ${Math.round(ageMs / 1000)} s ago); ` +
        `stop it first, or wait ${Math.ceil(STALE_MS / 1000)} s after it died`,
    );
  }
}

export interface OwnerOptions {
  pid: number;
  host: string;
  token: string;
  now: () => number;
  /** Whether a pid on this host is alive (process.kill(pid, 0) on Node). */
  alive: (pid: number) => boolean;
}

export class OwnerLease {
  constructor(
    private readonly d: Database,
    private readonly o: OwnerOptions,
  ) {}

  private mine(): string {
    return JSON.stringify({
      pid: this.o.pid,
      host: this.o.host,
      token: this.o.token,
      heartbeat: this.o.now(),
    } satisfies OwnerRow);
  }

  private async read(): Promise<{ raw: string; row: OwnerRow } | undefined> {
    const r = await this.d.db.select().from(settings).where(eq(settings.key, KEY)).get();
    if (!r) return undefined;
    try {
      return { raw: r.value, row: JSON.parse(r.value) as OwnerRow };
    } catch {
      return { raw: r.value, row: { pid: 0, host: "?", token: "", heartbeat: 0 } };
    }
  }

  /** Whether the recorded owner can be replaced: ours, stale, or a dead (or our own) pid on this host. */
  private replaceable(row: OwnerRow): boolean {
    if (row.token === this.o.token) return true;
    if (this.o.now() - row.heartbeat > STALE_MS) return true;
    // Same host and same pid: an earlier life of this process (a container restarts as pid 1 again).
    if (row.host === this.o.host) return row.pid === this.o.pid || !this.o.alive(row.pid);
    return false;
  }

  /** Takes the database or throws OwnedError. Compare-and-swap, so two starts at once cannot both win. */
  async acquire(): Promise<void> {
    const current = await this.read();
    if (!current) {
      await this.d.db.insert(settings).values({ key: KEY, value: this.mine() }).onConflictDoNothing().run();
    } else if (this.replaceable(current.row)) {
      await this.d.db
        .update(settings)
        .set({ value: this.mine() })
        .where(and(eq(settings.key, KEY), eq(settings.value, current.raw)))
        .run();
    }
    const after = await this.read();
    if (after?.row.token !== this.o.token) {
      const owner = after?.row ?? current!.row;
      throw new OwnedError(owner, this.o.now() - owner.heartbeat);
    }
  }

  /** Renews the heartbeat; false when another process took the database over meanwhile. */
  async beat(): Promise<boolean> {
    const current = await this.read();
    if (current?.row.token !== this.o.token) return false;
    await this.d.db
      .update(settings)
      .set({ value: this.mine() })
      .where(and(eq(settings.key, KEY), eq(settings.value, current.raw)))
      .run();
    return true;
  }

  /** Gives the database up (clean stop): the next start needs no wait. */
  async release(): Promise<void> {
    const current = await this.read();
    if (current?.row.token === this.o.token)
      await this.d.db
        .delete(settings)
        .where(and(eq(settings.key, KEY), eq(settings.value, current.raw)))
        .run();
  }
}
