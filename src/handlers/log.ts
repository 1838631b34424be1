// The `log` handler: writes the alert to the server log.
import type { AlertPayload } from "../engine/ports";
import type { Sender } from "./types";

export function describeAlert(p: AlertPayload): string {
  const outcome = p.handler
    ? p.handler.outcome === "recovered"
      ? " (recovered by its error handler)"
      : " (its error handler failed too)"
    : "";
  const schema = schemaNote(p.error);
  return `run ${p.run.id} of flow ${p.run.flow} failed at step ${p.error.step ?? "?"} after ${p.error.attempts ?? 1} attempt(s): [${p.error.type}] ${p.error.message}${outcome}${schema ? ` (${schema})` : ""}`;
}

/** An error body the error object's `schema` could not decode is said so in every alert. */
export function schemaNote(error: AlertPayload["error"]): string | undefined {
  const why = error.details?.schema_error;
  return typeof why === "string" ? `the error body does not match the error object's schema: ${why}` : undefined;
}

/** The `log` sender. Its line ends with the run's page; `selfUrl` (the Node server's own address) stands in when MEND_PUBLIC_URL is unset. */
export function logSender(selfUrl?: () => string | undefined): Sender {
  return async (_config, payload, ctx) => {
    const base = selfUrl?.();
    const url = payload.run.url ?? (base ? `${base}/runs/${payload.run.id}` : undefined);
    ctx.log("warn", `alert: ${describeAlert(payload)}${url ? ` — ${url}` : ""}`, { run: payload.run.id, url });
    return { logged: true };
  };
}

export const sendLog: Sender = logSender();
