import type { AlertPayload } from "../engine/ports";
import type { BatchItem } from "../store/database";

/**
 * A delivery failed; the outbox tries again, no sooner than retryAfterMs when given. `permanent`:
 * trying again cannot help. `rateLimited`: the platform said "slow down" (HTTP 429, Slack
 * `ratelimited`): not a failed attempt; the row waits retryAfterMs and its platform pauses.
 */
export class DeliveryError extends Error {
  override readonly name = "DeliveryError";
  constructor(
    message: string,
    readonly retryAfterMs?: number,
    readonly response?: unknown,
    readonly permanent = false,
    readonly rateLimited = false,
  ) {
    super(message);
  }
}

export interface DeliveryContext {
  fetch: typeof fetch;
  log: (level: "info" | "warn" | "error", msg: string, fields?: Record<string, unknown>) => void;
  /** Identifies this notification across redeliveries. */
  deliveryId: string;
  /**
   * The outbox row's "delivered" write (with the answer to record), for a sender that commits it
   * in one transaction with its own writes; the dispatcher then does not write it again.
   */
  delivered?: (response: unknown) => BatchItem;
}

/** Sends one alert; returns what the target answered (recorded in the outbox). */
export type Sender = (config: Record<string, unknown>, payload: AlertPayload, ctx: DeliveryContext) => Promise<unknown>;
