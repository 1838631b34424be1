// The chat-neutral alert model: what every chat platform shows for a failure.
//
// A platform renderer (./slack/blocks.ts, ./discord/components.ts) never reads an
// AlertPayload or an alert row directly; it calls buildAlert and draws the AlertModel:
//
//   buildAlert(payload, opts) → AlertModel
//     payload      AlertPayload (already redacted by the engine: never add secrets here)
//     opts.state   the alert row's AlertState (grouping count, clicks, outcome, mute) — optional,
//                  a first post or a stand-alone send has none
//     opts.count   failures in the group (default 1)
//     opts.alertId the alert row id the buttons refer to ("" for stand-alone sends)
//     opts.messageLimit  the longest error message the platform can show (chars, "…" included)
//     opts.publicUrl     MEND_PUBLIC_URL, for the run link (MEND_PUBLIC_URL/runs/:id)
//   alertFromRecord(record, opts) → AlertModel   the same, from an AlertRecord
//
//   AlertModel.buttons: the buttons to draw, each { action, label, style, id }, where `id` is the
//   opaque string to put in the platform's custom id / value (≤ 100 chars: fits Discord custom_id
//   and Slack value). decodeButton(id) gives back { action, alertId, runId, gen } for clicks.ts.
//
//   AlertModel.status: one line that says what happened after a click, e.g.
//     { text: "Retry by @ann — running…", by, action, phase: "running" }  (platforms format `by`
//     as a mention themselves: use statusLine(model, mention) to get the platform's string).
//
//   AlertModel also carries ./context.ts: a failed http step's response, show_input fields, links.
import { schemaNote } from "../handlers/log";
import type { AlertPayload, RunStatus } from "../engine/ports";
import type { AlertRecord, AlertState, ChatAction, ChatUser, RunFacts } from "../store/alerts";
import { CHAT_ACTIONS, chatAction, PLAIN_VIEW, type ButtonView, type ChatChoice } from "./actions";
import { alertContext, type AlertContext } from "./context";
import { truncate } from "./truncate";

export interface AlertButton {
  action: ChatAction;
  label: string;
  style?: "primary" | "danger";
  /** Ask before acting (Slack `confirm`; Discord has none: the label says what it does). */
  confirm?: { title: string; text: string; ok: string };
  /** A select of these options (its placeholder is `label`); the picked value comes back with the click. */
  choices?: readonly ChatChoice[];
  /** Opaque click id: `mend:<action>:<alertId>:<runId>:<gen>` (see decodeButton). */
  id: string;
}

export interface AlertModel extends AlertContext {
  alertId: string;
  gen: number;
  flow: string;
  flowVersion: number;
  step: string;
  errorType: string;
  /** The error message, cut to opts.messageLimit. */
  message: string;
  status?: number;
  attempts: number;
  runId: string;
  /** MEND_PUBLIC_URL/runs/:id when MEND_PUBLIC_URL is set. */
  runUrl?: string;
  /** An external failure's link (POST /api/failures `link`). */
  link?: string;
  /** The main run's status as last seen. */
  runStatus: RunStatus;
  /** Set when the flow's on_failure handler ran. */
  handlerOutcome?: "recovered" | "failed";
  handlerError?: string;
  replayOf?: string | null;
  /** Failures in the group (1 when not grouped). */
  count: number;
  /** The latest retry/replay on the message's runs and how it ended. */
  activity?: {
    action: ChatAction;
    by: ChatUser;
    phase: "running" | "done";
    outcome?: RunStatus;
    runId: string;
    error?: string;
    note?: string;
  };
  muted?: RunFacts["muted"];
  acked?: { by: string; at: number };
  resolved?: { by: string; note: string | null };
  /** Closed outside mend's buttons (e.g. an external job reported success). */
  closedNote?: string;
  /** The title line: `orders failed`, `ci / nightly failed`, `orders failed — fixed`. */
  headline: string;
  /** resolve_on_success: a later run of the flow succeeded (src/chat/fixed.ts). */
  fixedBy?: string;
  /** The escalation was posted (src/chat/escalation.ts): when. */
  escalatedAt?: number;
  /** A one-line plain-text summary with the error message (notification fallback text). */
  title: string;
  /** MEND_ENV (e.g. prod), shown in the title. */
  env?: string;
  /** When the failure happened (epoch ms), when known. */
  failedAt?: number;
  buttons: AlertButton[];
  /** Severity for colours: failed (red), recovered (amber), resolved (green), running (blue). */
  tone: "failed" | "recovered" | "resolved" | "running";
}

export interface BuildOptions {
  state?: AlertState;
  count?: number;
  alertId?: string;
  messageLimit: number;
  publicUrl?: string;
  /** MEND_ENV. */
  env?: string;
  failedAt?: number;
}

export function runLink(publicUrl: string | undefined, runId: string): string | undefined {
  return publicUrl ? `${publicUrl.replace(/\/+$/, "")}/runs/${encodeURIComponent(runId)}` : undefined;
}

export function encodeButton(b: { action: ChatAction; alertId: string; runId: string; gen: number }): string {
  return `mend:${b.action}:${b.alertId}:${b.runId}:${b.gen}`;
}

export interface DecodedButton {
  action: ChatAction;
  alertId: string;
  runId: string;
  gen: number;
  /** The option picked on a select. */
  choice?: string;
}

/** A click's id, and for a select the value picked: undefined unless both are mend's. */
export function decodeButton(id: string, choice?: string): DecodedButton | undefined {
  const m = /^mend:([a-z_]+):([^:]*):([^:]+):(\d+)$/.exec(id);
  const spec = m ? chatAction(m[1]!) : undefined;
  if (!m || !spec) return undefined;
  if (spec.choices ? !spec.choices.some((c) => c.value === choice) : choice !== undefined) return undefined;
  return { action: m[1]!, alertId: m[2]!, runId: m[3]!, gen: Number(m[4]), ...(spec.choices ? { choice } : {}) };
}

/** The button for one action of the table on a run (alert messages and the /mend status lists). */
export function actionButton(
  b: { action: ChatAction; alertId: string; runId: string; gen: number },
  view?: ButtonView,
): AlertButton {
  const spec = chatAction(b.action)!;
  const label = spec.label(view ?? PLAIN_VIEW);
  return {
    action: b.action,
    label,
    style: spec.style,
    confirm: spec.confirm,
    choices: spec.choices,
    id: encodeButton(b),
  };
}

/** The buttons of one run on a /mend status list (no message: what its status allows). */
export function runButtons(run: { id: string; status: RunStatus }, alertId: string, gen: number): AlertButton[] {
  const view: ButtonView = { facts: { status: run.status }, count: 1, busy: false, closed: false };
  return CHAT_ACTIONS.filter((a) => !a.messageOnly && a.shown(view)).map((a) =>
    actionButton({ action: a.id, alertId, runId: run.id, gen }, view),
  );
}

/** The facts of a message whose row predates them: what the payload said when it was posted. */
function factsOf(payload: AlertPayload, state?: AlertState): RunFacts {
  if (state?.facts) return state.facts;
  const ext = payload.external;
  return { status: payload.run.status, external: ext ? { ...ext, retry: true, replay: true } : undefined };
}

export function buildAlert(payload: AlertPayload, opts: BuildOptions): AlertModel {
  const state = opts.state;
  const err = payload.error;
  const alertId = opts.alertId ?? "";
  const gen = state?.gen ?? 0;
  const targetRun = state?.target_run ?? payload.run.id;
  const facts = factsOf(payload, state);
  const act = state?.activity;
  const activity: AlertModel["activity"] = act
    ? {
        action: act.action,
        by: act.by,
        phase: act.phase,
        outcome: act.outcome,
        runId: act.run_id,
        error: act.error ? truncate(act.error.message, opts.messageLimit) : undefined,
        note: act.note,
      }
    : undefined;
  const busy = act?.phase === "running";
  const fixed = facts.status === "succeeded" || Boolean(state?.resolved || state?.fixed);
  const closed = fixed || Boolean(facts.resolved);
  const count = opts.count ?? 1;
  const view: ButtonView = { facts, count, busy, closed };
  const buttons = CHAT_ACTIONS.filter((a) => a.shown(view)).map((a) =>
    actionButton({ action: a.id, alertId, runId: targetRun, gen }, view),
  );
  const step = err.step ?? "?";
  const recovered = facts.status === "recovered" || payload.handler?.outcome === "recovered";
  const tone: AlertModel["tone"] = closed ? "resolved" : busy ? "running" : recovered ? "recovered" : "failed";
  const name = payload.external ? `${payload.external.source} / ${payload.external.job}` : payload.run.flow;
  const headline = fixed
    ? `${name} failed — fixed`
    : recovered
      ? `${name} failed (recovered by on_failure)`
      : `${name} failed`;
  const what = recovered ? "failed (recovered by its error handler)" : "failed";
  return {
    alertId,
    gen,
    flow: payload.run.flow,
    flowVersion: payload.run.flow_version,
    step,
    errorType: err.type,
    message: truncate([err.message ?? "", schemaNote(err)].filter(Boolean).join(" — "), opts.messageLimit),
    status: err.status ?? undefined,
    attempts: err.attempts ?? 1,
    runId: targetRun,
    runUrl:
      targetRun === payload.run.id
        ? (payload.run.url ?? runLink(opts.publicUrl, targetRun))
        : runLink(opts.publicUrl, targetRun),
    link: payload.link,
    runStatus: facts.status,
    handlerOutcome: payload.handler?.outcome,
    handlerError: payload.handler?.error ? truncate(payload.handler.error.message, opts.messageLimit) : undefined,
    replayOf: payload.run.replay_of,
    count,
    activity,
    muted: facts.muted,
    acked: facts.acked ? { by: facts.acked.by, at: facts.acked.at } : undefined,
    resolved: facts.resolved ? { by: facts.resolved.by, note: facts.resolved.note } : undefined,
    closedNote: state?.resolved?.note,
    fixedBy: state?.fixed?.run_id,
    escalatedAt: state?.escalated?.at,
    headline: `${opts.env ? `[${opts.env}] ` : ""}${headline}`,
    // The notification (lock screen) says what broke: the error message is in the title.
    title: `${opts.env ? `[${opts.env}] ` : ""}${name} ${what} at step ${step}: ${err.type}${count > 1 ? ` (×${count})` : ""}${err.message ? ` — ${truncate(err.message, 200)}` : ""}`,
    env: opts.env,
    failedAt: opts.failedAt,
    buttons,
    tone,
    ...alertContext(payload, state?.display),
  };
}

export function alertFromRecord(a: AlertRecord, opts: Omit<BuildOptions, "state" | "count" | "alertId">): AlertModel {
  return buildAlert(a.state.payload, { failedAt: a.createdAt, ...opts, state: a.state, count: a.count, alertId: a.id });
}

const OUTCOME_TEXT: Partial<Record<RunStatus, string>> = {
  succeeded: "succeeded",
  recovered: "recovered (its error handler ran)",
  failed: "failed again",
  cancelled: "was cancelled",
};

/** "Retry" for a table action, else the run action's name capitalised ("Ack", "Resolve"). */
export function verb(action: ChatAction): string {
  return (
    chatAction(action)
      ?.label({ facts: { status: "failed" }, count: 2, busy: false, closed: false })
      .replace(/ \(\d+\)$/, "") ?? action.charAt(0).toUpperCase() + action.slice(1)
  );
}

const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);

/** "Retry by @ann — running…" / "Retry by @ann — succeeded" / "Acknowledged by ann" / "Muted by ann until 14:05 UTC". */
export function statusLine(m: AlertModel, mention: (u: ChatUser) => string): string | undefined {
  const parts: string[] = [];
  const a = m.activity;
  if (a) {
    const who = `${verb(a.action)} by ${mention(a.by)}`;
    const ran = a.action === "replay" && a.runId !== m.runId ? ` (run ${a.runId})` : "";
    if (a.note) parts.push(`${who} — ${a.note}`);
    else if (a.phase === "running") parts.push(`${who} — running…${ran}`);
    else
      parts.push(
        `${who} — ${OUTCOME_TEXT[a.outcome ?? "failed"] ?? a.outcome}${ran}${a.outcome === "failed" && a.error ? `: ${a.error}` : ""}`,
      );
  }
  if (m.closedNote) parts.push(`Resolved: ${m.closedNote} (run ${m.runStatus})`);
  if (m.fixedBy) parts.push(`Fixed by run ${m.fixedBy}`);
  if (m.resolved) parts.push(`Resolved by ${m.resolved.by}${m.resolved.note ? `: ${m.resolved.note}` : ""}`);
  else if (m.acked) parts.push(`Acknowledged by ${m.acked.by} at ${hhmm(m.acked.at)} UTC`);
  else if (m.escalatedAt) parts.push(`Escalated at ${hhmm(m.escalatedAt)} UTC: nobody had acknowledged it`);
  if (m.muted) {
    const until = m.muted.until === null ? "until resolved" : `until ${hhmm(m.muted.until)} UTC`;
    parts.push(`Muted by ${m.muted.by} ${until}: no alerts for ${mutedWhat(m)}`);
  }
  return parts.length ? parts.join("\n") : undefined;
}

/** "orders / charge / http" (a run's mute), "orders" (a flow-wide one): the silence's matchers, trailing "any" left out. */
function mutedWhat(m: AlertModel): string {
  const s = m.muted?.scope;
  if (!s) return `${m.flow} / ${m.step} / ${m.errorType}`;
  const parts = [s.flow ?? "any flow", s.step, s.error_type];
  while (parts.length > 1 && parts.at(-1) === null) parts.pop();
  return parts.map((p) => p ?? "any step").join(" / ");
}
