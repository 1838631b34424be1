// What the run actions service is asked and what it answers (src/runs/actions.ts), and who acts.
import type { Issue } from "../engine/flow";
import type { RunRecord } from "../engine/ports";

export type RunActionName = "retry" | "replay" | "cancel" | "ack" | "resolve" | "mute" | "unmute";

export interface Actor {
  id: string;
  name?: string;
  via: "api" | "page" | "slack" | "discord";
}

export const API_ACTOR: Actor = { id: "api", via: "api" };

const isChat = (a: Actor) => a.via === "slack" || a.via === "discord";

/** How an actor is recorded for people (acked_by, resolved_by, silences): chat users with their platform id. */
export function actorLabel(a: Actor): string {
  if (isChat(a)) return a.name ? `${a.name} (${a.via}:${a.id})` : `${a.via}:${a.id}`;
  return a.name ?? a.id;
}

/** How an actor is named to another system (a callback's requested_by): a stable id, `slack:U123`. */
export function actorRef(a: Actor): string {
  return isChat(a) ? `${a.via}:${a.id}` : (a.name ?? a.id);
}

export interface ActionRequest {
  action: RunActionName;
  runId: string;
  by: Actor;
  /** Same key on the same action and run within 24 h: the first answer again, acted once. */
  idempotencyKey?: string;
  /** retry: original (default) or latest; replay: latest (default) or original. */
  version?: "original" | "latest";
  /** retry: rerun from this earlier step. */
  fromStep?: string;
  /** replay: this input instead of the run's (validated against the flow's input schema). */
  input?: { value: unknown };
  /** resolve */
  note?: string;
  /** mute: for this long; null or absent = until the run is resolved. */
  muteMs?: number | null;
}

export type ActionOutcome =
  | {
      ok: true;
      httpStatus: number;
      body: Record<string, unknown>;
      summary: string;
      run: RunRecord;
      started?: RunRecord;
      replayed?: boolean;
    }
  | {
      ok: false;
      httpStatus: 400 | 404 | 409 | 502;
      error: string;
      issues?: Issue[];
      summary: string;
      body: Record<string, unknown>;
      replayed?: boolean;
    };

/** A change said twice: `done` without who made it (chat adds its own mention), `summary` naming them after `head`. */
export function deed(who: string, head: string, tail = ""): { done: string; summary: string } {
  return { done: `${head}${tail}`, summary: `${head} by ${who}${tail}` };
}

/** An outcome inside the service: `unchanged` when the action found it done already (no change event). */
export type Acted = ActionOutcome & { unchanged?: boolean };

/** The answer of an action that did nothing. */
export function refusal(
  httpStatus: 400 | 404 | 409 | 502,
  error: string,
  extra: { issues?: Issue[]; body?: Record<string, unknown> } = {},
): ActionOutcome {
  const body = { error, ...extra.body, ...(extra.issues ? { issues: extra.issues } : {}) };
  return { ok: false, httpStatus, error, issues: extra.issues, summary: error, body };
}
