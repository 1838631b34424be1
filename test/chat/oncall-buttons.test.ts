// The on-call controls of an alert (SPEC §11), run once per platform in-process: Ack, Resolve,
// Mute… (1 h, 4 h, 24 h, until resolved) and Unmute, clicked with each platform's wire format.
import { expect, it } from "vitest";
import { current, failingFlow, failOnce, forEachPlatform, runStatus, type Harness, type Msg } from "./harness";

const labels = (m: Msg) => m.buttons.map((b) => b.label.toLowerCase());
const HOUR = 3_600_000;

async function runView(h: Harness, id: string): Promise<Record<string, unknown>> {
  return (await (await h.api(`/api/runs/${id}`)).json()) as Record<string, unknown>;
}

/** Another failure of the same flow, step and error type: was it alerted (a new message or a group count)? */
async function alertedAgain(h: Harness): Promise<boolean> {
  const before = JSON.stringify(h.driver.messages());
  const res = await h.api("/hooks/orders", { json: { order: 2 } });
  const { run_id } = (await res.json()) as { run_id: string };
  await h.until(async () => (await runStatus(h, run_id)) === "failed", 10_000, "the next run to fail");
  await h.clock.advance(3_000, 30);
  return JSON.stringify(h.driver.messages()) !== before;
}

/** A failed run of `orders` whose alert was muted until resolved from chat, and the alert showing Unmute. */
async function mutedUntilResolved(h: Harness): Promise<{ runId: string; muted: Msg }> {
  await failingFlow(h);
  const { runId, message } = await failOnce(h);
  await h.driver.click(h, message, "mute", "resolved");
  const muted = await h.until(
    () => (labels(current(h, message.id)).includes("unmute") ? current(h, message.id) : undefined),
    5_000,
    "Unmute",
  );
  return { runId, muted };
}

forEachPlatform("%s", (start) => {
  it("Ack records who and when, edits the message, tells the thread, drops Ack and stops the escalation", async () => {
    const harness = await start();
    const oncall = harness.driver.kind === "slack" ? "U0BOB" : "500000000000000002";
    const escalate = { after_minutes: 2, mention: [oncall] };
    await failingFlow(harness, {}, { config: { ...harness.driver.config(), escalate } });
    const { runId, message } = await failOnce(harness);
    expect(labels(message)).toEqual(expect.arrayContaining(["ack", "resolve", "mute…"]));
    const at = harness.clock.now();
    expect((await harness.driver.click(harness, message, "ack")).status).toBe(200);
    const acked = await harness.until(
      () =>
        /Acknowledged by alice/.test(current(harness, message.id).text) ? current(harness, message.id) : undefined,
      5_000,
      "the acked message",
    );
    expect(acked.text).toContain(`at ${new Date(at).toISOString().slice(11, 16)} UTC`);
    expect(labels(acked)).not.toContain("ack");
    expect(labels(acked)).toEqual(expect.arrayContaining(["retry", "replay", "resolve", "mute…"]));
    expect(harness.driver.replies(message.id).some((r) => /Acknowledged by alice/.test(r))).toBe(true);
    const view = await runView(harness, runId);
    expect(view.acked_by).toMatch(/alice/);
    expect(Date.parse(String(view.acked_at))).toBeGreaterThanOrEqual(at);
    // Nobody is paged later: the escalation stops.
    await harness.clock.advance(5 * 60_000, 300);
    expect(harness.driver.replies(message.id).filter((r) => /escalation/i.test(r))).toHaveLength(0);
    // The same click again (the old message, a redelivery) does nothing new.
    const replies = harness.driver.replies(message.id).length;
    await harness.driver.click(harness, message, "ack");
    await harness.clock.advance(2_000, 20);
    expect(harness.driver.replies(message.id)).toHaveLength(replies);
    expect((await runView(harness, runId)).acked_at).toBe(view.acked_at);
  });

  it("Resolve records who, keeps the run's status and removes every button", async () => {
    const harness = await start();
    await failingFlow(harness);
    const { runId, message } = await failOnce(harness);
    await harness.driver.click(harness, message, "resolve");
    const done = await harness.until(
      () => (/Resolved by alice/.test(current(harness, message.id).text) ? current(harness, message.id) : undefined),
      5_000,
      "the resolved message",
    );
    expect(done.buttons).toEqual([]);
    expect(await runStatus(harness, runId)).toBe("failed");
    expect((await runView(harness, runId)).resolved_by).toMatch(/alice/);
    expect(harness.driver.replies(message.id).some((r) => /Resolved by alice/.test(r))).toBe(true);
    const replies = harness.driver.replies(message.id).length;
    await harness.driver.click(harness, message, "resolve");
    await harness.clock.advance(2_000, 20);
    expect(harness.driver.replies(message.id)).toHaveLength(replies);
  });

  it("Mute… offers 1 h, 4 h, 24 h and until resolved; 1 h quiets the next failure for one hour of fake time", async () => {
    const harness = await start({ MEND_GROUP_WINDOW_S: "0" });
    await failingFlow(harness);
    const { message } = await failOnce(harness);
    const mute = message.buttons.find((b) => b.action === "mute")!;
    expect(mute.label).toBe("Mute…");
    expect(mute.choices).toEqual(["1h", "4h", "24h", "resolved"]);
    await harness.driver.click(harness, message, "mute", "1h");
    const muted = await harness.until(
      () => (/Muted by alice/.test(current(harness, message.id).text) ? current(harness, message.id) : undefined),
      5_000,
      "the muted message",
    );
    const until = new Date(harness.clock.now() + HOUR).toISOString().slice(11, 16);
    expect(muted.text).toMatch(new RegExp(`until ${until.slice(0, 2)}:\\d\\d UTC`));
    expect(labels(muted)).toContain("unmute");
    expect(labels(muted)).not.toContain("mute…");
    expect(await alertedAgain(harness)).toBe(false);
    // Picking again on the old select does nothing new.
    await harness.driver.click(harness, message, "mute", "4h");
    expect(((await (await harness.api("/api/silences")).json()) as { silences: unknown[] }).silences).toHaveLength(1);
    await harness.clock.advance(HOUR, 1);
    expect(await alertedAgain(harness)).toBe(true);
  });

  it.each([
    ["4h", 4],
    ["24h", 24],
  ])("Mute… %s lasts %i hours", async (choice, hours) => {
    const harness = await start({ MEND_GROUP_WINDOW_S: "0" });
    await failingFlow(harness);
    const { message } = await failOnce(harness);
    const t0 = harness.clock.now();
    await harness.driver.click(harness, message, "mute", choice);
    const list = await harness.until(
      async () => {
        const s = ((await (await harness.api("/api/silences")).json()) as { silences: { ends_at: string }[] }).silences;
        return s.length ? s : undefined;
      },
      5_000,
      "the silence",
    );
    const ends = Date.parse(list[0]!.ends_at) - t0;
    expect(ends).toBeGreaterThan(hours * HOUR - 10_000);
    expect(ends).toBeLessThanOrEqual(hours * HOUR);
  });

  it("Mute… until resolved quiets the flow until the run is resolved, then alerts again", async () => {
    const harness = await start({ MEND_GROUP_WINDOW_S: "0" });
    const { runId, muted } = await mutedUntilResolved(harness);
    expect(muted.text).toContain("until resolved");
    const silences = (await (await harness.api("/api/silences")).json()) as { silences: { ends_at: string }[] };
    expect(silences.silences.map((s) => s.ends_at)).toEqual(["9999-12-31T23:59:59.000Z"]);
    expect(await alertedAgain(harness)).toBe(false);
    await harness.driver.click(harness, current(harness, muted.id), "resolve");
    await harness.until(async () => (await runView(harness, runId)).resolved_by, 5_000, "the resolve");
    expect(await alertedAgain(harness)).toBe(true);
  });

  it("Mute… until resolved also ends when a retry fixes the run and the alert closes", async () => {
    const harness = await start({ MEND_GROUP_WINDOW_S: "0" });
    const { runId, muted } = await mutedUntilResolved(harness);
    const message = muted;
    harness.upstream.status = 200;
    await harness.driver.click(harness, muted, "retry");
    await harness.until(async () => (await runStatus(harness, runId)) === "succeeded", 10_000, "the retried run");
    await harness.until(() => current(harness, message.id).buttons.length === 0, 5_000, "the closed message");
    harness.upstream.status = 500;
    expect(await alertedAgain(harness)).toBe(true);
  });

  it("Unmute on a muted alert ends the silence: Mute… is back and the next failure is alerted", async () => {
    const harness = await start({ MEND_GROUP_WINDOW_S: "0" });
    await failingFlow(harness);
    const { message } = await failOnce(harness);
    await harness.driver.click(harness, message, "mute", "24h");
    const muted = await harness.until(
      () => (labels(current(harness, message.id)).includes("unmute") ? current(harness, message.id) : undefined),
      5_000,
      "Unmute",
    );
    await harness.driver.click(harness, muted, "unmute");
    const back = await harness.until(
      () => (labels(current(harness, message.id)).includes("mute…") ? current(harness, message.id) : undefined),
      5_000,
      "Mute… again",
    );
    expect(labels(back)).not.toContain("unmute");
    expect(harness.driver.replies(message.id).some((r) => /Unmuted by alice/.test(r))).toBe(true);
    expect(await alertedAgain(harness)).toBe(true);
  });
});

/** Submits the Unmute form of the first silence on /handlers, as a browser would (session cookie, CSRF). */
async function unmuteOnHandlersPage(h: Harness): Promise<Response> {
  const page = await h.app.request("/handlers");
  const cookie = (page.headers.get("set-cookie") ?? "").split(";")[0]!;
  const html = await page.text();
  const form = /<form method="post" action="([^"]+\/unmute)"[^>]*>(.*?)<\/form>/s.exec(html);
  if (!form) throw new Error(`no Unmute form on /handlers: ${html.slice(-2000)}`);
  const fields = Object.fromEntries([...form[2]!.matchAll(/name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1], m[2]]));
  return h.app.request(form[1]!, {
    method: "POST",
    headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields as Record<string, string>).toString(),
  });
}

forEachPlatform("%s: the /handlers page", (start) => {
  it("unmutes a mute picked in chat; the alert shows Mute… again and the next failure is alerted", async () => {
    const harness = await start({ MEND_GROUP_WINDOW_S: "0" });
    await failingFlow(harness);
    const { message } = await failOnce(harness);
    await harness.driver.click(harness, message, "mute", "resolved");
    await harness.until(() => labels(current(harness, message.id)).includes("unmute"), 5_000, "Unmute");
    const res = await unmuteOnHandlersPage(harness);
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/handlers?done=unmuted");
    await harness.until(() => labels(current(harness, message.id)).includes("mute…"), 5_000, "Mute… again");
    expect(await (await harness.app.request("/handlers")).text()).toContain("No active silence");
    expect(await alertedAgain(harness)).toBe(true);
  });
});

forEachPlatform("%s: Retry on latest", (start) => {
  it("appears once the flow has a newer version, and resumes the run on it", async () => {
    const harness = await start();
    await failingFlow(harness);
    const { runId, message } = await failOnce(harness);
    expect(labels(message)).not.toContain("retry on latest");
    // The fix: version 2 computes the step instead of calling the (still failing) upstream.
    const v2 = await harness.api("/api/flows/orders", {
      method: "PUT",
      json: { name: "orders", steps: [{ id: "charge", compute: { expr: "'charged'" } }] },
    });
    expect(v2.status).toBe(200);
    const offered = await harness.until(
      () =>
        labels(current(harness, message.id)).includes("retry on latest") ? current(harness, message.id) : undefined,
      5_000,
      "Retry on latest",
    );
    const before = harness.upstream.requests;
    await harness.driver.click(harness, offered, "retry_latest");
    await harness.until(async () => (await runStatus(harness, runId)) === "succeeded", 10_000, "the retried run");
    const view = await runView(harness, runId);
    expect(view.flow_version).toBe(2);
    expect(harness.upstream.requests).toBe(before);
    await harness.until(() => current(harness, message.id).buttons.length === 0, 5_000, "the closed message");
    // The same click again starts nothing.
    await harness.driver.click(harness, offered, "retry_latest");
    await harness.clock.advance(2_000, 20);
    expect(await runStatus(harness, runId)).toBe("succeeded");
    expect(harness.upstream.requests).toBe(before);
  });
});
