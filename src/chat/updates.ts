// Messages that tell the truth: every change to a run — an action from any entrance (API, pages,
// chat, /mend), a run ending (the engine's own retries, a run an action started), a success report
// of an external job — edits every message about it, and later events are posted in the
// message's thread (Slack thread_ts, Discord message_reference) so people are notified.
//
//   updates.onChange(change)   subscribed to RunActions.onChange (src/services.ts)
//   updates.tick()             a Scheduler part: after a restart, messages still showing a
//                              retry/replay as running whose run has ended are brought up to date;
//                              messages saying "Muted … until" a time now past are redrawn (Mute… back)
//   updates.nextDueAt()        the earliest such mute end, read from the alert rows (so a restart keeps it)
//
// A message follows the runs started from it (state.follow): their ends go to its thread, and a
// failure of one of them is never counted into its group (src/chat/deliver.ts).
import type { Log } from "../deps";
import { TERMINAL, type Clock, type RunRecord, type RunStatus } from "../engine/ports";
import type { Actor, RunChange } from "../runs/actions";
import type { AlertState, ChatUser, RunFacts } from "../store/alerts";
import type { RunRepo } from "../store/runs";
import { LOOKBACK_MS, type ChatAlerts } from "./deliver";
import { verb } from "./model";
import { editedReplayNote } from "./replay-input";

const MAX_FOLLOW = 50;

export interface UpdateDeps {
  chat: ChatAlerts;
  runs: Pick<RunRepo, "getRun" | "getAttempts">;
  facts: (run: RunRecord) => Promise<RunFacts>;
  clock: Clock;
  log: Log;
}

const userOf = (a: Actor | undefined): ChatUser => (a ? { id: a.id, name: a.name } : { id: "api" });
const nameOf = (a: Actor | undefined): string => a?.name ?? a?.id ?? "api";

/** "succeeded" / "failed again: <message>". */
export function runOutcome(run: RunRecord): string {
  return run.status === "failed" ? `failed again${run.error ? `: ${run.error.message}` : ""}` : run.status;
}

const WHAT: Partial<Record<RunChange["kind"], string>> = {
  ack: "Acknowledged",
  resolve: "Resolved",
  mute: "Muted",
  unmute: "Unmuted",
  cancel: "Cancelled",
};

export class MessageUpdates {
  /** Runs an action set going in this process, and how runs that just ended ended (both bounded). */
  private readonly started = new Set<string>();
  private readonly endedAs = new Map<string, RunStatus>();

  constructor(private readonly deps: UpdateDeps) {}

  /** The engine's end hook (before the RunChange): a first-time success needs no message lookup. */
  ended(run: RunRecord): void {
    if (this.endedAs.size > 1000) this.endedAs.clear();
    this.endedAs.set(run.id, run.status);
  }

  async onChange(change: RunChange): Promise<void> {
    if (change.started) {
      if (this.started.size > 1000) this.started.clear();
      this.started.add(change.started);
    }
    if (change.kind === "ended") {
      const status = this.endedAs.get(change.runId);
      this.endedAs.delete(change.runId);
      // A run that succeeded and that no action started has no message to tell (no D1 trip for it).
      if (status === "succeeded" && !this.started.has(change.runId)) return;
    }
    if (!(await this.deps.chat.hasAlerts())) return;
    const about = await this.deps.chat.alerts.about(change.runId, this.deps.clock.now() - LOOKBACK_MS);
    for (const a of about) await this.update(a.id, change);
  }

  /** A new version of `flow` was saved: its open messages are redrawn (Retry on latest appears). */
  async flowSaved(flow: string): Promise<void> {
    if (!(await this.deps.chat.hasAlerts())) return;
    const now = this.deps.clock.now();
    for (const a of await this.deps.chat.alerts.openOfFlow(flow, now - LOOKBACK_MS))
      await this.update(a.id, { runId: a.state.target_run, kind: "flow_saved", at: now });
  }

  /** A Scheduler part: messages still showing a retry/replay as running whose run has ended, or an ended mute. */
  async tick(): Promise<number> {
    if (!(await this.deps.chat.hasAlerts())) return 0;
    let done = 0;
    for (const a of await this.deps.chat.alerts.following()) {
      const runId = a.state.activity!.run_id;
      const run = await this.deps.runs.getRun(runId);
      if (run && !TERMINAL.includes(run.status)) continue;
      if (await this.update(a.id, { runId, kind: "ended", at: this.deps.clock.now() })) done++;
    }
    const now = this.deps.clock.now();
    for (const a of await this.deps.chat.alerts.mutesEnded(now))
      if (await this.update(a.id, { runId: a.state.target_run, kind: "mute_ended", at: now })) done++;
    return done;
  }

  /** When a message's mute ends (the poll drives the rest of tick()). */
  async nextDueAt(): Promise<number | null> {
    if (!(await this.deps.chat.hasAlerts())) return null;
    const at = await this.deps.chat.alerts.nextMuteEnd();
    // Past: a message tick() could not redraw (it will try again); not worth a wake before the next poll.
    return at === null ? null : Math.max(at, this.deps.clock.now() + 1_000);
  }

  /** "sent to ci (answered 200)": the latest callback of an external run, from its ledger. */
  private async callbackNote(change: RunChange, run: RunRecord | undefined): Promise<string | undefined> {
    if ((change.kind !== "retry" && change.kind !== "replay") || !run) return undefined;
    const step = `${change.kind}_callback`;
    const last = (await this.deps.runs.getAttempts(run.id)).filter((a) => a.step === step).at(-1);
    const source = (run.external as { source?: string } | null)?.source ?? run.flow;
    const status = (last?.output as { status?: unknown } | null)?.status;
    return `sent to ${source} (answered ${status ?? "nothing"})`;
  }

  /** Applies one change to one message; true when the message changed. */
  private async update(alertId: string, change: RunChange): Promise<boolean> {
    const { chat } = this.deps;
    const before = await chat.alerts.get(alertId);
    if (!before) return false;
    // Read what the change may need: the run it is about, and the message's main run (perhaps switching to the changed run).
    const runs = new Map<string, RunRecord | undefined>();
    for (const id of new Set(
      [change.runId, before.state.target_run, change.started].filter((x): x is string => Boolean(x)),
    ))
      runs.set(id, await this.deps.runs.getRun(id));
    const facts = new Map<string, RunFacts>();
    for (const [id, run] of runs) if (run) facts.set(id, await this.deps.facts(run));
    const callbackNote = change.started ? undefined : await this.callbackNote(change, runs.get(change.runId));
    let lines: string[] = [];
    const now = this.deps.clock.now();
    const { alert, changed } = await chat.change(alertId, (a) => {
      const r = apply(a.state, change, runs, now, callbackNote);
      lines = r.lines;
      const next = { ...r.state, facts: facts.get(r.state.target_run) ?? withoutEndedMute(r.state.facts, now) };
      // Muted or not: Mute… and Unmute swap, so the old controls go stale (and Slack forgets a picked option).
      if (Boolean(next.facts?.muted) !== Boolean(a.state.facts?.muted)) next.gen = Math.max(next.gen, a.state.gen + 1);
      return JSON.stringify(next) === JSON.stringify(a.state) ? undefined : { state: next };
    });
    if (changed && alert && lines.length) await chat.reply(alert, lines.join("\n"));
    return changed;
  }
}

/** The facts kept when the run is gone (retention): a mute that has ended is not shown any more. */
function withoutEndedMute(facts: RunFacts | undefined, now: number): RunFacts | undefined {
  if (!facts?.muted || facts.muted.until === null || facts.muted.until > now) return facts;
  const { muted: _, ...rest } = facts;
  return rest;
}

/** The message's state after `change`, and the lines to post in its thread. */
function apply(
  state: AlertState,
  change: RunChange,
  runs: Map<string, RunRecord | undefined>,
  now: number,
  callbackNote?: string,
): { state: AlertState; lines: string[] } {
  const s: AlertState = { ...state };
  const lines: string[] = [];
  const mine = change.runId === s.target_run || Boolean(s.runs?.includes(change.runId));
  const ended = runs.get(change.runId);
  switch (change.kind) {
    case "retry":
    case "replay": {
      if (!mine) break;
      if (!change.started) {
        // An external run: the reporting system was called back (src/hub/callbacks.ts).
        const note = callbackNote ?? "sent";
        if (change.runId === s.target_run)
          s.activity = {
            action: change.kind,
            by: userOf(change.by),
            at: now,
            run_id: change.runId,
            phase: "done",
            note,
          };
        lines.push(`${verb(change.kind)} by ${nameOf(change.by)} of run ${change.runId}: ${note}`);
        break;
      }
      if (!s.follow?.includes(change.started)) s.follow = [...(s.follow ?? []), change.started].slice(-MAX_FOLLOW);
      if (change.runId === s.target_run)
        s.activity = { action: change.kind, by: userOf(change.by), at: now, run_id: change.started, phase: "running" };
      const what = change.kind === "replay" ? `run ${change.runId} → new run ${change.started}` : `run ${change.runId}`;
      lines.push(
        change.edited
          ? editedReplayNote(nameOf(change.by), change.started)
          : `${verb(change.kind)} by ${nameOf(change.by)} of ${what} — running…`,
      );
      break;
    }
    case "ended":
    case "external_resolved": {
      if (!ended || !TERMINAL.includes(ended.status)) break;
      const act = s.activity;
      if (act?.phase === "running" && act.run_id === change.runId) {
        const failedAgain = ended.status === "failed" || ended.status === "cancelled";
        s.activity = { ...act, phase: "done", outcome: ended.status as RunStatus, error: ended.error ?? undefined };
        // Failed again: fresh buttons (a new generation) that act on the followed run.
        if (failedAgain) {
          s.gen = s.gen + 1;
          s.target_run = ended.id;
        } else s.closed = true;
        lines.push(
          `${verb(act.action)} by ${nameOf({ id: act.by.id, name: act.by.name, via: "api" })}: run ${ended.id} ${runOutcome(ended)}`,
        );
      } else if (s.follow?.includes(change.runId) && !s.told?.includes(change.runId)) {
        // Recorded, so the state changes and the line is posted (once) although the buttons stay.
        s.told = [...(s.told ?? []), change.runId].slice(-MAX_FOLLOW);
        lines.push(`Run ${ended.id} ${runOutcome(ended)}`);
      }
      break;
    }
    default: {
      const what = WHAT[change.kind];
      if (what && change.runId === s.target_run) lines.push(`${what} by ${nameOf(change.by)}`);
    }
  }
  return { state: s, lines };
}
