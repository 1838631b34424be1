// docs/slack.md and docs/discord.md show each message state as the real renderers draw it
// (test/chat/renderings.ts). This fails when they are out of date; MEND_WRITE_RENDERINGS=1
// (`npm run docs:renderings`) rewrites them instead.
import { readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { captureRenderings, renderingsMarkdown, withRenderings } from "./renderings";

describe.each(["slack", "discord"] as const)("docs/%s.md", (kind) => {
  it("shows every message state as the renderers draw it now", async () => {
    const file = new URL(`../../docs/${kind}.md`, import.meta.url);
    const doc = readFileSync(file, "utf8");
    const fresh = withRenderings(doc, renderingsMarkdown(kind, await captureRenderings(kind)));
    if (process.env.MEND_WRITE_RENDERINGS === "1") writeFileSync(file, fresh);
    else expect(doc, `docs/${kind}.md is out of date: run npm run docs:renderings`).toBe(fresh);
  }, 120_000);
});
