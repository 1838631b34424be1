// PUT/GET flows and PUT defaults.
import { Hono } from "hono";
import type { Deps } from "../deps";
import { parseDefaults, parseFlow, type Flow, type Issue, type Step } from "../engine/flow";
import { innerLists } from "../engine/flow-check";
import { checkSchema } from "../engine/input";
import { ApiError, badRequest } from "./errors";
import { readJson, readJsonOrYaml } from "./body";

/** Validates a flow definition; throws 400 naming every bad field. */
export function validateFlow(raw: unknown, name?: string): Flow {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw))
    throw badRequest("a flow must be an object", [{ path: "", message: "expected an object" }]);
  const body = { ...(raw as Record<string, unknown>) };
  if (name !== undefined) {
    body.name ??= name;
    if (body.name !== name)
      throw badRequest("flow name does not match the URL", [
        { path: "name", message: `is '${String(body.name)}' but the URL names '${name}'` },
      ]);
  }
  const parsed = parseFlow(body);
  if (!parsed.ok) throw badRequest(`invalid flow: ${parsed.issues.length} problem(s)`, parsed.issues);
  const schemaProblem = parsed.value.input ? checkSchema(parsed.value.input) : undefined;
  if (schemaProblem)
    throw badRequest("invalid flow: input schema does not compile", [{ path: "input", message: schemaProblem }]);
  return parsed.value;
}

type Path = (string | number)[];

/** What only the running service knows: the scripts it has and the handlers registered by name. */
export async function checkNames(flow: Flow, deps: Pick<Deps, "engine" | "handlers">): Promise<Issue[]> {
  const issues: Issue[] = [];
  const scripts = deps.engine.deps.scripts;
  const walk = (steps: Step[], path: Path) =>
    steps.forEach((s, i) => {
      if (s.script && !scripts.get(s.script.name)) {
        issues.push({
          path: [...path, i, "script", "name"].join("."),
          message: `unknown script '${s.script.name}' (built in: slack, discord, webhook, log; others come from MEND_SCRIPTS_DIR)`,
        });
      }
      for (const [sub, list] of innerLists(s)) walk(list, [...path, i, ...sub]);
    });
  walk(flow.steps, ["steps"]);
  walk(flow.on_failure ?? [], ["on_failure"]);
  if (flow.alerts?.length) {
    const names = new Set((await deps.handlers.list()).map((h) => h.name));
    flow.alerts.forEach((name, i) => {
      if (!names.has(name))
        issues.push({ path: `alerts.${i}`, message: `no handler named '${name}' is registered (POST /api/handlers)` });
    });
  }
  return issues;
}

/** validateFlow plus the names only the service can check: 400 naming every unknown one. */
export async function validateFlowFor(
  deps: Pick<Deps, "engine" | "handlers">,
  raw: unknown,
  name?: string,
): Promise<Flow> {
  const flow = validateFlow(raw, name);
  const issues = await checkNames(flow, deps);
  if (issues.length) throw badRequest(`invalid flow: ${issues.length} problem(s)`, issues);
  return flow;
}

/** A new version of a flow: its open chat alerts are redrawn (they may offer Retry on latest now). */
export async function newVersionSaved(deps: Pick<Deps, "updates" | "log">, flow: string): Promise<void> {
  await deps.updates
    .flowSaved(flow)
    .catch((err: unknown) =>
      deps.log("warn", "could not redraw the alerts of a new flow version", { flow, error: String(err) }),
    );
}

export function flowRoutes(deps: Deps) {
  const app = new Hono();

  app.put("/flows/:name", async (c) => {
    const flow = await validateFlowFor(deps, await readJsonOrYaml(c), c.req.param("name"));
    const result = await deps.flows.put(flow, deps.clock.now());
    if (result.changed && !result.created) deps.waitUntil(newVersionSaved(deps, result.name));
    return c.json({ name: result.name, version: result.version }, result.created ? 201 : 200);
  });

  app.get("/flows", async (c) => c.json({ flows: await deps.flows.list() }));

  app.get("/flows/:name", async (c) => {
    const name = c.req.param("name");
    const v = c.req.query("version");
    const version = v === undefined ? undefined : Number(v);
    if (version !== undefined && !(Number.isInteger(version) && version >= 1))
      throw badRequest("version must be an integer from 1", [{ path: "version", message: "expected an integer ≥ 1" }]);
    const found = await deps.flows.get(name, version);
    if (!found)
      throw new ApiError(404, version ? `flow '${name}' has no version ${version}` : `unknown flow '${name}'`);
    return c.json({
      name,
      version: found.version,
      definition: found.flow,
      versions: await deps.flows.versionsOf(name),
    });
  });

  app.get("/defaults", async (c) => c.json(await deps.flows.getDefaults()));

  app.put("/defaults", async (c) => {
    const parsed = parseDefaults(await readJson(c));
    if (!parsed.ok) throw badRequest(`invalid defaults: ${parsed.issues.length} problem(s)`, parsed.issues);
    await deps.flows.putDefaults(parsed.value);
    return c.json(parsed.value);
  });

  return app;
}
