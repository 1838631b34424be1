// The owner lease: who may run on a database, decided by pid, host and heartbeat.
import { afterEach, describe, expect, it } from "vitest";
import { openSqlite } from "../../src/store/sqlite-node";
import { OwnedError, OwnerLease, STALE_MS, type OwnerOptions } from "../../src/store/owner";
import type { Database } from "../../src/store/database";

let db: Database;
let now = 1_000_000;
afterEach(() => db?.close());

const lease = (o: Partial<OwnerOptions>) =>
  new OwnerLease(db, {
    pid: 10,
    host: "a",
    token: Math.random().toString(36),
    now: () => now,
    alive: () => true,
    ...o,
  });

describe("owner lease", () => {
  it("refuses a second owner on another host while the first beats, and takes over once its heartbeat is stale", async () => {
    db = openSqlite(":memory:");
    const first = lease({ host: "a", pid: 10 });
    await first.acquire();
    const second = lease({ host: "b", pid: 20 });
    await expect(second.acquire()).rejects.toThrow(/owned by pid 10 on host a/);
    now += STALE_MS - 1;
    expect(await first.beat()).toBe(true);
    now += STALE_MS - 1;
    await expect(second.acquire()).rejects.toBeInstanceOf(OwnedError);
    now += 2;
    await second.acquire();
    // The stalled first owner learns it lost the database at its next heartbeat.
    expect(await first.beat()).toBe(false);
  });

  it("on the same host, a dead owner pid is taken over at once, a live one is not", async () => {
    db = openSqlite(":memory:");
    await lease({ pid: 10 }).acquire();
    await expect(lease({ pid: 11, alive: (pid) => pid === 10 }).acquire()).rejects.toThrow(/pid 10/);
    await lease({ pid: 11, alive: () => false }).acquire();
  });

  it("a container restarting as the same pid on the same host takes its own stale row over", async () => {
    db = openSqlite(":memory:");
    await lease({ pid: 1, host: "box" }).acquire();
    await lease({ pid: 1, host: "box" }).acquire();
  });

  it("a clean stop releases the database for the next start", async () => {
    db = openSqlite(":memory:");
    const first = lease({ host: "a" });
    await first.acquire();
    await first.release();
    await lease({ host: "b" }).acquire();
  });
});
