// `/mend ack <run>`, `mute <flow> <1h|4h|24h>`, `unmute <flow>` and `status [flow]` (SPEC §11), once
// per platform: Slack's signed slash command form, Discord's APPLICATION_COMMAND with subcommand options.
import { expect, it } from "vitest";
import {
  current,
  discordDriver,
  failingFlow,
  failOnce,
  forEachDriver,
  forEachPlatform,
  MALLORY,
  runStatus,
  type Harness,
} from "./harness";

type Silence = { id: string; flow: string | null; step: string | null; ends_at: string };
const silences = async (harness: Harness) =>
  ((await (await harness.api("/api/silences")).json()) as { silences: Silence[] }).silences;

forEachPlatform("%s", (start) => {
  it("`/mend ack <run>` acknowledges the run as the user, edits its alert and tells the thread; bad runs get a clear reply", async () => {
    const harness = await start();
    await failingFlow(harness);
    const { runId, message } = await failOnce(harness);
    const ack = await harness.driver.command(harness, "ack", { run: runId });
    expect(ack.status).toBe(200);
    expect(ack.public).toBe(true);
    expect(ack.text).toMatch(/Acknowledged by/);
    const run = (await (await harness.api(`/api/runs/${runId}`)).json()) as { acked_by: string };
    expect(run.acked_by).toMatch(/alice/);
    await harness.until(() => /Acknowledged by/.test(current(harness, message.id).text), 5_000, "the edited alert");
    await harness.until(
      () => harness.driver.replies(message.id).some((r) => /Acknowledged by/.test(r)),
      5_000,
      "the thread",
    );
    const again = await harness.driver.command(harness, "ack", { run: runId }, MALLORY);
    expect(again.public).toBe(false);
    expect(again.text).toMatch(/already acknowledged by alice/);
    const unknown = await harness.driver.command(harness, "ack", { run: "01NOSUCHRUN" });
    expect(unknown.public).toBe(false);
    expect(unknown.text).toContain("Run 01NOSUCHRUN does not exist");
  });

  it("`/mend mute <flow> 4h` silences the flow's alerts and `/mend unmute <flow>` ends it; bad flows and durations are refused", async () => {
    const harness = await start({ MEND_GROUP_WINDOW_S: "0" });
    await failingFlow(harness);
    const { message } = await failOnce(harness);
    const bad = await harness.driver.command(harness, "mute", { flow: "orders", duration: "2h" });
    expect(bad.public).toBe(false);
    expect(bad.text).toMatch(/'2h' is not a mute duration: use 1h, 4h or 24h/);
    const nope = await harness.driver.command(harness, "mute", { flow: "nope", duration: "1h" });
    expect(nope.public).toBe(false);
    expect(nope.text).toMatch(/no flow 'nope'/);
    expect(await silences(harness)).toEqual([]);

    const t0 = harness.clock.now();
    const mute = await harness.driver.command(harness, "mute", { flow: "orders", duration: "4h" });
    expect(mute.public).toBe(true);
    expect(mute.text).toMatch(/Muted every alert of orders until/);
    // The channel reads the user's mention at the end, not the label recorded on the silence.
    expect(mute.text).toMatch(/ UTC — by <@\w+>(\n|$)/);
    const [silence] = await silences(harness);
    expect(silence).toMatchObject({ flow: "orders", step: null });
    expect(Math.abs(Date.parse(silence!.ends_at) - (t0 + 4 * 3_600_000))).toBeLessThan(60_000);
    await harness.until(() => /Muted by/.test(current(harness, message.id).text), 5_000, "the alert says muted");
    // It covers every step and error of the flow: the line names the flow alone.
    expect(current(harness, message.id).text).toMatch(/no alerts for orders(?! \/)/);
    // A new failure of the flow is not alerted while muted.
    const res = await harness.api("/hooks/orders", { json: {} });
    const { run_id } = (await res.json()) as { run_id: string };
    await harness.until(async () => (await runStatus(harness, run_id)) === "failed", 10_000, "the second failure");
    await harness.clock.advance(5_000);
    expect(harness.driver.messages()).toHaveLength(1);

    const unmute = await harness.driver.command(harness, "unmute", { flow: "orders" });
    expect(unmute.public).toBe(true);
    expect(unmute.text).toMatch(/^Unmuted orders \(ended silence \w+\)\. — by <@\w+>(\n|$)/);
    expect(await silences(harness)).toEqual([]);
    const twice = await harness.driver.command(harness, "unmute", { flow: "orders" });
    expect(twice.public).toBe(false);
    expect(twice.text).toMatch(/orders is not muted/);
    await failOnce(harness);
    expect(harness.driver.messages()).toHaveLength(2);
  });

  it("refuses ack and mute to users off the allow-list, and changes nothing", async () => {
    const harness = await start({
      SLACK_ALLOWED_USERS: "UALICE",
      DISCORD_ALLOWED_USERS: "500000000000000001",
    });
    await failingFlow(harness);
    const { runId } = await failOnce(harness);
    const ack = await harness.driver.command(harness, "ack", { run: runId }, MALLORY);
    expect(ack.public).toBe(false);
    expect(ack.text).toMatch(/not allowed to ack runs/);
    const mute = await harness.driver.command(harness, "mute", { flow: "orders", duration: "1h" }, MALLORY);
    // The same words as a refused Mute… click.
    expect(mute.text).toMatch(/not allowed to mute alerts/);
    const unmute = await harness.driver.command(harness, "unmute", { flow: "orders" }, MALLORY);
    expect(unmute.text).toMatch(/not allowed to unmute alerts/);
    const run = (await (await harness.api(`/api/runs/${runId}`)).json()) as { acked_by: string | null };
    expect(run.acked_by ?? null).toBeNull();
    expect(await silences(harness)).toEqual([]);
  });

  it("`/mend status <flow>` lists only that flow's failed runs; unknown subcommands get the usage", async () => {
    const harness = await start();
    await failingFlow(harness);
    const { runId } = await failOnce(harness);
    expect((await harness.driver.command(harness, "status", { flow: "orders" })).text).toContain(runId);
    const other = await harness.driver.command(harness, "status", { flow: "billing" });
    expect(other.text).toMatch(/No failed runs of billing/);
    const usage = await harness.driver.command(harness, "snooze", {});
    expect(usage.public).toBe(false);
    expect(usage.text).toMatch(/'snooze' is not a \/mend command/);
    expect(usage.text).toMatch(/mute <flow> <1h\|4h\|24h>|mute &lt;flow&gt; &lt;1h\|4h\|24h&gt;/);
  });
});

forEachDriver([discordDriver], "%s", (start) => {
  it("labels each `/mend status` button with the run it acts on", async () => {
    const harness = await start();
    await failingFlow(harness);
    const first = await failOnce(harness);
    harness.upstream.status = 500;
    await harness.clock.advance(400_000);
    const second = await failOnce(harness);
    const status = await harness.driver.command(harness, "status", {});
    expect(status.buttons.length).toBeGreaterThanOrEqual(4);
    for (const b of status.buttons) {
      const run = b.id.split(":")[3]!;
      expect([first.runId, second.runId]).toContain(run);
      expect(b.label).toContain(run.slice(-6));
      expect(b.label).toContain("orders");
    }
  });
});
