// Chat clicks and /mend commands: thin adapters over the run-actions service (src/runs/actions.ts).
// One instance lives in deps.clicks (built in src/services.ts). A platform verifies the request,
// decides its allow-list, and calls one of:
//
//   deps.clicks.button(platform, decodeButton(id), user, tellClicker)   a button on a message
//   deps.clicks.command(platform, action, runId, user, tellEnd)         `/mend retry <run>` …
//   deps.clicks.handle({ platform, action, runId, alertId?, gen?, user, allowed, onEnd? })
//
// and answers the platform with result.reply privately when it is set (privateLine). The action
// itself is the table entry of src/chat/actions.ts, calling RunActions with the clicker as the
// actor and a key per (platform, action, message, run, generation): a double click or a
// redelivered interaction acts once and answers "Already done". A click on buttons older than the
// message's generation is `stale`. The messages themselves are edited by src/chat/updates.ts, which
// hears every change the service makes (whoever asked for it).
import type { Engine } from "../engine/engine";
import { TERMINAL, type Clock, type RunRecord } from "../engine/ports";
import type { Actor, RunActions } from "../runs/actions";
import type { AlertRecord, ChatAction, ChatUser } from "../store/alerts";
import type { RunRepo } from "../store/runs";
import { sha256Hex } from "../crypto";
import type { Log } from "../deps";
import { chatAction, PLAIN_VIEW } from "./actions";
import type { ChatAlerts } from "./deliver";
import { verb, type DecodedButton } from "./model";
import { runOutcome } from "./updates";

export { runOutcome };

/** How long a command waits in memory to tell how its run ended. */
const FOLLOW_MS = 60_000;

export interface Click {
  platform: string;
  action: ChatAction;
  runId: string;
  alertId?: string;
  gen?: number;
  /** The option picked on a select (Mute…). */
  choice?: string;
  user: ChatUser;
  allowed: boolean;
  /** Told when the started run ends (where no message shows it: status lists, commands). */
  onEnd?: (run: RunRecord) => Promise<void>;
  /** What a form sent (an action with `form`): part of the exactly-once key. */
  input?: { value: unknown };
}

export type ClickStatus = "denied" | "not_found" | "stale" | "duplicate" | "refused" | "started" | "done";

export interface ClickResult {
  status: ClickStatus;
  /** A private line for the clicker when the click did nothing (Slack ephemeral, Discord flag 64). */
  reply?: string;
  summary: string;
  alert?: AlertRecord;
  /** The run a retry/replay set going (retry: the same run; replay: the new run). */
  run?: RunRecord;
}

export interface ClickDeps {
  engine: Pick<Engine, "waitFor">;
  runs: RunRepo;
  runActions: RunActions;
  chat: ChatAlerts;
  clock: Clock;
  log: Log;
  waitUntil: (p: Promise<unknown>) => void;
}

/** One line of a /mend status list: a failed run and what its buttons carry. */
export interface StatusItem {
  run: RunRecord;
  alertId: string;
  gen: number;
}

/** "retry runs", "mute alerts", "ack runs": what a refused clicker or /mend user was not allowed to do. */
export function actionNoun(action: ChatAction): string {
  return action === "mute" || action === "unmute"
    ? `${action} alerts`
    : `${action.replace(/_all|_latest|_input/, "")} runs`;
}

/** What the clicker alone should read, when the click did nothing visible on a message. */
export function privateLine(r: ClickResult): string | undefined {
  return r.reply ?? (r.alert ? undefined : r.summary);
}

/** " (new run X) — running…" / " (run X) — running…" after a command started a run; "" otherwise. */
export function startedNote(r: ClickResult, action: string): string {
  return r.run ? ` (${action === "replay" ? `new run ${r.run.id}` : `run ${r.run.id}`}) — running…` : "";
}

export class ClickService {
  private stopped = false;

  constructor(private readonly deps: ClickDeps) {}

  /** Stops telling commands how their runs ended (the services are going away). */
  stop(): void {
    this.stopped = true;
  }

  async handle(click: Click): Promise<ClickResult> {
    const { deps } = this;
    const spec = chatAction(click.action);
    const what = actionNoun(click.action);
    if (!click.allowed) {
      return {
        status: "denied",
        reply: `You are not allowed to ${what} from chat: your user id ${click.user.id} is not on the allow-list. Nothing was run.`,
        summary: `${click.action} by ${click.user.id} refused (not on the allow-list)`,
      };
    }
    if (!spec)
      return {
        status: "not_found",
        reply: `mend has no '${click.action}' button (any more).`,
        summary: `unknown action ${click.action}`,
      };
    const run = await deps.runs.getRun(click.runId);
    if (!run)
      return {
        status: "not_found",
        reply: `Run ${click.runId} does not exist.`,
        summary: `unknown run ${click.runId}`,
      };
    const alert = click.alertId ? await deps.chat.alerts.get(click.alertId) : undefined;
    if (alert && click.gen !== undefined && (click.gen !== alert.state.gen || click.runId !== alert.state.target_run)) {
      return {
        status: "stale",
        reply: "This alert has changed since those buttons were drawn; use the buttons on the current message.",
        summary: `stale ${click.action} click on alert ${alert.id}`,
        alert,
      };
    }
    if (spec.form && !click.input)
      return { status: "refused", reply: `${spec.label(PLAIN_VIEW)} needs its form.`, summary: "form not sent", alert };
    const gen = click.gen ?? run.finishedAt ?? run.updatedAt;
    // The same form sent twice acts once; another input is another action.
    const sent = click.input ? `:${await sha256Hex(JSON.stringify(click.input.value) ?? "")}` : "";
    const key = `${click.platform}:${click.action}:${click.alertId ?? ""}:${click.runId}:${gen}${sent}`;
    const by: Actor = { id: click.user.id, name: click.user.name, via: click.platform as Actor["via"] };
    const a = await spec.call({
      runId: run.id,
      alert,
      by,
      key,
      choice: click.choice,
      actions: deps.runActions,
      runs: deps.runs,
      input: click.input,
    });
    if (a.replayed) {
      const now = (await deps.runs.getRun(run.id))?.status ?? run.status;
      return {
        status: "duplicate",
        reply: `Already done: ${a.summary}. Nothing new was run. Run ${run.id} is ${now} now.`,
        summary: `duplicate ${click.action} of run ${run.id}`,
        alert,
      };
    }
    if (!a.ok)
      return {
        status: "refused",
        reply: `Could not ${verb(click.action).toLowerCase()} run ${run.id}: ${a.summary}`,
        summary: `${click.action} of run ${run.id} refused: ${a.summary}`,
        alert,
      };
    if (a.started && click.onEnd) deps.waitUntil(this.follow(a.started.id, click.onEnd));
    return { status: a.started ? "started" : "done", summary: a.summary, alert, run: a.started };
  }

  /**
   * A click on one of mend's buttons (decodeButton of its id) by a user the platform allowed.
   * `tellClicker` hears the outcome of a run started from a button without an alert (a /mend status list).
   */
  button(
    platform: string,
    b: DecodedButton,
    user: ChatUser,
    tellClicker: (run: RunRecord) => Promise<void>,
  ): Promise<ClickResult> {
    return this.handle({
      platform,
      action: b.action,
      runId: b.runId,
      alertId: b.alertId || undefined,
      gen: b.gen,
      choice: b.choice,
      user,
      allowed: true,
      onEnd: b.alertId ? undefined : tellClicker,
    });
  }

  /** `/mend retry|replay <run>`: acts through the run's newest message on `platform` when there is one, so it is edited too. */
  async command(
    platform: string,
    action: "retry" | "replay",
    runId: string,
    user: ChatUser,
    tellEnd?: (run: RunRecord) => Promise<void>,
  ): Promise<ClickResult> {
    const alert = await this.alertFor(runId, platform);
    return this.handle({
      platform,
      action,
      runId,
      alertId: alert?.id,
      gen: alert?.state.gen,
      user,
      allowed: true,
      onEnd: tellEnd,
    });
  }

  /** The `platform` alert a command about `runId` acts through: the newest one whose buttons target that run. */
  async alertFor(runId: string, platform: string): Promise<AlertRecord | undefined> {
    const alert = await this.deps.chat.alerts.latestForRun(runId, platform);
    return alert && alert.state.target_run === runId ? alert : undefined;
  }

  /** `/mend status [flow]`: recent failed runs, each with the alert id and generation its buttons carry. */
  async failedRuns(platform: string, flow?: string): Promise<StatusItem[]> {
    const { runs } = await this.deps.runs.listRuns({ status: "failed", flow, limit: 10 });
    const items: StatusItem[] = [];
    for (const run of runs) {
      const alert = await this.alertFor(run.id, platform);
      items.push({ run, alertId: alert?.id ?? "", gen: alert ? alert.state.gen : (run.finishedAt ?? run.updatedAt) });
    }
    return items;
  }

  /** Marks every alert of `run` closed with `note` ("ci reported nightly succeeded"); their messages lose their buttons. */
  async resolved(run: RunRecord, note: string): Promise<void> {
    const now = this.deps.clock.now();
    for (const a of await this.deps.chat.alerts.forRun(run.id)) {
      if (a.state.target_run !== run.id) continue;
      await this.deps.chat.change(a.id, (x) =>
        x.state.resolved
          ? undefined
          : { state: { ...x.state, resolved: { status: run.status, at: now, note }, closed: true } },
      );
    }
  }

  private async follow(runId: string, onEnd: (run: RunRecord) => Promise<void>): Promise<void> {
    try {
      const run = await this.deps.engine.waitFor(runId, FOLLOW_MS);
      if (run && TERMINAL.includes(run.status) && !this.stopped) await onEnd(run);
    } catch (err) {
      this.deps.log("warn", "following a clicked run failed", {
        run: runId,
        error: String((err as Error)?.message ?? err),
      });
    }
  }
}
