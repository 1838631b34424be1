// Delivery visibility for GET /api/runs/:id: each alert's handler name and the platform message
// it posted or updated (from the chat alerts table, else from what the sender returned).
import { and, gte, inArray, lte } from "drizzle-orm";
import { alerts } from "../../db/schema";
import type { Deps } from "../deps";
import type { OutboxRecord, RunRecord } from "../engine/ports";

export type DeliveryExtra = {
  handler_name: string | null;
  /** The chat message's id (Slack ts, Discord message id), when the platform gave one. */
  message_id: string | null;
  /** Failures counted in that message's group (1 when not grouped). */
  group_count: number | null;
};

const str = (v: unknown) => (typeof v === "string" && v ? v : typeof v === "number" ? String(v) : null);

function idFrom(ref: unknown): string | null {
  if (!ref || typeof ref !== "object") return null;
  const r = ref as Record<string, unknown>;
  return (
    str(r.ts) ??
    str(r.message_id) ??
    str(r.id) ??
    (r.message && typeof r.message === "object" ? idFrom(r.message) : null)
  );
}

export async function deliveryExtras(
  deps: Pick<Deps, "db" | "handlers" | "config">,
  run: RunRecord,
  rows: OutboxRecord[],
): Promise<Map<string, DeliveryExtra>> {
  const out = new Map<string, DeliveryExtra>();
  if (rows.length === 0) return out;
  const since = Math.min(...rows.map((o) => o.createdAt)) - deps.config.MEND_GROUP_WINDOW_S * 1000;
  // A message carrying a delivery was created no later than that delivery: bounded on both sides,
  // the read stays small on a long history (index alerts_kind_time).
  const sent = rows.filter((o) => o.status !== "silenced");
  const until =
    sent.length && sent.every((o) => o.deliveredAt !== null)
      ? Math.max(...sent.map((o) => o.deliveredAt!))
      : Number.MAX_SAFE_INTEGER;
  const kinds = [...new Set(rows.map((o) => o.kind))];
  const messages = await deps.db.db
    .select()
    .from(alerts)
    .where(and(inArray(alerts.kind, kinds), gte(alerts.createdAt, since), lte(alerts.createdAt, until)))
    .all();
  const deliveriesOf = (m: (typeof messages)[number]) => (m.state as { deliveries?: string[] } | null)?.deliveries;
  for (const o of rows) {
    const handler = o.handlerId ? await deps.handlers.get(o.handlerId) : undefined;
    const msg =
      messages.find((m) => m.kind === o.kind && deliveriesOf(m)?.includes(o.id)) ??
      messages.find((m) => m.kind === o.kind && m.runId === run.id);
    out.set(o.id, {
      handler_name: handler?.name ?? null,
      message_id: idFrom(msg?.ref) ?? idFrom(o.response),
      group_count: msg?.count ?? null,
    });
  }
  return out;
}
