// Which registered handlers hear about a failure.
import type { AlertPayload } from "../engine/ports";
import type { HandlerRecord } from "../store/handlers";
import { compileGlob } from "./glob";

export function matches(handler: HandlerRecord, payload: AlertPayload): boolean {
  const m = handler.match;
  if (!m) return true;
  if (m.flows?.length && !m.flows.some((g) => compileGlob(g).test(payload.run.flow))) return false;
  if (m.steps?.length && !m.steps.includes(payload.error.step ?? "")) return false;
  if (m.error_types?.length && !m.error_types.includes(payload.error.type)) return false;
  return true;
}

/** Enabled handlers the flow names in `alerts`, plus those whose match selects the failure. */
export function selectHandlers(all: HandlerRecord[], payload: AlertPayload, named: string[]): HandlerRecord[] {
  return all.filter((h) => h.enabled && (named.includes(h.name) || named.includes(h.id) || matches(h, payload)));
}
