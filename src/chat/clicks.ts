// Platform-neutral click handling: Retry / Replay / Mute 1h on a run, from a button or a command.
// One instance lives in deps.clicks (built in src/services.ts).
//
//   const result = await deps.clicks.handle({
//     platform: "slack",               // the alert kind whose editor redraws the message
//     action: "retry" | "replay" | "mute",
//     runId, alertId?, gen?,           // from decodeButton(button id); a slash command passes only runId
//     user: { id, name? },
//     allowed,                         // the platform's allow-list decision (users, roles)
//     onEnd?: (run) => Promise<void>,  // optional: told when the started run ends (used when there is
//                                      //   no alert message to edit, e.g. a command's reply)
//   });
//
//   result.status  denied | not_found | stale | duplicate | refused | started | muted
//   result.reply   a private line for the clicker (Slack ephemeral, Discord flag 64) when the click
//                  did nothing (denied, stale, duplicate, refused, not_found); undefined otherwise
//   result.summary a one-line description of what happened (for command answers and logs)
//   result.alert   the alert after the click (its message was already edited through the editor
//                  of its platform, through deps.chat)
//   result.run     the run that was started (retry: the same run; replay: the new run)
//
// Guarantees:
//   - nothing runs unless `allowed`;
//   - exactly once per (action, alert, run, generation): the key is claimed in the `actions` table
//     before anything runs, so double clicks and redeliveries do nothing (status duplicate); a click
//     on buttons older than the alert's current generation is `stale`;
//   - after a retry/replay the alert shows "<Action> by @user — running…", and when the run ends
//     it is edited again with the outcome (succeeded / recovered / failed again with fresh buttons).
//     The end is noticed twice over: engine.waitFor for immediacy, and tick() (a Scheduler part)
//     which finds alerts still marked running whose run has ended (after a restart, or a run that
//     finished in another process). Only the first of the two edits the message.
//   - Mute 1h creates a silence for the alert's flow + step + error type and says so in the message.
//   - Retry/Replay go through the run actions service (deps.act = runActions.perform), which calls
//     an external failure's reporting system back; the message says what it answered.
//
//   await deps.clicks.resolved(run, note)   for code that ends a run outside the engine (a success
//     report of an external job): marks the run's alerts resolved ("Resolved: <note>", no buttons)
//     and edits their messages.
import type { Log } from "../deps";
import type { Engine } from "../engine/engine";
import type { ErrorContext } from "../engine/errors";
import { TERMINAL, type Clock, type RunRecord } from "../engine/ports";
import type { ActionRepo, AlertRecord, ChatAction, ChatUser } from "../store/alerts";
import type { RunRepo } from "../store/runs";
import type { SilenceRepo } from "../store/silences";
import type { ActionOutcome, ActionRequest, Actor } from "../runs/actions";
import type { ChatAlerts } from "./deliver";
import type { DecodedButton } from "./model";

export const MUTE_MS = 3_600_000;
/** How long a click waits in memory for its run; past that the scheduler tick reports the end. */
const FOLLOW_MS = 60_000;

export interface Click {
  platform: string;
  action: ChatAction;
  runId: string;
  alertId?: string;
  gen?: number;
  user: ChatUser;
  allowed: boolean;
  onEnd?: (run: RunRecord) => Promise<void>;
}

export type ClickStatus = "denied" | "not_found" | "stale" | "duplicate" | "refused" | "started" | "muted";

export interface ClickResult {
  status: ClickStatus;
  reply?: string;
  summary: string;
  alert?: AlertRecord;
  run?: RunRecord;
}

export interface ClickDeps {
  engine: Engine;
  runs: RunRepo;
  silences: SilenceRepo;
  actions: ActionRepo;
  chat: ChatAlerts;
  clock: Clock;
  newId: () => string;
  log: Log;
  waitUntil: (p: Promise<unknown>) => void;
  /** Retry / Replay through the run actions service (deps.runActions.perform). */
  act: (req: ActionRequest) => Promise<ActionOutcome>;
}

/** One line of a /mend status list: a failed run and what its buttons carry. */
export interface StatusItem {
  run: RunRecord;
  alertId: string;
  gen: number;
}

export const VERB: Record<ChatAction, string> = { retry: "Retry", replay: "Replay", mute: "Mute" };

/** What the clicker alone should read, when the click did nothing visible on an alert. */
export function privateLine(r: ClickResult): string | undefined {
  return r.reply ?? (r.alert ? undefined : r.summary);
}

/** " (new run X) — running…" / " (run X) — running…" after a command started a run; "" otherwise. */
export function startedNote(r: ClickResult, action: "retry" | "replay"): string {
  return r.run ? ` (${action === "replay" ? `new run ${r.run.id}` : `run ${r.run.id}`}) — running…` : "";
}

/** What a followed run ended as: its status, or "failed again: <message>". */
export function runOutcome(run: RunRecord): string {
  return run.status === "failed" ? `failed again${run.error ? `: ${run.error.message}` : ""}` : run.status;
}

export class ClickService {
  /** False once a tick found nothing to follow; set again by each started click. */
  private maybeFollowing = true;
  private stopped = false;

  constructor(private readonly deps: ClickDeps) {}

  stop(): void {
    this.stopped = true;
  }

  async handle(click: Click): Promise<ClickResult> {
    const { deps } = this;
    const verb = VERB[click.action];
    if (!click.allowed) {
      return { status: "denied", reply: `You are not allowed to ${click.action === "mute" ? "mute alerts" : `${click.action} runs`} from chat: your user id ${click.user.id} is not on the allow-list. Nothing was run.`, summary: `${verb} by ${click.user.id} refused (not on the allow-list)` };
    }
    const run = await deps.runs.getRun(click.runId);
    if (!run) return { status: "not_found", reply: `Run ${click.runId} does not exist.`, summary: `unknown run ${click.runId}` };
    const alert = click.alertId ? await deps.chat.alerts.get(click.alertId) : undefined;
    if (alert && click.gen !== undefined && (click.gen !== alert.state.gen || click.runId !== alert.state.target_run)) {
      return { status: "stale", reply: "This alert has changed since those buttons were drawn; use the buttons on the current message.", summary: `stale ${click.action} click on alert ${alert.id}`, alert };
    }
    const gen = click.gen ?? (run.finishedAt ?? run.updatedAt);
    const key = `${click.action}:${click.alertId ?? ""}:${click.runId}:${gen}`;
    const now = deps.clock.now();
    if (!(await deps.actions.claim(key, run.id, now))) {
      const prior = (await deps.actions.get(key))?.result as { summary?: string } | null | undefined;
      const current = click.action === "mute" ? "" : ` Run ${run.id} is ${(await deps.runs.getRun(run.id))?.status ?? run.status} now.`;
      return { status: "duplicate", reply: `Already done${prior?.summary ? `: ${prior.summary}` : ""}. Nothing new was run.${current}`, summary: `duplicate ${click.action} of run ${run.id}`, alert };
    }
    if (click.action === "mute") return this.record(key, await this.mute(click, run, alert));
    // Retry / Replay go through the run actions service, which also routes external failures.
    const by = { id: click.user.id, name: click.user.name, via: click.platform as Actor["via"] };
    const outcome = await deps.act({ action: click.action, runId: run.id, by });
    if (run.external) return this.record(key, await this.callBack(click, run, alert, outcome));
    if (!outcome.ok) {
      return this.record(key, { status: "refused", reply: `Could not ${click.action} run ${run.id}: ${outcome.error}.`, summary: `${click.action} of run ${run.id} refused: ${outcome.error}`, alert });
    }
    const started = outcome.started ?? outcome.run;
    let edited = alert;
    if (alert) {
      const r = await deps.chat.change(alert.id, (a) => ({
        state: { ...a.state, activity: { action: click.action, by: click.user, at: now, run_id: started.id, phase: "running" } },
      }));
      edited = r.alert;
      this.maybeFollowing = true;
    }
    deps.waitUntil(this.follow(started.id, alert?.id, click.onEnd));
    const summary = click.action === "retry" ? `Retry of run ${run.id} started by ${click.user.name ?? click.user.id}` : `Replay of run ${run.id} started by ${click.user.name ?? click.user.id}: new run ${started.id}`;
    return this.record(key, { status: "started", summary, alert: edited, run: started });
  }

  /**
   * A click on one of mend's buttons (decodeButton of its id) by a user the platform allowed.
   * `tellClicker` hears the outcome of a run started from a button without an alert (a /mend status list).
   */
  button(platform: string, b: DecodedButton, user: ChatUser, tellClicker: (run: RunRecord) => Promise<void>): Promise<ClickResult> {
    return this.handle({ platform, action: b.action, runId: b.runId, alertId: b.alertId || undefined, gen: b.gen, user, allowed: true, onEnd: b.alertId ? undefined : tellClicker });
  }

  /** The `platform` alert a command about `runId` acts through: the newest one whose buttons target that run. */
  async alertFor(runId: string, platform: string): Promise<AlertRecord | undefined> {
    const alert = await this.deps.chat.alerts.latestForRun(runId, platform);
    return alert && alert.state.target_run === runId ? alert : undefined;
  }

  /** `/mend status`: recent failed runs, each with the alert id and generation its buttons carry. */
  async failedRuns(platform: string): Promise<StatusItem[]> {
    const { runs } = await this.deps.runs.listRuns({ status: "failed", limit: 10 });
    const items: StatusItem[] = [];
    for (const run of runs) {
      const alert = await this.alertFor(run.id, platform);
      items.push({ run, alertId: alert?.id ?? "", gen: alert ? alert.state.gen : (run.finishedAt ?? run.updatedAt) });
    }
    return items;
  }

  /** A Scheduler part: reports runs whose end no in-memory waiter saw. */
  async tick(): Promise<number> {
    if (!this.maybeFollowing || this.stopped) return 0;
    const list = await this.deps.chat.alerts.following();
    if (list.length === 0) {
      this.maybeFollowing = false;
      return 0;
    }
    let done = 0;
    for (const a of list) {
      const runId = a.state.activity!.run_id;
      const run = await this.deps.runs.getRun(runId);
      if (!run) {
        await this.finish(a.id, runId, undefined);
        done++;
      } else if (TERMINAL.includes(run.status)) {
        if (await this.finish(a.id, run.id, run)) done++;
      }
    }
    return done;
  }

  async nextDueAt(): Promise<number | null> {
    // The scheduler's poll drives tick(); nothing here is due at a precise time.
    return null;
  }

  private async record(key: string, result: ClickResult): Promise<ClickResult> {
    await this.deps.actions.setResult(key, { status: result.status, summary: result.summary, run: result.run?.id ?? null });
    return result;
  }

  private async mute(click: Click, run: RunRecord, alert: AlertRecord | undefined): Promise<ClickResult> {
    const { deps } = this;
    const now = deps.clock.now();
    const error: ErrorContext | null = alert?.state.payload.error ?? run.error;
    const flow = alert?.state.payload.run.flow ?? run.flow;
    const silence = await deps.silences.create(
      {
        id: deps.newId(),
        flow,
        step: error?.step ?? null,
        errorType: error?.type ?? null,
        endsAt: now + MUTE_MS,
        createdBy: `${click.platform}:${click.user.id}`,
        comment: `Mute 1h from ${click.platform} by ${click.user.name ?? click.user.id}`,
      },
      now,
    );
    let edited = alert;
    if (alert) {
      const r = await deps.chat.change(alert.id, (a) => ({ state: { ...a.state, muted: { by: click.user, until: now + MUTE_MS, silence_id: silence.id } } }));
      edited = r.alert;
    }
    const what = `${flow} / ${error?.step ?? "any step"} / ${error?.type ?? "any error"}`;
    return { status: "muted", summary: `Muted ${what} for 1h (silence ${silence.id}) by ${click.user.name ?? click.user.id}`, alert: edited };
  }

  /** Marks every alert of `run` resolved (no buttons) and edits their messages. */
  async resolved(run: RunRecord, note: string): Promise<void> {
    const now = this.deps.clock.now();
    for (const a of await this.deps.chat.alerts.forRun(run.id)) {
      if (a.state.target_run !== run.id) continue;
      await this.deps.chat.change(a.id, (x) => (x.state.resolved ? undefined : { state: { ...x.state, resolved: { status: run.status, at: now, note }, closed: true } }));
    }
  }

  private async callBack(click: Click, run: RunRecord, alert: AlertRecord | undefined, outcome: ActionOutcome): Promise<ClickResult> {
    const { deps } = this;
    const action = click.action as "retry" | "replay";
    const source = String((run.external as { source?: unknown } | null)?.source ?? run.flow);
    const answered = (outcome.body.callback as { status?: number | null } | undefined)?.status;
    const status: ClickStatus = outcome.ok ? "started" : "refused";
    const note = outcome.ok ? `sent to ${source} (answered ${answered ?? "nothing"})` : outcome.error;
    let edited = alert;
    if (alert) {
      const r = await deps.chat.change(alert.id, (a) => ({ state: { ...a.state, activity: { action, by: click.user, at: deps.clock.now(), run_id: run.id, phase: "done", note } } }));
      edited = r.alert;
    }
    const summary = `${VERB[action]} of external run ${run.id} by ${click.user.name ?? click.user.id}: ${note}`;
    return { status, summary, alert: edited, reply: status === "refused" && !alert ? `${VERB[action]} failed: ${note}` : undefined };
  }

  private async follow(runId: string, alertId: string | undefined, onEnd?: (run: RunRecord) => Promise<void>): Promise<void> {
    try {
      const run = await this.deps.engine.waitFor(runId, FOLLOW_MS);
      if (!run || !TERMINAL.includes(run.status)) return;
      if (alertId) await this.finish(alertId, runId, run);
      if (onEnd) await onEnd(run);
    } catch (err) {
      this.deps.log("warn", "following a clicked run failed", { run: runId, error: String((err as Error)?.message ?? err) });
    }
  }

  /** Marks the alert's activity done with the run's outcome; true when this call did it. */
  private async finish(alertId: string, runId: string, run: RunRecord | undefined): Promise<boolean> {
    const { changed } = await this.deps.chat.change(alertId, (a) => {
      const act = a.state.activity;
      if (!act || act.phase !== "running" || act.run_id !== runId) return undefined;
      const outcome = run?.status ?? "failed";
      const failedAgain = outcome === "failed" || outcome === "cancelled";
      return {
        state: {
          ...a.state,
          activity: { ...act, phase: "done", outcome, error: run?.error ?? undefined, note: run ? undefined : `run ${runId} no longer exists` },
          // Failed again: fresh buttons (a new generation) that act on the followed run.
          gen: failedAgain ? a.state.gen + 1 : a.state.gen,
          target_run: failedAgain && run ? run.id : a.state.target_run,
          closed: !failedAgain || a.state.closed,
        },
      };
    });
    return changed;
  }
}
