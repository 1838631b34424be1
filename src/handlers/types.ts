import type { AlertPayload } from "../engine/ports";

/** A delivery failed; the outbox tries again, no sooner than retryAfterMs when given. */
export class DeliveryError extends Error {
  override readonly name = "DeliveryError";
  constructor(
    message: string,
    readonly retryAfterMs?: number,
    readonly response?: unknown,
    readonly permanent = false,
  ) {
    super(message);
  }
}

export interface DeliveryContext {
  fetch: typeof fetch;
  log: (level: "info" | "warn" | "error", msg: string, fields?: Record<string, unknown>) => void;
  /** Identifies this notification across redeliveries. */
  deliveryId: string;
}

/** Sends one alert; returns what the target answered (recorded in the outbox). */
export type Sender = (config: Record<string, unknown>, payload: AlertPayload, ctx: DeliveryContext) => Promise<unknown>;
