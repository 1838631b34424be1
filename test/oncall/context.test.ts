// Context in every alert (SPEC §11), on Slack and on Discord: MEND_ENV in the title, the failure
// time (Slack <!date^…>, Discord embed timestamp), and the error message in the notification text.
import { afterEach, describe, expect, it } from "vitest";
import { reply } from "../engine/harness";
import { KINDS, startOncall, type Oncall } from "./harness";

let m: Oncall | undefined;
afterEach(async () => {
  await m?.stop();
  m = undefined;
});

describe.each(KINDS)("alert context on %s", (kind) => {
  it("shows MEND_ENV, the failure time and the error message in the notification text", async () => {
    m = await startOncall(kind, { MEND_ENV: "prod" });
    await m.failingFlow();
    m.http.reply(reply(500, { error: "card declined" }));
    const run = await m.run();
    const message = String(run.error.message);
    expect(message.length).toBeGreaterThan(0);
    const failedAt = Date.parse(String(run.finished_at ?? run.updated_at));
    if (kind === "slack") {
      const posted = m.slack!.messages[0]!;
      expect(posted.text).toContain("[prod] orders failed");
      expect(posted.text).toContain(message.slice(0, 40));
      expect(JSON.stringify(posted.blocks[0])).toContain("[prod] orders failed");
      const date = /<!date\^(\d+)\^\{date_short_pretty\} \{time\}\|[^>]+>/.exec(JSON.stringify(posted.blocks));
      expect(date).not.toBeNull();
      expect(Math.abs(Number(date![1]) * 1000 - failedAt)).toBeLessThan(5_000);
    } else {
      const posted = m.discord!.messages[0]!;
      // Content is markdown: mend escapes [ ] _ * and friends.
      const content = posted.content.replace(/\\/g, "");
      expect(content).toContain("[prod] orders failed");
      expect(content).toContain(message.slice(0, 40));
      expect(posted.embeds[0]!.title).toContain("[prod] orders failed");
      expect(Math.abs(Date.parse(posted.embeds[0]!.timestamp) - failedAt)).toBeLessThan(5_000);
    }
  });
});
