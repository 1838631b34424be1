// Every curl in the README, run as written (from the repo root) against the app with ./flows loaded.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadFlowsDir } from "../../src/entry/flows-dir";
import { makeApp } from "./app";

/** The README's curl commands: line continuations joined, shell quotes removed. */
function curls(readme: string): string[][] {
  const out: string[][] = [];
  for (const block of readme.matchAll(/```sh\n([\s\S]*?)```/g)) {
    const text = block[1]!.replace(/\\\n\s*/g, " ");
    for (const line of text.split("\n")) {
      const cmd = line.replace(/\s+#.*$/, "").trim();
      if (!cmd.startsWith("curl ")) continue;
      out.push([...cmd.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!));
    }
  }
  return out;
}

function toRequest(
  args: string[],
  runId: string,
): { method: string; path: string; headers: Record<string, string>; body?: string } {
  let method: string | undefined;
  let url = "";
  let body: string | undefined;
  const headers: Record<string, string> = {};
  for (let i = 1; i < args.length; i++) {
    const a = args[i]!;
    if (a === "-X") method = args[++i];
    else if (a === "-H") {
      const [k, ...v] = args[++i]!.split(":");
      headers[k!.trim().toLowerCase()] = v.join(":").trim();
    } else if (a === "-d") body = args[++i];
    else if (a === "--data-binary") body = readFileSync(args[++i]!.replace(/^@/, ""), "utf8");
    else if (!a.startsWith("-")) url = a;
  }
  const path = url.replace(/^(https?:\/\/)?(localhost|127\.0\.0\.1):8787/, "").replaceAll("<run_id>", runId);
  return { method: method ?? (body !== undefined ? "POST" : "GET"), path, headers, body };
}

let h: ReturnType<typeof makeApp>;
beforeAll(async () => {
  h = makeApp({
    env: {
      MEND_WEBHOOK_SECRET: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
      SLACK_BOT_TOKEN: "xoxb-test",
      SLACK_SIGNING_SECRET: "s3cret-signing",
      DISCORD_BOT_TOKEN: "bot",
      DISCORD_PUBLIC_KEY: "a".repeat(64),
      DISCORD_APPLICATION_ID: "1",
    },
  });
  await loadFlowsDir("./flows", h.deps);
});
afterAll(async () => h?.close());

describe("the README's curls", () => {
  it("all work as written", async () => {
    const commands = curls(readFileSync("README.md", "utf8"));
    expect(commands.length).toBeGreaterThan(10);
    let runId = "";
    const answers: string[] = [];
    for (const args of commands) {
      const req = toRequest(args, runId);
      const res = await h.request(req.method, req.path, req.body, req.headers);
      const text = await res.text();
      answers.push(`${req.method} ${req.path} → ${res.status}`);
      // The always-fails flow answers its error object's 422 on purpose; nothing else may fail.
      const expected = req.path.startsWith("/hooks/always-fails") ? 422 : undefined;
      if (expected) expect(res.status, answers.join("\n")).toBe(expected);
      else expect(res.status, `${answers.join("\n")}\n${text}`).toBeLessThan(400);
      const id = /"run_id":"([^"]+)"/.exec(text)?.[1];
      if (id && req.path.startsWith("/hooks/always-fails")) runId = id;
    }
  }, 30_000);
});
