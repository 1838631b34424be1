// Escalation (SPEC §11): a slack/discord handler with `escalate: { after_minutes, mention }` gets,
// for each new alert message, a row in `escalations` due `after_minutes` after the failure. When it
// is due and the alert is neither acked, resolved nor fixed, a thread reply pings `mention` (Slack
// `<@U…>`/`<!subteam^S…>`/`<!here>`; Discord `<@id>`/`<@&role>` with allowed_mentions naming exactly
// those). The due time lives in the database, so a restart in between still escalates, once: on
// Node the Scheduler runs tick() (the timer is set from nextDueAt()), on Workers the Ticker does.
//
//   const esc = new Escalator(deps);
//   senders.slack = esc.wrap(chat.sender("slack"))   // schedules the row when the alert is new
//   scheduler part: { tick: () => esc.tick(), nextDueAt: () => esc.nextDueAt() }
import type { Log } from "../deps";
import type { Clock } from "../engine/ports";
import { DeliveryError, type Sender } from "../handlers/types";
import type { AlertRecord } from "../store/alerts";
import type { EscalationRecord, EscalationRepo } from "../store/escalations";
import type { RunRepo, StoredRun } from "../store/runs";
import type { ChatAlerts } from "./deliver";
import { oncallOf } from "./oncall-config";

/** A claimed row is another tick's again after this long (a crash between claim and post). */
const LEASE_MS = 60_000;
const MAX_ATTEMPTS = 5;

export interface EscalatorDeps {
  repo: EscalationRepo;
  chat: ChatAlerts;
  runs: Pick<RunRepo, "getRun">;
  clock: Clock;
  log: Log;
  /** Something is due at `at` (the scheduler's timer; the Workers Ticker). */
  onDue?: (at: number) => void;
}

export class Escalator {
  constructor(private readonly deps: EscalatorDeps) {}

  /** The Sender of a chat kind, scheduling the escalation of each new alert whose handler asks for one. */
  wrap(kind: string, send: Sender): Sender {
    return async (config, payload, ctx) => {
      const result = (await send(config, payload, ctx)) as { alert_id?: string; action?: string } | undefined;
      const escalate = oncallOf(config).escalate;
      if (escalate && result?.alert_id && result.action === "posted") {
        const run = await this.deps.runs.getRun(payload.run.id);
        const failedAt = run?.finishedAt ?? this.deps.clock.now();
        const dueAt = failedAt + Math.round(escalate.after_minutes * 60_000);
        await this.deps.repo.schedule(
          { alertId: result.alert_id, kind, dueAt, mention: escalate.mention },
          this.deps.clock.now(),
        );
        this.deps.onDue?.(dueAt);
      }
      return result;
    };
  }

  async tick(): Promise<number> {
    const now = this.deps.clock.now();
    let done = 0;
    for (const row of await this.deps.repo.claimDue(now, LEASE_MS, 20)) {
      try {
        if (await this.one(row)) done++;
      } catch (err) {
        await this.failed(row, err);
      }
    }
    return done;
  }

  nextDueAt(): Promise<number | null> {
    return this.deps.repo.nextDueAt();
  }

  /** Posts the escalation, or records why nobody needs paging; true when it pinged. */
  private async one(row: EscalationRecord): Promise<boolean> {
    const { chat, repo, clock } = this.deps;
    const alert = await chat.alerts.get(row.alertId);
    const conn = chat.connection(row.kind);
    const quiet = !alert || !conn ? "gone" : await this.whyQuiet(alert);
    if (quiet || !alert || !conn) {
      await repo.done(row.alertId, quiet ?? "gone", clock.now());
      return false;
    }
    if (!alert.ref) throw new DeliveryError("the alert is not posted yet", 30_000);
    const minutes = Math.round(((clock.now() - alert.createdAt) / 60_000) * 10) / 10;
    const p = alert.state.payload;
    const text = `Escalation: nobody has acknowledged this alert (${minutes} min) — ${p.run.flow} failed at step ${p.error.step ?? "?"}: ${p.error.type} (run ${alert.state.target_run})`;
    await chat.call(row.kind, () => conn.reply(alert.ref!, text, { mention: row.mention }));
    await repo.done(row.alertId, "escalated", clock.now());
    await chat.change(alert.id, (a) => ({
      state: { ...a.state, escalated: { at: clock.now(), mention: row.mention } },
    }));
    return true;
  }

  /** Acked, resolved or fixed: why the alert needs nobody now (undefined: it does). */
  private async whyQuiet(alert: AlertRecord): Promise<string | undefined> {
    const s = alert.state;
    if (s.fixed || s.closed) return "fixed";
    if (s.resolved) return "resolved";
    for (const id of new Set([s.target_run, alert.runId, ...(s.runs ?? [])])) {
      const run = (await this.deps.runs.getRun(id)) as StoredRun | undefined;
      if (!run) continue;
      if (run.marks?.ackedAt) return "acked";
      if (run.marks?.resolvedAt) return "resolved";
      if (
        id === s.target_run &&
        (run.status === "succeeded" || run.status === "running" || run.status === "queued" || run.status === "retrying")
      )
        return "fixed";
    }
    return undefined;
  }

  private async failed(row: EscalationRecord, err: unknown): Promise<void> {
    const now = this.deps.clock.now();
    const e = err as { message?: string; retryAfterMs?: number; permanent?: boolean };
    const attempts = row.attempts + 1;
    const message = String(e?.message ?? err);
    this.deps.log("warn", "could not post an escalation", {
      alert: row.alertId,
      kind: row.kind,
      attempts,
      error: message,
    });
    if (e?.permanent || attempts >= MAX_ATTEMPTS)
      return this.deps.repo.done(row.alertId, `failed: ${message}`.slice(0, 500), now);
    const at = now + Math.max(e?.retryAfterMs ?? 0, 5_000 * 2 ** (attempts - 1));
    await this.deps.repo.retryAt(row.alertId, at, attempts, message);
    this.deps.onDue?.(at);
  }
}
