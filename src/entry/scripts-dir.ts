// User scripts: each module in MEND_SCRIPTS_DIR exporting a default function becomes `script: <file name>`.
import { readdirSync } from "node:fs";
import { basename, extname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { ConfigError } from "../env";
import type { ScriptFn } from "../engine/ports";

export async function loadScriptsDir(dir: string | undefined): Promise<Record<string, ScriptFn>> {
  if (!dir) return {};
  const scripts: Record<string, ScriptFn> = {};
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    throw new ConfigError(`MEND_SCRIPTS_DIR: cannot read folder ${dir}`);
  }
  for (const name of names.sort()) {
    if (![".js", ".mjs", ".ts", ".mts"].includes(extname(name))) continue;
    const file = resolve(join(dir, name));
    let mod: { default?: unknown };
    try {
      mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
    } catch (err) {
      throw new ConfigError(`${file}: cannot load: ${(err as Error).message.split("\n")[0]}`);
    }
    if (typeof mod.default !== "function")
      throw new ConfigError(`${file}: must export a default function (args, ctx) => result`);
    scripts[basename(name, extname(name))] = mod.default as ScriptFn;
  }
  return scripts;
}
