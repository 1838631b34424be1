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
  /** The option picked, for an entry with `choices`. */
  choice?: string;
  actions: RunActions;
  runs: Pick<RunRepo, "getRun">;
  /** The input a form sent (entries with `form`), already parsed and checked (./replay-input.ts). */
  input?: { value: unknown };
}

export interface ClickAnswer {
  ok: boolean;
  summary: string;
  /** The click was seen before: nothing new was done. */
  replayed?: boolean;
  /** The run a retry/replay set going. */
  started?: RunRecord;
}

/** One option of a select: `value` reaches `call` as ClickRequest.choice. */
export interface ChatChoice {
  value: string;
  label: string;
}

export interface ChatActionSpec {
  id: string;
  label(v: ButtonView): string;
  style?: "primary" | "danger";
  confirm?: { title: string; text: string; ok: string };
  /** Drawn as a select (Slack static_select, Discord string select) whose placeholder is the label. */
  choices?: readonly ChatChoice[];
  /** Only on alert messages, not on the /mend status lists (which show what a run's status allows). */
  messageOnly?: boolean;
  shown(v: ButtonView): boolean;
  /**
   * The click opens a form instead of acting: "input" is the edited-input form (Slack modal, Discord
   * modal; ./replay-input.ts). Its submit calls `call` with the form's `input`.
   */
  form?: "input";
  call(r: ClickRequest): Promise<ClickAnswer>;
}

/** The view of a lone failed run outside any message: how labels read where no message state applies. */
export const PLAIN_VIEW: ButtonView = { facts: { status: "failed" }, count: 1, busy: false, closed: false };

const HOUR_MS = 3_600_000;
/** The timed mutes, in ms (the Mute… choices and `/mend mute <flow> <duration>`). */
export const MUTE_DURATIONS: Record<string, number> = { "1h": HOUR_MS, "4h": 4 * HOUR_MS, "24h": 24 * HOUR_MS };
/** Mute… choices: how long, in ms; `resolved` is until the run is resolved (or its alert closes). */
const MUTE_FOR: Record<string, number | null> = { ...MUTE_DURATIONS, resolved: null };
const open = (v: ButtonView) => !v.busy && !v.closed;
const retryable = (f: RunFacts) =>
  (f.status === "failed" || f.status === "recovered") && (!f.external || f.external.retry);
const finished = (f: RunFacts) =>
  f.status === "failed" || f.status === "recovered" || f.status === "succeeded" || f.status === "cancelled";
const replayable = (v: ButtonView) => open(v) && finished(v.facts) && (!v.facts.external || v.facts.external.replay);

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
    id: "retry_latest",
    label: () => "Retry on latest",
    messageOnly: true,
    shown: (v) => open(v) && retryable(v.facts) && !v.facts.external && v.facts.newer !== undefined,
    call: async (r) =>
      answer(
        await r.actions.perform({
          action: "retry",
          runId: r.runId,
          by: r.by,
          idempotencyKey: r.key,
          version: "latest",
        }),
      ),
  },
  {
    id: "replay",
    label: () => "Replay",
    shown: replayable,
    call: async (r) =>
      answer(await r.actions.perform({ action: "replay", runId: r.runId, by: r.by, idempotencyKey: r.key })),
  },
  {
    id: "replay_input",
    label: () => "Replay with input…",
    shown: replayable,
    messageOnly: true,
    form: "input",
    call: async (r) =>
      answer(
        await r.actions.perform({ action: "replay", runId: r.runId, by: r.by, idempotencyKey: r.key, input: r.input }),
      ),
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
    id: "ack",
    label: () => "Ack",
    messageOnly: true,
    shown: (v) => open(v) && !v.facts.acked,
    call: async (r) =>
      answer(await r.actions.perform({ action: "ack", runId: r.runId, by: r.by, idempotencyKey: r.key })),
  },
  {
    id: "resolve",
    label: () => "Resolve",
    messageOnly: true,
    shown: open,
    call: async (r) =>
      answer(await r.actions.perform({ action: "resolve", runId: r.runId, by: r.by, idempotencyKey: r.key })),
  },
  {
    id: "mute",
    label: () => "Mute…",
    messageOnly: true,
    choices: [
      { value: "1h", label: "1 hour" },
      { value: "4h", label: "4 hours" },
      { value: "24h", label: "24 hours" },
      { value: "resolved", label: "Until resolved" },
    ],
    shown: (v) => open(v) && !v.facts.muted,
    call: async (r) => {
      const muteMs = MUTE_FOR[r.choice ?? ""];
      if (muteMs === undefined) return { ok: false, summary: `'${r.choice}' is not one of the mute choices` };
      return answer(
        await r.actions.perform({ action: "mute", runId: r.runId, by: r.by, idempotencyKey: r.key, muteMs }),
      );
    },
  },
  {
    id: "unmute",
    label: () => "Unmute",
    messageOnly: true,
    shown: (v) => open(v) && Boolean(v.facts.muted),
    call: async (r) =>
      answer(await r.actions.perform({ action: "unmute", runId: r.runId, by: r.by, idempotencyKey: r.key })),
  },
];

/** The table entry for a button id, if it is one of mend's. */
export function chatAction(id: string): ChatActionSpec | undefined {
  return CHAT_ACTIONS.find((a) => a.id === id);
}
