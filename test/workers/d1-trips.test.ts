// D1 round trips per run in the Workers runtime (issue 13): every trip is latency on Workers.
import { describe, expect, it } from "vitest";
import { countD1Trips } from "./d1-trips";

describe("D1 round trips per run", () => {
  it("a flow-ok run (compute → http → compute, ?wait=true) takes at most 3; a failed run with a Slack alert at most 6 and no claim", async () => {
    const trips = await countD1Trips();
    // Flow version and defaults in one read, the insert with the flush before the http step, the end.
    expect(trips.flowOk, trips.sql.flowOk.join("\n")).toBeLessThanOrEqual(3);
    // The alert rows committed with the run's end go straight to delivery: no scheduler claim of
    // due runs or outbox rows in between, and the row is marked delivered once.
    // Round trips of the failed run until its alert is posted and recorded: flow read (with the
    // handlers and silences its alert plan needs), insert before the http step, the end with the
    // outbox row, the messages check, the delivery's reads, the alert row with the outbox update.
    expect(trips.failedWithAlert, trips.sql.failedWithAlert.join("\n")).toBeLessThanOrEqual(6);
    // Statements, batches split up.
    const failed = trips.sql.failedWithAlert.flatMap((s) => s.split(" ; "));
    expect(
      failed.filter((s) => /^update "outbox" set "next_attempt_at"/.test(s)),
      failed.join("\n"),
    ).toEqual([]);
    expect(
      failed.filter((s) => /^update "runs" set "lease_until"/.test(s)),
      failed.join("\n"),
    ).toEqual([]);
    expect(failed.filter((s) => /^update "outbox" set "status"/.test(s))).toHaveLength(1);
  }, 60_000);
});
