// Builds the outbox rows for a failure; the engine commits them with the run's final state.
import type { AlertPlanner, OutboxRecord } from "../engine/ports";
import type { FlowRepo } from "../store/flows";
import type { HandlerRepo } from "../store/handlers";
import type { SilenceRepo } from "../store/silences";
import { selectHandlers } from "./match";

export function createPlanner(deps: {
  flows: FlowRepo;
  handlers: HandlerRepo;
  silences: SilenceRepo;
  newId: () => string;
}): AlertPlanner {
  return async (payload, now) => {
    // A silenced failure is still recorded (status `silenced`), just not sent.
    const silenced = await deps.silences.matching(now, payload.run.flow, payload.error);
    const flow = payload.external ? undefined : await deps.flows.get(payload.run.flow, payload.run.flow_version);
    const chosen = selectHandlers(await deps.handlers.list(), payload, flow?.flow.alerts ?? []);
    const row = (handlerId: string | null, kind: string): OutboxRecord => ({
      id: deps.newId(),
      runId: payload.run.id,
      handlerId,
      kind,
      payload,
      status: silenced ? "silenced" : "pending",
      attempts: 0,
      nextAttemptAt: silenced ? null : now,
      lastError: silenced ? `silenced by ${silenced.id}` : null,
      response: null,
      createdAt: now,
      deliveredAt: null,
    });
    // With no handler registered for it, a failure still reaches the server log.
    return chosen.length ? chosen.map((h) => row(h.id, h.kind)) : [row(null, "log")];
  };
}
