// The real server as a child process on a temp folder (for kill -9 tests).
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";

/** Starts `src/entry/node.ts` on `dir`/mend.db and `dir`/flows; resolves once it listens. */
export function startServerProcess(
  dir: string,
  children: ChildProcess[],
): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/entry/node.ts"], {
    env: { ...process.env, PORT: "0", MEND_DB: join(dir, "mend.db"), MEND_FLOWS_DIR: join(dir, "flows") },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 20_000);
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1]! });
      }
    });
    child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
    child.on("exit", (code) => reject(new Error(`server exited with ${code}: ${out}`)));
  });
}
