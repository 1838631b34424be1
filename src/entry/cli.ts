// `mend` on the command line: start, check, --help, --version (node:util parseArgs).
import { parseArgs } from "node:util";
import { existsSync, statSync } from "node:fs";
import pkg from "../../package.json";
import { ConfigError } from "../env";
import { FLOW_FILE_EXTS, readFlowFile } from "./flows-dir";
import { extname } from "node:path";

const HELP = `mend ${pkg.version}: a chat-ops error-handler hub

Usage:
  mend start                 start the server (PORT, MEND_DB, MEND_FLOWS_DIR, … from the environment)
  mend check <flow files…>   validate flow files offline; exits 1 and names every problem
  mend --help                this text
  mend --version             the version

Configuration is read from environment variables only; see README.md and docs/operations.md.
`;

/** `mend check`: every file and every issue, one line each. Exit code 0 when all are valid. */
export function check(files: string[], out: (line: string) => void): number {
  if (files.length === 0) {
    out("mend check: name at least one flow file (*.yaml, *.yml, *.json)");
    return 1;
  }
  let bad = 0;
  for (const file of files) {
    if (!existsSync(file) || !statSync(file).isFile()) {
      out(`${file}: no such file`);
      bad++;
      continue;
    }
    if (!FLOW_FILE_EXTS.has(extname(file))) {
      out(`${file}: not a flow file (expected .yaml, .yml or .json)`);
      bad++;
      continue;
    }
    try {
      const read = readFlowFile(file);
      if (read.kind === "invalid") {
        bad++;
        for (const i of read.issues) out(`${file}: ${i.path || "flow"}: ${i.message}`);
      } else
        out(
          `${file}: ok (${read.kind === "flow" ? `flow ${read.flow.name}, ${read.flow.steps.length} step(s)` : "defaults"})`,
        );
    } catch (err) {
      bad++;
      out(err instanceof ConfigError ? err.message : `${file}: ${(err as Error).message}`);
    }
  }
  return bad > 0 ? 1 : 0;
}

/** Runs the command line; resolves with the exit code (start resolves only once the server stops). */
export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { help: { type: "boolean", short: "h" }, version: { type: "boolean", short: "v" } },
    });
  } catch (err) {
    console.error(`mend: ${(err as Error).message.split("\n")[0]} (see mend --help)`);
    return 1;
  }
  const [command, ...rest] = parsed.positionals;
  if (parsed.values.version) {
    console.log(pkg.version);
    return 0;
  }
  if (parsed.values.help || command === undefined || command === "help") {
    process.stdout.write(HELP);
    return 0;
  }
  if (command === "check") return check(rest, (line) => console.log(line));
  if (command === "start") {
    if (rest.length > 0) {
      console.error(`mend: start takes no arguments (got ${rest.join(" ")}); configure it with environment variables`);
      return 1;
    }
    const { start } = await import("./start");
    return start(process.env);
  }
  console.error(`mend: unknown command '${command}' (see mend --help)`);
  return 1;
}
