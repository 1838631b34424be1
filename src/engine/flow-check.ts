// What saving a flow can check without running it: template roots and `steps.<id>`
// references (to a step that exists and has run by then), nested steps included.
import type { ErrorObject, Step } from "./flow";
import { parsePath, templatePaths } from "./template";

export interface PathIssue {
  path: (string | number)[];
  message: string;
}

interface FlowLike {
  steps: Step[];
  on_failure?: Step[];
  error?: ErrorObject;
  on_error?: ErrorObject;
}

const ERROR_OBJECT_ROOTS = new Set(["input", "steps", "failed", "error", "run"]);

/** Every step id in the flow, nested ones included. */
export function allStepIds(steps: Step[], out = new Set<string>()): Set<string> {
  for (const s of steps) {
    out.add(s.id);
    for (const inner of innerLists(s)) allStepIds(inner[1], out);
  }
  return out;
}

/** A block's step lists with their path below the step: branches or the loop's steps. */
export function innerLists(step: Step): [(string | number)[], Step[]][] {
  if (step.parallel)
    return Object.entries(step.parallel.branches).map(([name, list]) => [["parallel", "branches", name], list]);
  if (step.for_each) return [[["for_each", "steps"], step.for_each.steps]];
  return [];
}

/** The defaults' error object: its roots (any step may be named: the flows are not known here). */
export function checkDefaultsError(obj: ErrorObject | undefined, key: string): PathIssue[] {
  const issues: PathIssue[] = [];
  for (const tpl of obj ? templatePaths(obj) : []) {
    try {
      const root = parsePath(tpl)[0]!;
      if (!ERROR_OBJECT_ROOTS.has(root))
        issues.push({ path: [key], message: `template '${tpl}': '${root}' is not available in an error object` });
    } catch (err) {
      issues.push({ path: [key], message: (err as Error).message });
    }
  }
  return issues;
}

export function checkReferences(flow: FlowLike): PathIssue[] {
  const issues: PathIssue[] = [];
  const all = new Set<string>();
  const dupes = (steps: Step[], path: (string | number)[]) =>
    steps.forEach((s, i) => {
      if (all.has(s.id)) issues.push({ path: [...path, i, "id"], message: `duplicate step id '${s.id}'` });
      all.add(s.id);
      for (const [sub, list] of innerLists(s)) dupes(list, [...path, i, ...sub]);
    });
  dupes(flow.steps, ["steps"]);
  dupes(flow.on_failure ?? [], ["on_failure"]);

  const checkPath = (
    tpl: string,
    where: (string | number)[],
    visible: Set<string>,
    inLoop: boolean,
    errorObject: boolean,
  ) => {
    let parts: string[];
    try {
      parts = parsePath(tpl);
    } catch (err) {
      issues.push({ path: where, message: (err as Error).message });
      return;
    }
    const root = parts[0]!;
    if (errorObject && !ERROR_OBJECT_ROOTS.has(root)) {
      issues.push({
        path: where,
        message: `template '${tpl}': '${root}' is not available in an error object (use ${[...ERROR_OBJECT_ROOTS].join(", ")})`,
      });
    } else if (!errorObject && (root === "item" || root === "index") && !inLoop) {
      issues.push({ path: where, message: `template '${tpl}': '${root}' exists only inside a for_each's steps` });
    } else if (root === "steps" && parts[1] !== undefined && !visible.has(parts[1])) {
      const why = all.has(parts[1])
        ? `names step '${parts[1]}', which has not run at this point`
        : `names unknown step '${parts[1]}'`;
      issues.push({ path: where, message: `template '${tpl}' ${why}` });
    }
  };
  const checkError = (obj: ErrorObject | undefined, where: (string | number)[]) => {
    if (obj) for (const tpl of templatePaths(obj)) checkPath(tpl, where, all, false, true);
  };

  const walk = (steps: Step[], path: (string | number)[], visible: Set<string>, inLoop: boolean) => {
    const seen = new Set(visible);
    steps.forEach((s, i) => {
      const where = [...path, i];
      const { error, parallel, for_each, ...own } = s;
      const fields: unknown[] = [own, for_each?.items];
      for (const tpl of templatePaths(fields)) checkPath(tpl, where, seen, inLoop, false);
      checkError(error, [...where, "error"]);
      for (const [sub, list] of innerLists(s)) walk(list, [...where, ...sub], seen, inLoop || sub[0] === "for_each");
      seen.add(s.id);
    });
  };
  walk(flow.steps, ["steps"], new Set(), false);
  // A handler may read any main step: the ones that ran are there, the failed one holds its failed result.
  const mainIds = new Set(flow.steps.map((s) => s.id));
  walk(flow.on_failure ?? [], ["on_failure"], mainIds, false);
  checkError(flow.error ?? flow.on_error, ["error"]);
  return issues;
}
