// Migration 0010 gives silences a run_id column and fills it on rows written before it, from what
// muteRun wrote then: "Muted from run <id>[ until it is resolved]" (and until_resolved).
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { migrationStatements } from "./backends";

const before = (f: string) => f < "0010";
const from0010 = (f: string) => f.startsWith("0010_");

describe("migration 0010: silences.run_id", () => {
  it("backfills the run of chat mutes from their comment and leaves other silences without one", () => {
    const db = new Database(":memory:");
    for (const stmt of migrationStatements(before)) db.exec(stmt);
    const insert = db.prepare(
      "INSERT INTO silences (id, flow, ends_at, comment, created_at, until_resolved) VALUES (?, 'orders', 1, ?, 0, ?)",
    );
    insert.run("timed", "Muted from run 01RUNA", null);
    insert.run("resolved", "Muted from run 01RUNB until it is resolved", "01RUNB");
    insert.run("flow", "Muted from chat: every alert of orders", null);
    insert.run("api", "db maintenance", null);
    insert.run("none", null, null);
    insert.run("empty", "Muted from run ", null);
    for (const stmt of migrationStatements(from0010)) db.exec(stmt);
    const rows = db.prepare("SELECT id, run_id FROM silences ORDER BY id").all();
    expect(rows).toEqual([
      { id: "api", run_id: null },
      { id: "empty", run_id: null },
      { id: "flow", run_id: null },
      { id: "none", run_id: null },
      { id: "resolved", run_id: "01RUNB" },
      { id: "timed", run_id: "01RUNA" },
    ]);
    db.close();
  });
});
