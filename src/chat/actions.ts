// The ONE table of chat actions: every button mend draws on a chat message, on every platform.
// An entry says its id (in the button's custom id / action_id), its label and style, whether it
// asks for confirmation, when it is shown, and what a click calls on the run-actions service
// (src/runs/actions.ts). Platforms draw AlertModel.buttons (built from this table by ./model.ts)
// and hand clicks to deps.clicks (./clicks.ts), which looks the entry up here. Adding a button is
// one entry below (docs/chat-platforms.md).
import type { RunRecord } from "../engine/ports";
import type { Actor, RunActions } from "../runs/actions";
import type { AlertRecord, RunFacts } from "../store/alerts";
import type { RunRepo } from "../store/runs";

/** What decides which buttons a message shows. */
export interface ButtonView {
  /** The message's main run as last seen. */
  facts: RunFacts;
  /** Failed runs in the message's group (1 when not grouped). */
  count: number;
  /** A retry or replay started from the message is still running. */
  busy: boolean;
  /** Resolved (by someone, or fixed: the run succeeded): nothing left to do. */
  closed: boolean;
}

export interface ClickRequest {
  runId: string;
  /** The message clicked (absent for buttons of a /mend status list). */
  alert?: AlertRecord;
  by: Actor;
  /** Exactly-once key of this click (the same click again answers the first answer). */
  key: string;
  actions: RunActions;
  runs: Pick<RunRepo, "getRun">;
}

export interface ClickAnswer {
  ok: boolean;
  summary: string;
  /** The click was seen before: nothing new was done. */
  replayed?: boolean;
  /** The run a retry/replay set going. */
  started?: RunRecord;
}

export interface ChatActionSpec {
  id: string;
  label(v: ButtonView): string;
  style?: "primary" | "danger";
  confirm?: { title: string; text: string; ok: string };
  shown(v: ButtonView): boolean;
  call(r: ClickRequest): Promise<ClickAnswer>;
}

const MUTE_MS = 3_600_000;
const open = (v: ButtonView) => !v.busy && !v.closed;
const retryable = (f: RunFacts) =>
  (f.status === "failed" || f.status === "recovered") && (!f.external || f.external.retry);
const finished = (f: RunFacts) =>
  f.status === "failed" || f.status === "recovered" || f.status === "succeeded" || f.status === "cancelled";

function answer(o: { ok: boolean; summary: string; replayed?: boolean; started?: RunRecord }): ClickAnswer {
  return { ok: o.ok, summary: o.summary, replayed: o.replayed, started: o.started };
}

export const CHAT_ACTIONS: readonly ChatActionSpec[] = [
  {
    id: "retry",
    label: () => "Retry",
    style: "primary",
    shown: (v) => open(v) && retryable(v.facts),
    call: async (r) =>
      answer(await r.actions.perform({ action: "retry", runId: r.runId, by: r.by, idempotencyKey: r.key })),
  },
  {
    id: "replay",
    label: () => "Replay",
    shown: (v) => open(v) && finished(v.facts) && (!v.facts.external || v.facts.external.replay),
    call: async (r) =>
      answer(await r.actions.perform({ action: "replay", runId: r.runId, by: r.by, idempotencyKey: r.key })),
  },
  {
    id: "retry_all",
    label: (v) => `Retry all (${v.count})`,
    shown: (v) => open(v) && v.count >= 2 && (!v.facts.external || v.facts.external.retry),
    call: async (r) => {
      // Each still-failed run of the group, once.
      const ids = r.alert?.state.runs ?? [r.runId];
      const failed: string[] = [];
      for (const id of ids) if ((await r.runs.getRun(id))?.status === "failed") failed.push(id);
      if (failed.length === 0)
        return { ok: false, summary: "No run of this group is still failed; nothing was retried." };
      return answer(await r.actions.bulk({ action: "retry", runIds: failed, by: r.by, idempotencyKey: r.key }));
    },
  },
  {
    id: "mute",
    label: () => "Mute 1h",
    style: "danger",
    confirm: {
      title: "Mute for 1 hour?",
      text: "No alerts for this flow, step and error type for the next hour.",
      ok: "Mute 1h",
    },
    shown: (v) => open(v) && !v.facts.muted,
    call: async (r) =>
      answer(
        await r.actions.perform({ action: "mute", runId: r.runId, by: r.by, idempotencyKey: r.key, muteMs: MUTE_MS }),
      ),
  },
];

/** The table entry for a button id, if it is one of mend's. */
export function chatAction(id: string): ChatActionSpec | undefined {
  return CHAT_ACTIONS.find((a) => a.id === id);
}
