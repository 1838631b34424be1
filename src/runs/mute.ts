// Mute and unmute from a run: a silence for the run's flow, failed step and error type, for a
// while or until the run is resolved; unmute ends every active silence that covers the run.
import type { Deps } from "../deps";
import type { RunRecord } from "../engine/ports";
import { UNTIL_RESOLVED_ENDS_AT, silenceMatches, type SilenceRecord } from "../store/silences";
import { refusal, type Acted } from "./outcome";

type MuteDeps = Pick<Deps, "silences" | "clock" | "newId">;

/** Active silences that keep this run's alerts quiet. */
async function covering(deps: MuteDeps, run: RunRecord): Promise<SilenceRecord[]> {
  const error = run.error ?? run.cursor.primary ?? { message: "", type: "runtime" as const };
  return (await deps.silences.active(deps.clock.now())).filter((s) => silenceMatches(s, run.flow, error));
}

/** `muteMs` null or undefined: until the run is resolved. A run already covered keeps its silence. */
export async function muteRun(
  deps: MuteDeps,
  run: RunRecord,
  who: string,
  muteMs: number | null | undefined,
): Promise<Acted> {
  const existing = await covering(deps, run);
  if (existing.length > 0) {
    const summary = `Already muted (silence ${existing[0]!.id})`;
    return { ok: true, httpStatus: 200, body: { run_id: run.id, silence: existing[0] }, summary, run, unchanged: true };
  }
  const now = deps.clock.now();
  const error = run.error ?? run.cursor.primary;
  const untilResolved = muteMs === undefined || muteMs === null;
  const silence = await deps.silences.create(
    {
      id: deps.newId(),
      flow: run.flow,
      step: error?.step ?? null,
      errorType: error?.type ?? null,
      endsAt: untilResolved ? UNTIL_RESOLVED_ENDS_AT : now + muteMs,
      createdBy: who,
      comment: `Muted from run ${run.id}${untilResolved ? " until it is resolved" : ""}`,
      untilResolved: untilResolved ? run.id : null,
      runId: run.id,
    },
    now,
  );
  const what = `${run.flow} / ${error?.step ?? "any step"} / ${error?.type ?? "any error"}`;
  const until = untilResolved ? "until resolved" : `until ${silence.ends_at}`;
  return {
    ok: true,
    httpStatus: 200,
    body: { run_id: run.id, silence },
    summary: `Muted ${what} ${until} by ${who}`,
    run,
  };
}

export async function unmuteRun(deps: MuteDeps, run: RunRecord, who: string): Promise<Acted> {
  const ended = (await covering(deps, run)).map((s) => s.id);
  if (ended.length === 0) return refusal(409, `no active silence covers run ${run.id}; nothing to unmute`);
  await deps.silences.end(ended, deps.clock.now());
  const summary = `Unmuted by ${who} (ended ${ended.length === 1 ? "silence" : "silences"} ${ended.join(", ")})`;
  return { ok: true, httpStatus: 200, body: { run_id: run.id, ended }, summary, run };
}
