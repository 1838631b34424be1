// Mute and unmute a whole flow (`/mend mute <flow> <1h|4h|24h>`, `/mend unmute <flow>`): a silence
// for every step and error type of the flow. Unmute ends the silences that name exactly this flow;
// a wider one (a glob) that still covers it is named in the answer, not ended.
import type { Deps } from "../deps";
import { silenceMatches } from "../store/silences";
import type { RunRecord } from "../engine/ports";
import { deed } from "./outcome";

export type FlowMuteDeps = Pick<Deps, "silences" | "clock" | "newId" | "flows" | "runs">;

export interface FlowActed {
  ok: boolean;
  /** One line for people: what was done, or why nothing was. */
  summary: string;
  /** What was changed, without who changed it (set when something was). */
  done?: string;
  /** The flow's latest failed runs, one per step and error type: their messages show the change. */
  runs: RunRecord[];
  unchanged?: boolean;
}

const ANY_ERROR = { message: "", type: "runtime" as const };
const utc = (ms: number) => `${new Date(ms).toISOString().slice(0, 16).replace("T", " ")} UTC`;

/** Whether `flow` is a saved flow or has runs (external failures, deleted flows). */
async function known(deps: FlowMuteDeps, flow: string): Promise<boolean> {
  if (await deps.flows.get(flow)) return true;
  return (await deps.runs.listRuns({ flow, limit: 1 })).runs.length > 0;
}

/** The newest failed run of each step and error type of the flow (from its last 50 failures). */
async function latestFailures(deps: FlowMuteDeps, flow: string): Promise<RunRecord[]> {
  const { runs } = await deps.runs.listRuns({ flow, status: "failed", limit: 50 });
  const seen = new Map<string, RunRecord>();
  for (const r of runs) {
    const key = `${r.error?.step ?? ""}\u0000${r.error?.type ?? ""}`;
    if (!seen.has(key)) seen.set(key, r);
  }
  return [...seen.values()];
}

const unknownFlow = (flow: string): FlowActed => ({
  ok: false,
  summary: `There is no flow '${flow}' (no saved flow and no runs by that name).`,
  runs: [],
});

export async function muteFlow(deps: FlowMuteDeps, flow: string, who: string, muteMs: number): Promise<FlowActed> {
  if (!(await known(deps, flow))) return unknownFlow(flow);
  const now = deps.clock.now();
  const endsAt = now + muteMs;
  const longer = (await deps.silences.active(now)).find(
    (s) => s.flow === flow && !s.step && !s.error_type && Date.parse(s.ends_at) >= endsAt,
  );
  if (longer)
    return {
      ok: true,
      unchanged: true,
      summary: `${flow} is already muted until ${utc(Date.parse(longer.ends_at))} (by ${longer.created_by ?? "someone"})`,
      runs: [],
    };
  await deps.silences.create(
    { id: deps.newId(), flow, endsAt, createdBy: who, comment: `Muted from chat: every alert of ${flow}` },
    now,
  );
  return {
    ok: true,
    ...deed(who, `Muted every alert of ${flow} until ${utc(endsAt)}`),
    runs: await latestFailures(deps, flow),
  };
}

export async function unmuteFlow(deps: FlowMuteDeps, flow: string, who: string): Promise<FlowActed> {
  if (!(await known(deps, flow))) return unknownFlow(flow);
  const now = deps.clock.now();
  const active = await deps.silences.active(now);
  const mine = active.filter((s) => s.flow === flow);
  // Wider silences that cover every alert of the flow too (a glob, or no flow at all).
  const wider = active.filter((s) => s.flow !== flow && !s.step && !s.error_type && silenceMatches(s, flow, ANY_ERROR));
  const still = wider.length
    ? ` Still muted by silence ${wider.map((s) => `${s.id} (flow '${s.flow ?? "*"}')`).join(", ")}: DELETE /api/silences/<id> ends it.`
    : "";
  if (mine.length === 0)
    return { ok: false, summary: `${flow} is not muted by name; nothing to unmute.${still}`, runs: [] };
  await deps.silences.end(
    mine.map((s) => s.id),
    now,
  );
  return {
    ok: true,
    ...deed(
      who,
      `Unmuted ${flow}`,
      ` (ended ${mine.length === 1 ? "silence" : "silences"} ${mine.map((s) => s.id).join(", ")}).${still}`,
    ),
    runs: await latestFailures(deps, flow),
  };
}
