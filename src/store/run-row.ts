// A row of `runs` as the StoredRun the rest of mend reads (RunRepo, the pages' RunList, external runs).
import type { ErrorContext } from "../engine/errors";
import type { Cursor, RunStatus } from "../engine/ports";
import type { RunRow } from "./run-statements";
import type { StoredRun } from "./runs";

export function toRun(r: RunRow): StoredRun {
  return {
    id: r.id,
    flow: r.flow,
    flowVersion: r.flowVersion,
    status: r.status as RunStatus,
    input: r.input ?? null,
    output: r.output ?? null,
    error: (r.error as ErrorContext | null) ?? null,
    cursor: JSON.parse(r.cursor) as Cursor,
    dueAt: r.dueAt,
    replayOf: r.replayOf,
    parentRun: r.parentRun ?? null,
    external: r.external ?? null,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    finishedAt: r.finishedAt,
    marks: {
      ackedBy: r.ackedBy,
      ackedAt: r.ackedAt,
      resolvedBy: r.resolvedBy,
      resolvedAt: r.resolvedAt,
      resolutionNote: r.resolutionNote,
    },
  };
}
