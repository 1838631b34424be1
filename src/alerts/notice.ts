// When an alert cannot be delivered for good (its retries used up, or a permanent answer such as
// Slack's channel_not_found or a Discord 404), people must still hear of it: a notice
// "mend could not deliver N alert(s) to <name>: <error>" goes to the log and, through the outbox,
// to every enabled handler registered with `fallback: true` (not the failing one). A notice that
// cannot be delivered itself is only logged, so two dead fallbacks never ping-pong.
import type { Log } from "../deps";
import type { Clock, OutboxRecord } from "../engine/ports";
import type { HandlerRepo } from "../store/handlers";
import type { OutboxRepo } from "../store/outbox";
import type { RunRepo } from "../store/runs";

/** The failed step of a notice's payload: notices about notices are not sent again. */
const NOTICE_STEP = "mend:delivery";

export interface NoticeDeps {
  handlers: HandlerRepo;
  outbox: Pick<OutboxRepo, "health">;
  runs: Pick<RunRepo, "commit">;
  clock: Clock;
  newId: () => string;
  log: Log;
  onDue?: (at: number) => void;
}

export async function deliveryNotice(d: NoticeDeps, row: OutboxRecord, error: string): Promise<void> {
  const handler = row.handlerId ? await d.handlers.get(row.handlerId) : undefined;
  const name = handler?.name ?? row.kind;
  const failing = row.handlerId ? ((await d.outbox.health([row.handlerId])).get(row.handlerId)?.failing ?? 1) : 1;
  const text = `mend could not deliver ${Math.max(1, failing)} alert(s) to ${name}: ${error}`;
  d.log("error", text, { handler: row.handlerId, outbox: row.id, run: row.runId });
  if (row.payload.error?.step === NOTICE_STEP) return;
  const fallbacks = (await d.handlers.list()).filter((h) => h.enabled && h.fallback && h.id !== row.handlerId);
  if (fallbacks.length === 0) return;
  const now = d.clock.now();
  const payload = {
    ...row.payload,
    error: { message: text, type: "network" as const, step: NOTICE_STEP },
    failed: { error: { message: text, type: "network" as const, step: NOTICE_STEP } },
  };
  const rows: OutboxRecord[] = fallbacks.map((h) => ({
    id: d.newId(),
    runId: row.runId,
    handlerId: h.id,
    kind: h.kind,
    payload,
    status: "pending",
    attempts: 0,
    nextAttemptAt: now,
    lastError: null,
    response: null,
    createdAt: now,
    deliveredAt: null,
  }));
  await d.runs.commit([{ op: "insertOutbox", rows }]);
  d.onDue?.(now);
}
