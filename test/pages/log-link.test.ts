// A failed run's log alert ends with the link to its page, which opens.
import { afterEach, describe, expect, it } from "vitest";
import { Browser, callFlow, runTo, startPages, type PagesEnv } from "./helpers";

let env: PagesEnv | undefined;
afterEach(async () => {
  await env?.stop();
  env = undefined;
});

async function alertLine(e: PagesEnv, id: string): Promise<string> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const line = e.s.logs.find((l) => l.startsWith("warn alert: ") && l.includes(id));
    if (line) return line;
    if (Date.now() > deadline) throw new Error(`no alert line for ${id} in:\n${e.s.logs.join("\n")}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("the log alert's run link", () => {
  it("points at this server when MEND_PUBLIC_URL is unset, and opens the run's page", async () => {
    env = await startPages();
    await env.s.putFlow(callFlow("orders", env.up.url));
    env.up.script([], { status: 500 });
    const id = await runTo(env.s, "orders", { order: 1 }, ["failed"]);
    const line = await alertLine(env, id);
    const link = `${env.s.url}/runs/${id}`;
    expect(line).toContain(
      `failed at step call after 1 attempt(s): [http_status] POST ${env.up.url}/work returned 500 — ${link}`,
    );
    expect(line).toContain(`"url":"${link}"`);
    const html = await new Browser("").page(link);
    expect(html).toContain(`<section id="run" data-status="failed"`);
  });

  it("uses MEND_PUBLIC_URL when it is set", async () => {
    env = await startPages({ MEND_PUBLIC_URL: "https://mend.example.com/" });
    await env.s.putFlow(callFlow("orders", env.up.url));
    env.up.script([], { status: 500 });
    const id = await runTo(env.s, "orders", { order: 1 }, ["failed"]);
    expect(await alertLine(env, id)).toContain(`— https://mend.example.com/runs/${id}`);
  });
});
