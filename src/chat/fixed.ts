// resolve_on_success (SPEC §11, handler config, default true): when a run of a flow succeeds, the
// flow's open alerts read "Fixed by run <id>", lose their buttons and say so in their thread.
//
//   const fixed = new FixedAlerts(deps);
//   scheduler part: { tick: () => fixed.tick(), nextDueAt: () => fixed.nextDueAt() }
//   senders.slack = fixed.wrap(chat.sender("slack"))    // notes handlers with resolve_on_success: false
//
// Open: posted, not closed, resolved or fixed, created in the last LOOKBACK_MS, failed before the
// succeeding run ended, and not acting on that very run (a retry that fixed its own alert is told
// by the click's follow-up instead).
import type { Log } from "../deps";
import type { Clock } from "../engine/ports";
import type { Sender } from "../handlers/types";
import type { AlertState } from "../store/alerts";
import type { ChatAlerts } from "./deliver";
import { oncallOf } from "./oncall-config";

const LOOKBACK_MS = 7 * 24 * 3_600_000;
const CHECK_MS = 5_000;

export interface FixedDeps {
  chat: ChatAlerts;
  clock: Clock;
  log: Log;
}

export class FixedAlerts {
  private nextCheck = 0;

  constructor(private readonly deps: FixedDeps) {}

  /** The Sender of a chat kind, remembering the alerts of handlers with `resolve_on_success: false`. */
  wrap(send: Sender): Sender {
    return async (config, payload, ctx) => {
      const result = (await send(config, payload, ctx)) as { alert_id?: string; action?: string } | undefined;
      if (result?.alert_id && result.action === "posted" && oncallOf(config).resolve_on_success === false) {
        await this.deps.chat.change(
          result.alert_id,
          (a) => (a.state.keep_open ? undefined : { state: { ...a.state, keep_open: true } }),
          { edit: false },
        );
      }
      return result;
    };
  }

  /**
   * A Scheduler part (every pass, at most every CHECK_MS): open alerts whose flow has a run that
   * succeeded after them (AlertRepo.laterSuccesses, one row per alert). Off the request path on
   * purpose: a run's own requests stay at their round trips (test/workers/d1-trips.test.ts), and
   * after a restart nothing is missed.
   */
  async tick(): Promise<number> {
    const now = this.deps.clock.now();
    if (now < this.nextCheck) return 0;
    this.nextCheck = now + CHECK_MS;
    const rows = await this.deps.chat.alerts.laterSuccesses(now - LOOKBACK_MS);
    let done = 0;
    for (const r of rows) {
      if (await this.fix(r.id, { id: r.runId, flow: r.flow, finishedAt: r.finishedAt ?? now })) done++;
    }
    return done;
  }

  nextDueAt(): Promise<number | null> {
    return Promise.resolve(null);
  }

  private async fix(alertId: string, run: { id: string; flow: string; finishedAt: number }): Promise<boolean> {
    const now = this.deps.clock.now();
    const { alert, changed } = await this.deps.chat.change(alertId, (a) =>
      isOpen(a.state, a.createdAt, run.id, run.finishedAt)
        ? { state: { ...a.state, fixed: { run_id: run.id, at: now }, closed: true } }
        : undefined,
    );
    if (!changed || !alert) return false;
    const conn = this.deps.chat.connection(alert.kind);
    if (conn && alert.ref)
      await this.deps.chat
        .call(alert.kind, () => conn.reply(alert.ref!, `Fixed by run ${run.id} (${run.flow} succeeded)`))
        .catch((err: unknown) =>
          this.deps.log("warn", "could not tell a thread its alert is fixed", { alert: alertId, error: String(err) }),
        );
    return true;
  }
}

function isOpen(s: AlertState, createdAt: number, runId: string, endedAt: number): boolean {
  if (s.closed || s.resolved || s.fixed || s.keep_open) return false;
  if (createdAt > endedAt || s.target_run === runId || s.runs?.includes(runId)) return false;
  return !(s.activity?.phase === "running");
}
