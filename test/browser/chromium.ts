// Where the browser tests find Chromium: MEND_CHROMIUM, then chromium, chromium-browser and
// google-chrome on PATH. Without one they are skipped with one line, except under CI=true.
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

const NAMES = ["chromium", "chromium-browser", "google-chrome"];

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function findChromium(env: Record<string, string | undefined> = process.env): string | undefined {
  if (env.MEND_CHROMIUM) return env.MEND_CHROMIUM;
  const dirs = (env.PATH ?? "").split(delimiter).filter(Boolean);
  for (const name of NAMES) for (const dir of dirs) if (executable(join(dir, name))) return join(dir, name);
  return undefined;
}

export const CHROMIUM = findChromium();
export const IN_CI = process.env.CI === "true";
/** Whether the browser tests run: with a Chromium, and always under CI=true (where a missing one fails). */
export const RUN_BROWSER_TESTS = CHROMIUM !== undefined || IN_CI;

/** The one line printed when the browser tests are skipped; throws under CI=true without Chromium. */
export function requireChromium(): string {
  if (CHROMIUM) return CHROMIUM;
  throw new Error("CI=true but no Chromium was found: install it (apt-get install -y chromium) or set MEND_CHROMIUM");
}

if (!RUN_BROWSER_TESTS) {
  console.warn("browser tests skipped: no Chromium (set MEND_CHROMIUM, or install one: apt-get install -y chromium)");
}
