// The two gauges /metrics reads at scrape time: pending outbox rows and active runs.
import { eq, inArray, count } from "drizzle-orm";
import { outbox, runs } from "../../db/schema";
import { ACTIVE } from "../engine/ports";
import type { Gauges } from "../metrics";
import type { Database } from "./database";

export async function readGauges(d: Database): Promise<Gauges> {
  const pending = await d.db.select({ n: count() }).from(outbox).where(eq(outbox.status, "pending")).get();
  const active = await d.db
    .select({ n: count() })
    .from(runs)
    .where(inArray(runs.status, [...ACTIVE]))
    .get();
  return { outboxPending: pending?.n ?? 0, runsActive: active?.n ?? 0 };
}
