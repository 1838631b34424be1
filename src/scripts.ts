// The scripts a `script` step can call: built-in handlers plus user modules.
import type { AlertPayload, ScriptContext, ScriptFn, ScriptRegistry } from "./engine/ports";
import type { ErrorContext } from "./engine/errors";
import type { DeliveryContext, Sender } from "./handlers/types";

/** Adapts a handler's sender to a script step: args are the handler config. */
export function senderScript(send: Sender, ctx: Omit<DeliveryContext, "deliveryId">, publicUrl?: string): ScriptFn {
  return async (args, s: ScriptContext) => {
    const error: ErrorContext = s.error ?? { message: "no error (called outside on_failure)", type: "runtime" };
    const failed = (s.failed as AlertPayload["failed"] | undefined) ?? { error };
    const payload: AlertPayload = {
      run: {
        id: s.run.id,
        flow: s.run.flow,
        flow_version: s.run.flow_version,
        status: "running",
        url: publicUrl ? `${publicUrl.replace(/\/$/, "")}/runs/${s.run.id}` : undefined,
      },
      failed,
      error,
      input: s.input,
    };
    return send((args ?? {}) as Record<string, unknown>, payload, {
      ...ctx,
      deliveryId: `${s.run.id}:script:${s.run.attempt}`,
    });
  };
}

export function createRegistry(
  builtins: Record<string, ScriptFn>,
  user: Record<string, ScriptFn> = {},
): ScriptRegistry {
  const all = { ...user, ...builtins };
  return { get: (name) => (Object.hasOwn(all, name) ? all[name] : undefined) };
}
