// Small pieces of the pages: the line diff, hourly failure counts, safe links and redirects.
import { eq } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { runs } from "../../db/schema";
import { diffLines } from "../../src/pages/diff";
import { safeHref } from "../../src/pages/layout";
import { safeNext } from "../../src/pages/session";
import { HOUR_MS, RunStats } from "../../src/store/run-stats";
import type { Database } from "../../src/store/database";
import { openSqlite } from "../../src/store/sqlite-node";
import { People } from "../../src/auth/people";
import { ConfigError, parseEnv } from "../../src/env";
import { parseTime } from "../../src/pages/runs-list";
import { ftsQuery } from "../../src/store/run-list";

describe("diffLines", () => {
  it("aligns the common lines and marks the rest added or removed", () => {
    expect(diffLines("a\nb\nc\nd\n", "a\nc\nd\ne\n")).toEqual([
      { op: "same", text: "a" },
      { op: "del", text: "b" },
      { op: "same", text: "c" },
      { op: "same", text: "d" },
      { op: "add", text: "e" },
    ]);
  });

  it("shows no change for equal texts and everything for disjoint ones", () => {
    expect(diffLines("x\ny", "x\ny").every((l) => l.op === "same")).toBe(true);
    expect(diffLines("a\nb", "c").map((l) => l.op)).toEqual(["del", "del", "add"]);
  });
});

describe("links and redirects", () => {
  it("links only http(s) URLs", () => {
    expect(safeHref("https://ci.example/x")).toBe("https://ci.example/x");
    expect(safeHref("javascript:alert(1)")).toBeUndefined();
    expect(safeHref("data:text/html,hi")).toBeUndefined();
    expect(safeHref("not a url")).toBeUndefined();
  });

  it("returns after sign-in only to a path of this site", () => {
    expect(safeNext("/runs/abc?x=1")).toBe("/runs/abc?x=1");
    for (const bad of [
      "//evil.example/",
      "/\\evil.example",
      "https://evil.example/",
      "",
      undefined,
      "/a\r\nSet-Cookie: x=1",
    ])
      expect(safeNext(bad)).toBe("/");
  });
});

describe("hourly failure rates", () => {
  let db: Database | undefined;
  afterEach(async () => {
    await db?.close();
    db = undefined;
  });

  const now = Date.UTC(2030, 0, 10, 12, 30);
  let n = 0;
  const insert = (d: Database, flow: string, status: string, createdAt: number) => {
    const id = `R${String(++n).padStart(8, "0")}`;
    d.db.insert(runs).values({ id, flow, flowVersion: 1, status, cursor: "{}", createdAt, updatedAt: createdAt }).run();
    return id;
  };

  it("counts runs, failures and recoveries per flow and hour, over the last 24 hours only", async () => {
    db = openSqlite(":memory:");
    const hour = Math.floor(now / HOUR_MS) * HOUR_MS;
    insert(db, "a", "succeeded", now - 60_000);
    insert(db, "a", "failed", now - 120_000);
    insert(db, "a", "recovered", hour - HOUR_MS + 5);
    insert(db, "a", "failed", hour - 23 * HOUR_MS);
    insert(db, "a", "failed", hour - 24 * HOUR_MS); // a day ago: outside
    insert(db, "b", "running", now - 1000);
    const rates = await new RunStats(db).failureRates(now);
    expect(rates.map((r) => [r.flow, r.runs, r.failed, r.recovered])).toEqual([
      ["a", 4, 2, 1],
      ["b", 1, 0, 0],
    ]);
    const a = rates[0]!;
    expect(a.hours).toHaveLength(24);
    expect(a.hours[23]).toEqual({ hour, runs: 2, failed: 1, recovered: 0 });
    expect(a.hours[22]).toEqual({ hour: hour - HOUR_MS, runs: 1, failed: 0, recovered: 1 });
    expect(a.hours[0]).toEqual({ hour: hour - 23 * HOUR_MS, runs: 1, failed: 1, recovered: 0 });
  });

  it("keeps the current hour live and a finished hour's counts for a minute at most", async () => {
    db = openSqlite(":memory:");
    const hour = Math.floor(now / HOUR_MS) * HOUR_MS;
    const old = insert(db, "a", "failed", hour - 2 * HOUR_MS);
    const stats = new RunStats(db);
    expect((await stats.failureRates(now))[0]!.failed).toBe(1);
    db.db.update(runs).set({ status: "succeeded" }).where(eq(runs.id, old)).run();
    insert(db, "a", "failed", now - 1000);
    const soon = await stats.failureRates(now + 1000);
    expect(soon[0]!.hours[21]!.failed).toBe(1); // cached
    expect(soon[0]!.hours[23]!.failed).toBe(1); // live
    await stats.failureRates(now + 31_000); // refreshes two stale hours, not all
    const later = await stats.failureRates(now + 61_000);
    expect(later[0]!.hours[21]!.failed).toBe(0);
    expect(later[0]!.failed).toBe(1);
  });
});

describe("MEND_USERS", () => {
  it("reads name:token pairs; the API token is admin; a token finds its person", () => {
    const config = parseEnv({
      MEND_API_TOKEN: "the-api-token-0123",
      MEND_USERS: "ada:ada-token-0123456789, bob:bob:token:with:colons",
    });
    expect(config.MEND_USERS.map((p) => p.name)).toEqual(["ada", "bob"]);
    const people = new People(config.MEND_API_TOKEN, config.MEND_USERS);
    expect(people.byToken("bob:token:with:colons")?.name).toBe("bob");
    expect(people.byToken("the-api-token-0123")?.name).toBe("admin");
    expect(people.byToken("ada-token-012345678")).toBeUndefined();
    expect(new People(undefined, []).on).toBe(false);
  });

  it("stops start-up with one line naming the bad entry, never the token", () => {
    const bad: [string, RegExp][] = [
      ["ada:short", /^MEND_USERS: entry 1 \('ada'\): the token must have at least 16 characters$/],
      ["ada-token-0123456789", /entry 1 must be name:token/],
      ["ada:ada-token-0123456789,ada:ada-token-9876543210", /entry 2 \('ada'\): 'ada' appears twice/],
      ["admin:admin-token-0123456789", /'admin' is the name MEND_API_TOKEN signs in as/],
      ["bad name:ada-token-0123456789", /entry 1: the name must match/],
    ];
    for (const [raw, message] of bad) {
      let err: Error | undefined;
      try {
        parseEnv({ MEND_USERS: raw });
      } catch (e) {
        err = e as Error;
      }
      expect(err, raw).toBeInstanceOf(ConfigError);
      expect(err!.message, raw).toMatch(message);
      expect(err!.message).not.toContain("0123456789");
    }
  });
});

describe("the runs list's query", () => {
  it("turns the words of q into an FTS5 query: all words, whole, quotes harmless", () => {
    expect(ftsQuery("user42@example.com")).toBe('"user42" "example" "com"');
    expect(ftsQuery("user4")).toBe('"user4"');
    expect(ftsQuery('a"b OR c*')).toBe('"a" "b" "OR" "c"');
    expect(ftsQuery("  -- ")).toBeUndefined();
  });

  it("reads since/until as UTC datetimes or as a time ago", () => {
    const now = Date.parse("2026-05-02T12:00:00Z");
    expect(parseTime("2026-05-01T10:30", now)).toBe(Date.parse("2026-05-01T10:30:00Z"));
    expect(parseTime("2026-05-01", now)).toBe(Date.parse("2026-05-01T00:00:00Z"));
    expect(parseTime("2026-05-01T10:30:00+02:00", now)).toBe(Date.parse("2026-05-01T08:30:00Z"));
    expect(parseTime("24h", now)).toBe(now - 86_400_000);
    expect(parseTime("90m", now)).toBe(now - 5_400_000);
    expect(parseTime("yesterday", now)).toBeUndefined();
    expect(parseTime("2026-13-45T99:99", now)).toBeUndefined();
  });
});
