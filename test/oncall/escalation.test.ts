// Mentions and escalation (SPEC §11), on Slack and on Discord: `mention` in the first post,
// `escalate` pings in the thread when nobody acked/resolved/fixed the alert by then — durable
// across a restart, exactly once.
import { afterEach, describe, expect, it } from "vitest";
import { reply } from "../engine/harness";
import { KINDS, startOncall, type Oncall } from "./harness";

let m: Oncall | undefined;
afterEach(async () => {
  await m?.stop();
  m = undefined;
});

const PEOPLE = {
  slack: {
    first: ["U0ALICE", "S0OPS"],
    escalate: ["U0BOB", "here"],
    firstText: ["<@U0ALICE>", "<!subteam^S0OPS>"],
    escalateText: ["<@U0BOB>", "<!here>"],
  },
  discord: {
    first: ["500000000000000001", "&600000000000000001"],
    escalate: ["500000000000000002", "role:600000000000000002"],
    firstText: ["<@500000000000000001>", "<@&600000000000000001>"],
    escalateText: ["<@500000000000000002>", "<@&600000000000000002>"],
  },
} as const;

describe.each(KINDS)("escalation on %s", (kind) => {
  const p = PEOPLE[kind];

  async function failedAlert(o: Oncall, extra: Record<string, unknown>) {
    await o.failingFlow(extra);
    o.http.reply(reply(500, { error: "card declined" }));
    const run = await o.run();
    expect(run.status).toBe("failed");
    const alert = o.messages()[0];
    expect(alert, "the alert was posted").toBeDefined();
    return { run, alert: alert! };
  }

  const threadOf = (o: Oncall, id: string) => o.messages().filter((x) => x.replyTo === id);

  it("mentions `mention` in the first post, and nobody else", async () => {
    m = await startOncall(kind);
    const { alert } = await failedAlert(m, { mention: p.first });
    for (const t of p.firstText) expect(alert.text).toContain(t);
    if (kind === "discord")
      expect(alert.allowed).toEqual({ parse: [], users: ["500000000000000001"], roles: ["600000000000000001"] });
  });

  it("pings `escalate.mention` in the thread when nobody acted by then (fractions of minutes allowed)", async () => {
    m = await startOncall(kind);
    const { alert } = await failedAlert(m, { escalate: { after_minutes: 1.5, mention: p.escalate } });
    await m.pump(60_000);
    expect(threadOf(m, alert.id)).toHaveLength(0);
    await m.pump(40_000);
    const thread = threadOf(m, alert.id);
    expect(thread).toHaveLength(1);
    for (const t of p.escalateText) expect(thread[0]!.text).toContain(t);
    expect(thread[0]!.text).toMatch(/escalation/i);
    if (kind === "discord")
      expect(thread[0]!.allowed).toEqual({ parse: [], users: ["500000000000000002"], roles: ["600000000000000002"] });
    // The alert itself says so.
    expect(m.messages().find((x) => x.id === alert.id)!.text).toMatch(/Escalated at \d\d:\d\d UTC/);
    // Once only.
    await m.pump(10 * 60_000);
    expect(threadOf(m, alert.id)).toHaveLength(1);
  });

  it("does not escalate an acked alert", async () => {
    m = await startOncall(kind);
    const { run, alert } = await failedAlert(m, { escalate: { after_minutes: 2, mention: p.escalate } });
    await m.pump(30_000);
    expect((await m.api("POST", `/api/runs/${run.id}/ack`, { by: "ann" })).status).toBe(200);
    await m.pump(5 * 60_000);
    expect(threadOf(m, alert.id).filter((x) => /escalation/i.test(x.text))).toHaveLength(0);
  });

  it("does not escalate a resolved alert", async () => {
    m = await startOncall(kind);
    const { run, alert } = await failedAlert(m, { escalate: { after_minutes: 2, mention: p.escalate } });
    expect((await m.api("POST", `/api/runs/${run.id}/resolve`, { by: "ann", note: "known outage" })).status).toBe(200);
    await m.pump(5 * 60_000);
    expect(threadOf(m, alert.id).filter((x) => /escalation/i.test(x.text))).toHaveLength(0);
  });

  it("still escalates, once, after a restart between the alert and the due time", async () => {
    m = await startOncall(kind);
    const { alert } = await failedAlert(m, { escalate: { after_minutes: 3, mention: p.escalate } });
    await m.pump(60_000);
    await m.restart();
    await m.pump(3 * 60_000);
    const thread = threadOf(m, alert.id);
    expect(thread).toHaveLength(1);
    for (const t of p.escalateText) expect(thread[0]!.text).toContain(t);
    await m.restart();
    await m.pump(10 * 60_000);
    expect(threadOf(m, alert.id)).toHaveLength(1);
  });

  it("refuses a bad escalate config with 400 naming the field", async () => {
    m = await startOncall(kind);
    const r = await m.api("POST", "/api/handlers", {
      name: "bad",
      kind,
      config: {
        ...(kind === "slack" ? { channel: "C1" } : { channel_id: "300000000000000001" }),
        escalate: { after_minutes: -1, mention: [] },
      },
    });
    expect(r.status).toBe(400);
    expect(JSON.stringify(r.body)).toMatch(/escalate/);
  });
});
