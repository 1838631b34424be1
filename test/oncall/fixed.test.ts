// resolve_on_success (SPEC §11), on Slack and on Discord: a later successful run of the flow edits
// its open alerts to "Fixed by run <id>" without buttons, says so in the thread, and stops escalation.
import { afterEach, describe, expect, it } from "vitest";
import { reply } from "../engine/harness";
import { KINDS, startOncall, type Oncall } from "./harness";

let m: Oncall | undefined;
afterEach(async () => {
  await m?.stop();
  m = undefined;
});

/** Whether the message shows any of mend's action buttons. */
const hasButtons = (text: string) => /mend_retry|mend:retry|mend_replay|mend:replay/.test(text);

describe.each(KINDS)("resolve_on_success on %s", (kind) => {
  it("a later success of the flow marks the open alert fixed, removes its buttons and stops escalation", async () => {
    m = await startOncall(kind);
    await m.failingFlow({
      escalate: { after_minutes: 5, mention: kind === "slack" ? ["U0BOB"] : ["500000000000000002"] },
    });
    m.http.reply(reply(500, { error: "down" }));
    const failed = await m.run();
    expect(failed.status).toBe("failed");
    const alert = m.messages()[0]!;
    expect(hasButtons(alert.text)).toBe(true);
    await m.pump(60_000);
    m.http.reply(reply(200, { ok: true }));
    const ok = await m.run("orders", { order: 2 });
    expect(ok.status).toBe("succeeded");
    await m.pump(35_000);
    const now = m.messages().find((x) => x.id === alert.id)!;
    expect(now.text).toContain(`Fixed by run ${ok.id}`);
    expect(hasButtons(now.text)).toBe(false);
    expect(m.messages().some((x) => x.replyTo === alert.id && x.text.includes(`Fixed by run ${ok.id}`))).toBe(true);
    await m.pump(10 * 60_000);
    expect(m.messages().filter((x) => x.replyTo === alert.id && /escalation/i.test(x.text))).toHaveLength(0);
  });

  it("resolve_on_success: false leaves the alert open", async () => {
    m = await startOncall(kind);
    await m.failingFlow({ resolve_on_success: false });
    m.http.reply(reply(500, { error: "down" }));
    await m.run();
    const alert = m.messages()[0]!;
    m.http.reply(reply(200, { ok: true }));
    const ok = await m.run("orders", { order: 2 });
    expect(ok.status).toBe("succeeded");
    await m.pump(35_000);
    const now = m.messages().find((x) => x.id === alert.id)!;
    expect(now.text).not.toContain("Fixed by run");
    expect(hasButtons(now.text)).toBe(true);
  });
});
