// The `log` handler: writes the alert to the server log.
import type { AlertPayload } from "../engine/ports";
import type { Sender } from "./types";

export function describeAlert(p: AlertPayload): string {
  const outcome = p.handler ? (p.handler.outcome === "recovered" ? " (recovered by its error handler)" : " (its error handler failed too)") : "";
  return `run ${p.run.id} of flow ${p.run.flow} failed at step ${p.error.step ?? "?"} after ${p.error.attempts ?? 1} attempt(s): [${p.error.type}] ${p.error.message}${outcome}`;
}

export const sendLog: Sender = async (_config, payload, ctx) => {
  ctx.log("warn", `alert: ${describeAlert(payload)}`, { run: payload.run.id, url: payload.run.url });
  return { logged: true };
};
