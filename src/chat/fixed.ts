// resolve_on_success (SPEC §11, handler config, default true): when a run of a flow succeeds, the
// flow's open alerts read "Fixed by run <id>", lose their buttons and say so in their thread.
//
//   const fixed = new FixedAlerts(deps);
//   runActions.onChange((c) => fixed.onChange(c));      // "ended" changes of succeeded runs
//   senders.slack = fixed.wrap(chat.sender("slack"))    // notes handlers with resolve_on_success: false
//
// Open: posted, not closed, resolved or fixed, created in the last LOOKBACK_MS, failed before the
// succeeding run ended, and not acting on that very run (a retry that fixed its own alert is told
// by the click's follow-up instead).
import { and, gte, isNotNull, sql } from "drizzle-orm";
import { alerts } from "../../db/schema";
import type { Log } from "../deps";
import type { Clock } from "../engine/ports";
import type { Sender } from "../handlers/types";
import type { RunChange } from "../runs/actions";
import type { AlertState } from "../store/alerts";
import type { Database } from "../store/database";
import type { RunRepo } from "../store/runs";
import type { ChatAlerts } from "./deliver";
import { oncallOf } from "./oncall-config";

const LOOKBACK_MS = 7 * 24 * 3_600_000;

export interface FixedDeps {
  db: Database;
  chat: ChatAlerts;
  runs: Pick<RunRepo, "getRun">;
  clock: Clock;
  log: Log;
}

export class FixedAlerts {
  constructor(private readonly deps: FixedDeps) {}

  /** The Sender of a chat kind, remembering the alerts of handlers with `resolve_on_success: false`. */
  wrap(send: Sender): Sender {
    return async (config, payload, ctx) => {
      const result = (await send(config, payload, ctx)) as { alert_id?: string; action?: string } | undefined;
      if (result?.alert_id && result.action === "posted" && oncallOf(config).resolve_on_success === false) {
        await this.deps.chat.change(result.alert_id, (a) => (a.state.keep_open ? undefined : { state: { ...a.state, keep_open: true } }), { edit: false });
      }
      return result;
    };
  }

  async onChange(change: RunChange): Promise<void> {
    if (change.kind !== "ended") return;
    const run = await this.deps.runs.getRun(change.runId);
    if (!run || run.status !== "succeeded") return;
    const now = this.deps.clock.now();
    const ended = run.finishedAt ?? now;
    const rows = await this.deps.db.db
      .select({ id: alerts.id })
      .from(alerts)
      .where(
        and(
          sql`json_extract(${alerts.groupKey}, '$[0]') = ${run.flow}`,
          gte(alerts.createdAt, now - LOOKBACK_MS),
          isNotNull(alerts.ref),
          sql`coalesce(json_extract(${alerts.state}, '$.closed'), 0) = 0`,
        ),
      )
      .all();
    for (const { id } of rows) {
      const { alert, changed } = await this.deps.chat.change(id, (a) => (isOpen(a.state, a.createdAt, run.id, ended) ? { state: { ...a.state, fixed: { run_id: run.id, at: now }, closed: true } } : undefined));
      if (changed && alert) {
        const conn = this.deps.chat.connection(alert.kind);
        if (conn && alert.ref) await this.deps.chat.call(alert.kind, () => conn.reply(alert.ref!, `Fixed by run ${run.id} (${run.flow} succeeded)`)).catch((err: unknown) => this.deps.log("warn", "could not tell a thread its alert is fixed", { alert: id, error: String(err) }));
      }
    }
  }
}

function isOpen(s: AlertState, createdAt: number, runId: string, endedAt: number): boolean {
  if (s.closed || s.resolved || s.fixed || s.keep_open) return false;
  if (createdAt > endedAt || s.target_run === runId || s.runs?.includes(runId)) return false;
  return !(s.activity?.phase === "running");
}
