// Loads MEND_FLOWS_DIR at start: *.yaml, *.yml, *.json, and _defaults.yaml.
import { readdirSync, readFileSync, existsSync } from "node:fs";
import { basename, extname, join } from "node:path";
import { parse as parseYaml } from "yaml";
import { ConfigError } from "../env";
import { parseDefaults } from "../engine/flow";
import { validateFlow } from "../routes/flows";
import { ApiError } from "../routes/errors";
import type { Deps } from "../deps";

const EXTS = new Set([".yaml", ".yml", ".json"]);

function readDoc(file: string): unknown {
  const text = readFileSync(file, "utf8");
  try {
    return extname(file) === ".json" ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ConfigError(`${file}: cannot parse: ${(err as Error).message.split("\n")[0]!.replace(/:$/, "")}`);
  }
}

export async function loadFlowsDir(dir: string, deps: Deps): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const loaded: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const file = join(dir, name);
    if (!EXTS.has(extname(name))) continue;
    const base = basename(name, extname(name));
    if (base === "_defaults") {
      const parsed = parseDefaults(readDoc(file) ?? {});
      if (!parsed.ok) throw new ConfigError(`${file}: ${parsed.issues[0]!.path || "defaults"}: ${parsed.issues[0]!.message}`);
      await deps.flows.putDefaults(parsed.value);
      continue;
    }
    const doc = readDoc(file);
    try {
      const raw = doc && typeof doc === "object" && !Array.isArray(doc) && !("name" in doc) ? { ...doc, name: base } : doc;
      const flow = validateFlow(raw);
      await deps.flows.put(flow, deps.clock.now());
      loaded.push(flow.name);
    } catch (err) {
      if (err instanceof ApiError) {
        const i = err.issues?.[0];
        throw new ConfigError(`${file}: ${i ? `${i.path || "flow"}: ${i.message}` : err.message}`);
      }
      throw err;
    }
  }
  return loaded;
}
