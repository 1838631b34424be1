// Loads MEND_FLOWS_DIR at start: *.yaml, *.yml, *.json in it and its subfolders, and _defaults.yaml.
// `mend check` reads files the same way.
import { readdirSync, readFileSync, existsSync } from "node:fs";
import { basename, dirname, extname, join } from "node:path";
import { parse as parseYaml } from "yaml";
import { ConfigError } from "../env";
import { parseDefaults, type Defaults, type Flow, type Issue } from "../engine/flow";
import { checkNames, newVersionSaved, validateFlow } from "../routes/flows";
import { ApiError } from "../routes/errors";
import type { Deps } from "../deps";

export const FLOW_FILE_EXTS = new Set([".yaml", ".yml", ".json"]);
/** `*.test.yaml` beside a flow is a flow test (npm run flows:test), not a flow. */
export const TEST_FILE = /\.test\.(ya?ml|json)$/;

/** A flow file read and checked: the flow or the defaults it holds, or every issue found. */
export type FlowFile =
  | { kind: "flow"; flow: Flow }
  | { kind: "defaults"; defaults: Defaults }
  | { kind: "invalid"; issues: Issue[] };

export function readDoc(file: string): unknown {
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
    const raw =
      doc && typeof doc === "object" && !Array.isArray(doc) && !("name" in doc) ? { ...doc, name: base } : doc;
    return { kind: "flow", flow: validateFlow(raw) };
  } catch (err) {
    if (err instanceof ApiError) return { kind: "invalid", issues: err.issues ?? [{ path: "", message: err.message }] };
    throw err;
  }
}

/** Flow files under dir, subfolders included, sorted; flow tests left out. */
export function flowFiles(dir: string, pattern: RegExp | undefined = undefined): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const file = join(dir, entry.name);
    if (entry.isDirectory() && !entry.name.startsWith(".")) out.push(...flowFiles(file, pattern));
    else if (!entry.isFile() || !FLOW_FILE_EXTS.has(extname(entry.name))) continue;
    else if (pattern ? pattern.test(entry.name) : !TEST_FILE.test(entry.name)) out.push(file);
  }
  return out;
}

export async function loadFlowsDir(dir: string, deps: Deps): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const loaded: string[] = [];
  const from = new Map<string, string>();
  for (const file of flowFiles(dir)) {
    const isDefaults = basename(file, extname(file)) === "_defaults";
    if (isDefaults && dirname(file) !== dir) throw new ConfigError(`${file}: _defaults belongs at the top of ${dir}`);
    const read = readFlowFile(file);
    const issues =
      read.kind === "flow" ? await checkNames(read.flow, deps) : read.kind === "invalid" ? read.issues : [];
    if (issues.length)
      throw new ConfigError(`${file}: ${issues[0]!.path || (isDefaults ? "defaults" : "flow")}: ${issues[0]!.message}`);
    if (read.kind === "defaults") await deps.flows.putDefaults(read.defaults);
    else if (read.kind === "flow") {
      const other = from.get(read.flow.name);
      if (other) throw new ConfigError(`${file}: flow '${read.flow.name}' is also defined in ${other}`);
      from.set(read.flow.name, file);
      const put = await deps.flows.put(read.flow, deps.clock.now());
      if (put.changed && !put.created) deps.waitUntil(newVersionSaved(deps, put.name));
      loaded.push(read.flow.name);
    }
  }
  return loaded;
}
