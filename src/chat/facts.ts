// What a chat message needs to know about its main run to tell the truth: its status, who acked
// or resolved it, whether a silence covers it, whether its flow has a newer version, and (external
// failures) which callbacks exist.
import type { RunRecord } from "../engine/ports";
import { externalOf } from "../hub/external";
import type { RunFacts } from "../store/alerts";
import type { FlowRepo } from "../store/flows";
import type { StoredRun } from "../store/runs";
import { UNTIL_RESOLVED_ENDS_AT, silenceMatches, type SilenceRepo } from "../store/silences";

export interface FactsDeps {
  flows: Pick<FlowRepo, "get">;
  silences: Pick<SilenceRepo, "active">;
  now: () => number;
}

export async function factsOfRun(d: FactsDeps, run: RunRecord): Promise<RunFacts> {
  const facts: RunFacts = { status: run.status };
  const ext = externalOf(run);
  if (ext)
    facts.external = {
      source: ext.source,
      job: ext.job,
      retry: Boolean(ext.retry_url),
      replay: Boolean(ext.replay_url),
    };
  else {
    const latest = (await d.flows.get(run.flow))?.version;
    if (latest !== undefined && latest > run.flowVersion) facts.newer = latest;
  }
  const marks = (run as Partial<StoredRun>).marks;
  if (marks?.ackedAt) facts.acked = { by: marks.ackedBy ?? "someone", at: marks.ackedAt };
  if (marks?.resolvedAt)
    facts.resolved = { by: marks.resolvedBy ?? "someone", at: marks.resolvedAt, note: marks.resolutionNote };
  const error = run.error ?? run.cursor?.primary;
  if (error) {
    const s = (await d.silences.active(d.now())).find((x) => silenceMatches(x, run.flow, error));
    if (s) {
      const ends = Date.parse(s.ends_at);
      facts.muted = {
        by: s.created_by ?? "someone",
        until: ends >= UNTIL_RESOLVED_ENDS_AT ? null : ends,
        scope: { flow: s.flow, step: s.step, error_type: s.error_type },
      };
    }
  }
  return facts;
}
