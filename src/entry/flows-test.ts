// `npm run flows:test`: runs every *.test.yaml beside the flows (SPEC §12) with mocks, on an
// in-memory database. A test file holds one test or a list: { flow, input, mocks, live?, expect:
// { status, output?, error_type? } }. Prints one line per test; exits 1 on any mismatch.
import { isDeepStrictEqual } from "node:util";
import { relative } from "node:path";
import { ConfigError, parseEnv } from "../env";
import { createServices } from "../services";
import { openSqlite } from "../store/sqlite-node";
import { runFlowTest } from "../routes/flow-tests";
import { flowFiles, loadFlowsDir, readDoc, TEST_FILE } from "./flows-dir";
import { loadScriptsDir } from "./scripts-dir";

interface FlowTest {
  name?: string;
  flow: string;
  input?: unknown;
  mocks?: Record<string, never>;
  live?: boolean;
  expect: { status: string; output?: unknown; error_type?: string };
}

function mismatches(t: FlowTest, got: { status: string; output: unknown; error: { type?: string } | null }): string[] {
  const out: string[] = [];
  if (got.status !== t.expect.status) out.push(`status ${got.status}, expected ${t.expect.status}`);
  if ("output" in t.expect && !isDeepStrictEqual(got.output, t.expect.output))
    out.push(`output ${JSON.stringify(got.output)}, expected ${JSON.stringify(t.expect.output)}`);
  if (t.expect.error_type !== undefined && got.error?.type !== t.expect.error_type)
    out.push(`error type ${got.error?.type ?? "none"}, expected ${t.expect.error_type}`);
  return out;
}

export async function runFlowTests(dir: string, print: (line: string) => void): Promise<number> {
  const db = openSqlite(":memory:");
  const { deps } = createServices({
    config: parseEnv({ MEND_DB: ":memory:" }),
    db,
    log: () => undefined,
    userScripts: await loadScriptsDir(process.env.MEND_SCRIPTS_DIR),
  });
  let failed = 0;
  let passed = 0;
  try {
    await loadFlowsDir(dir, deps);
    for (const file of flowFiles(dir, TEST_FILE)) {
      const doc = readDoc(file);
      const tests = (Array.isArray(doc) ? doc : [doc]) as FlowTest[];
      for (const [i, t] of tests.entries()) {
        const label = `${relative(process.cwd(), file)}${tests.length > 1 ? `#${i + 1}` : ""}${t?.name ? ` (${t.name})` : ""}`;
        if (!t || typeof t.flow !== "string" || typeof t.expect?.status !== "string") {
          failed++;
          print(`FAIL ${label}: a test needs flow and expect.status`);
          continue;
        }
        const got = await runFlowTest(deps, { flow: t.flow, input: t.input ?? {}, mocks: t.mocks, live: t.live });
        const problems = mismatches(t, got);
        if (problems.length) failed++;
        else passed++;
        print(problems.length ? `FAIL ${label}: ${problems.join("; ")}` : `ok   ${label}`);
      }
    }
  } catch (err) {
    print(err instanceof ConfigError || err instanceof Error ? `FAIL ${(err as Error).message}` : String(err));
    failed++;
  } finally {
    await db.close();
  }
  print(`${passed} passed, ${failed} failed`);
  return failed > 0 ? 1 : 0;
}

if (process.argv[1] && /flows-test\.[jt]s$/.test(process.argv[1])) {
  const dir = process.argv[2] ?? process.env.MEND_FLOWS_DIR ?? "./flows";
  void runFlowTests(dir, (l) => console.log(l)).then((code) => process.exit(code));
}
