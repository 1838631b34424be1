// Loads MEND_FLOWS_DIR at start: *.yaml, *.yml, *.json, and _defaults.yaml. `mend check` reads files the same way.
import { readdirSync, readFileSync, existsSync } from "node:fs";
import { basename, extname, join } from "node:path";
import { parse as parseYaml } from "yaml";
import { ConfigError } from "../env";
import { parseDefaults, type Defaults, type Flow, type Issue } from "../engine/flow";
import { validateFlow } from "../routes/flows";
import { ApiError } from "../routes/errors";
import type { Deps } from "../deps";

export const FLOW_FILE_EXTS = new Set([".yaml", ".yml", ".json"]);

/** A flow file read and checked: the flow or the defaults it holds, or every issue found. */
export type FlowFile = { kind: "flow"; flow: Flow } | { kind: "defaults"; defaults: Defaults } | { kind: "invalid"; issues: Issue[] };

function readDoc(file: string): unknown {
  const text = readFileSync(file, "utf8");
  try {
    return extname(file) === ".json" ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ConfigError(`${file}: cannot parse: ${(err as Error).message.split("\n")[0]!.replace(/:$/, "")}`);
  }
}

/** Reads one flow (or `_defaults`) file; throws ConfigError when it cannot be read or parsed. */
export function readFlowFile(file: string): FlowFile {
  const base = basename(file, extname(file));
  if (base === "_defaults") {
    const parsed = parseDefaults(readDoc(file) ?? {});
    return parsed.ok ? { kind: "defaults", defaults: parsed.value } : { kind: "invalid", issues: parsed.issues };
  }
  const doc = readDoc(file);
  try {
    const raw = doc && typeof doc === "object" && !Array.isArray(doc) && !("name" in doc) ? { ...doc, name: base } : doc;
    return { kind: "flow", flow: validateFlow(raw) };
  } catch (err) {
    if (err instanceof ApiError) return { kind: "invalid", issues: err.issues ?? [{ path: "", message: err.message }] };
    throw err;
  }
}

export async function loadFlowsDir(dir: string, deps: Deps): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const loaded: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (!FLOW_FILE_EXTS.has(extname(name))) continue;
    const file = join(dir, name);
    const read = readFlowFile(file);
    if (read.kind === "invalid") {
      const i = read.issues[0]!;
      const fallback = basename(name, extname(name)) === "_defaults" ? "defaults" : "flow";
      throw new ConfigError(`${file}: ${i.path || fallback}: ${i.message}`);
    }
    if (read.kind === "defaults") await deps.flows.putDefaults(read.defaults);
    else {
      await deps.flows.put(read.flow, deps.clock.now());
      loaded.push(read.flow.name);
    }
  }
  return loaded;
}
