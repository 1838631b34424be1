// The one service that acts on runs: retry, replay, cancel, ack, resolve, mute, unmute and bulk.
// The API, the run pages, chat clicks and /mend are thin adapters over it. It routes external
// failures (flow `external:*`) to their callbacks, makes every action exactly-once per
// Idempotency-Key, records who acted, and tells its listeners (the chat layer) of every change.
import type { Deps } from "../deps";
import { EngineError } from "../engine/errors";
import type { RunRecord } from "../engine/ports";
import { CallbackError, requestCallback, type CallbackAnswer } from "../hub/callbacks";
import { externalOf } from "../hub/external";
import type { ActionClaimRepo } from "../store/action-claims";
import type { RunFilter, StoredRun } from "../store/runs";
import { bulkAct, type BulkOutcome, type BulkRequest } from "./bulk";
import { IdempotentActions, type StoredAnswer } from "./idempotency";
import { muteFlow, unmuteFlow, type FlowActed } from "./flow-mute";
import { muteRun, unmuteRun } from "./mute";
import {
  actorLabel,
  actorRef,
  refusal,
  type Acted,
  type ActionOutcome,
  type ActionRequest,
  type Actor,
  type RunActionName,
} from "./outcome";

export * from "./outcome";

export interface RunChange {
  runId: string;
  /** flow_saved: a new version of the run's flow (Retry on latest may now apply); mute_ended: a mute's time is up. */
  kind: RunActionName | "ended" | "external_resolved" | "flow_saved" | "mute_ended";
  by?: Actor;
  /** The run a retry/replay set going (retry: the same run; replay: the new one). */
  started?: string;
  /** A replay with input the actor edited. */
  edited?: boolean;
  at: number;
}

export type ChangeListener = (c: RunChange) => void | Promise<void>;

export type ActionDeps = Pick<
  Deps,
  "engine" | "runs" | "flows" | "silences" | "clock" | "newId" | "log" | "waitUntil" | "config" | "outbound"
>;

const VERB: Record<RunActionName, string> = {
  retry: "Retry",
  replay: "Replay",
  cancel: "Cancel",
  ack: "Ack",
  resolve: "Resolve",
  mute: "Mute",
  unmute: "Unmute",
};
const ENGINE_STATUS = { not_found: 404, conflict: 409, invalid: 400 } as const;
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export class RunActions {
  private readonly listeners: ChangeListener[] = [];
  private readonly keys: IdempotentActions;

  constructor(
    private readonly deps: ActionDeps,
    claims: ActionClaimRepo,
  ) {
    this.keys = new IdempotentActions(claims, () => deps.clock.now());
  }

  /** The chat layer subscribes here: told after every action and whenever a run ends. */
  onChange(listener: ChangeListener): void {
    this.listeners.push(listener);
  }

  async perform(req: ActionRequest): Promise<ActionOutcome> {
    if (!req.idempotencyKey) return this.act(req);
    const r = await this.keys.once(`${req.action}:${req.runId}`, req.idempotencyKey, () => this.act(req), stored);
    return r.first ? r.answer : this.answerAgain(r.answer);
  }

  async bulk(req: BulkRequest): Promise<BulkOutcome> {
    const run = () => bulkAct(this.deps.runs, (one) => this.act(one), req);
    if (!req.idempotencyKey) return run();
    const r = await this.keys.once("bulk", req.idempotencyKey, run, (a) => ({ ...a }));
    return r.first ? r.answer : ({ ...(r.answer as BulkOutcome), replayed: true } as BulkOutcome);
  }

  /** Mutes every alert of a flow for `muteMs` (`/mend mute <flow> <duration>`). */
  async muteFlow(req: { flow: string; by: Actor; muteMs: number }): Promise<FlowActed> {
    return this.flowActed(await muteFlow(this.deps, req.flow, actorLabel(req.by), req.muteMs), "mute", req.by);
  }

  /** Ends the silences naming this flow (`/mend unmute <flow>`). */
  async unmuteFlow(req: { flow: string; by: Actor }): Promise<FlowActed> {
    return this.flowActed(await unmuteFlow(this.deps, req.flow, actorLabel(req.by)), "unmute", req.by);
  }

  private flowActed(r: FlowActed, kind: "mute" | "unmute", by: Actor): FlowActed {
    if (r.ok && !r.unchanged)
      for (const run of r.runs) this.emit({ runId: run.id, kind, by, at: this.deps.clock.now() });
    return r;
  }

  /** The engine's hook: a run reached its terminal state (after the commit). */
  runEnded(run: RunRecord): void {
    this.emit({ runId: run.id, kind: "ended", at: this.deps.clock.now() });
  }

  /** A success report closed an external run (src/hub/external.ts). */
  externalResolved(run: RunRecord): void {
    this.emit({ runId: run.id, kind: "external_resolved", at: this.deps.clock.now() });
  }

  private emit(change: RunChange): void {
    for (const listener of this.listeners) {
      const told = Promise.resolve()
        .then(() => listener(change))
        .catch((err: unknown) =>
          this.deps.log("warn", "a run change listener failed", {
            run: change.runId,
            kind: change.kind,
            error: String(err),
          }),
        );
      this.deps.waitUntil(told);
    }
  }

  private async answerAgain(a: StoredAnswer & { run?: string; started?: string }): Promise<ActionOutcome> {
    if (!a.ok) return { ...(a as unknown as ActionOutcome), replayed: true };
    const [run, started] = await Promise.all([
      a.run ? this.deps.runs.getRun(a.run) : undefined,
      a.started ? this.deps.runs.getRun(a.started) : undefined,
    ]);
    if (!run) return refusal(404, `run '${a.run}' no longer exists`);
    return { ok: true, httpStatus: a.httpStatus, body: a.body, summary: a.summary, run, started, replayed: true };
  }

  private async act(req: ActionRequest): Promise<ActionOutcome> {
    const run = await this.deps.runs.getRun(req.runId);
    if (!run) return refusal(404, `unknown run '${req.runId}'`);
    let outcome: Acted;
    try {
      outcome = await this.dispatch(req, run);
    } catch (err) {
      if (err instanceof EngineError) return refusal(ENGINE_STATUS[err.code], err.message, { issues: err.issues });
      if (err instanceof CallbackError) return callbackRefusal(run, err);
      throw err;
    }
    const { unchanged, ...answer } = outcome;
    if (answer.ok && !unchanged)
      this.emit({
        runId: run.id,
        kind: req.action,
        by: req.by,
        started: answer.started?.id,
        edited: req.action === "replay" && req.input !== undefined ? true : undefined,
        at: this.deps.clock.now(),
      });
    return answer as ActionOutcome;
  }

  private async dispatch(req: ActionRequest, run: StoredRun): Promise<Acted> {
    const { engine, runs, clock } = this.deps;
    const who = actorLabel(req.by);
    const ok = (
      httpStatus: number,
      body: Record<string, unknown>,
      summary: string,
      current: RunRecord,
      started?: RunRecord,
    ): Acted => ({
      ok: true,
      httpStatus,
      body,
      summary,
      run: current,
      started,
    });
    switch (req.action) {
      case "retry": {
        if (externalOf(run)) return this.callBack(req, run, "retry");
        const started = await engine.retry(run.id, { version: req.version, fromStep: req.fromStep });
        const from = req.fromStep ? ` from step ${req.fromStep}` : "";
        const body = { run_id: started.id, status: started.status };
        return ok(202, body, `Retry of run ${run.id}${from} started by ${who}`, started, started);
      }
      case "replay": {
        if (externalOf(run)) return this.callBack(req, run, "replay");
        const started = await engine.replay(run.id, { original: req.version === "original", input: req.input?.value });
        const body = { run_id: started.id, replay_of: run.id, status: started.status };
        return ok(202, body, `Replay of run ${run.id} started by ${who}: new run ${started.id}`, run, started);
      }
      case "cancel": {
        const cancelled = await engine.cancel(run.id);
        return ok(202, { run_id: run.id, status: cancelled.status }, `Run ${run.id} cancelled by ${who}`, cancelled);
      }
      case "ack": {
        const now = clock.now();
        const marks = (await runs.ack(run.id, who, now))!;
        const unchanged = !(marks.ackedAt === now && marks.ackedBy === who);
        const body = { run_id: run.id, acked_by: marks.ackedBy, acked_at: iso(marks.ackedAt) };
        return { ...ok(200, body, `Acknowledged by ${marks.ackedBy}`, { ...run, marks } as StoredRun), unchanged };
      }
      case "resolve": {
        const now = clock.now();
        const marks = (await runs.resolve(run.id, who, req.note ?? null, now))!;
        const unchanged = !(marks.resolvedAt === now && marks.resolvedBy === who);
        if (!unchanged) await this.deps.silences.endUntilResolved(run.id, now);
        const body = {
          run_id: run.id,
          status: run.status,
          resolved_by: marks.resolvedBy,
          resolved_at: iso(marks.resolvedAt),
          resolution_note: marks.resolutionNote,
        };
        return {
          ...ok(
            200,
            body,
            `Resolved by ${marks.resolvedBy}${marks.resolutionNote ? `: ${marks.resolutionNote}` : ""}`,
            { ...run, marks } as StoredRun,
          ),
          unchanged,
        };
      }
      case "mute":
        return muteRun(this.deps, run, who, req.muteMs);
      case "unmute":
        return unmuteRun(this.deps, run, who);
    }
  }

  private async callBack(req: ActionRequest, run: RunRecord, action: "retry" | "replay"): Promise<ActionOutcome> {
    const answer = await requestCallback(
      this.deps,
      run,
      action,
      actorRef(req.by),
      req.input ? { input: req.input.value } : {},
    );
    const body = {
      run_id: run.id,
      status: run.status,
      action,
      callback: callbackView(answer),
      ...(action === "replay" ? { replay_of: run.id } : {}),
    };
    const source = externalOf(run)!.source;
    const summary = `${VERB[action]} of external run ${run.id} by ${actorLabel(req.by)}: sent to ${source} (answered ${answer.status})`;
    return { ok: true, httpStatus: 202, body, summary, run };
  }
}

const callbackView = (a: CallbackAnswer) => ({ url: a.url, status: a.status, body: a.body, message_id: a.message_id });

function callbackRefusal(run: RunRecord, err: CallbackError): ActionOutcome {
  const issues = err.field ? [{ path: err.field, message: err.message }] : undefined;
  return refusal(err.status, err.message, {
    issues,
    body: { run_id: run.id, ...(err.answer ? { callback: callbackView(err.answer) } : {}) },
  });
}

/** What an idempotency key keeps of an outcome: the answer, and which runs to read again. */
function stored(o: ActionOutcome): StoredAnswer & { run?: string; started?: string } {
  if (!o.ok)
    return {
      ok: false,
      httpStatus: o.httpStatus,
      body: o.body,
      summary: o.summary,
      ...{ error: o.error, issues: o.issues },
    };
  return {
    ok: true,
    httpStatus: o.httpStatus,
    body: o.body,
    summary: o.summary,
    run: o.run.id,
    started: o.started?.id,
  };
}

export type { BulkOutcome, BulkRequest, FlowActed, RunFilter };
