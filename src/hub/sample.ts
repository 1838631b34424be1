// The sample alert that POST /api/handlers/:id/test sends: shaped like a real one, marked as a test.
import type { Deps } from "../deps";
import type { AlertPayload } from "../engine/ports";

export function sampleAlert(deps: Pick<Deps, "newId" | "config">, handlerName: string): AlertPayload {
  const id = `test_${deps.newId()}`;
  const error = {
    message: `This is a test alert from mend for handler '${handlerName}'`,
    type: "runtime" as const,
    step: "example_step",
    attempts: 1,
  };
  const base = deps.config.MEND_PUBLIC_URL?.replace(/\/$/, "");
  return {
    run: {
      id,
      flow: "mend-test",
      flow_version: 1,
      status: "failed",
      ...(base ? { url: `${base}/runs/${id}` } : {}),
      replay_of: null,
    },
    failed: { test: true, error },
    error,
    input: { test: true },
  };
}
