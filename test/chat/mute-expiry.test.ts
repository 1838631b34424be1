// A timed mute that runs out by itself (Mute… 1 h, `/mend mute <flow> 1h`): every message it was shown
// on is redrawn once its time is up (the Muted line gone, Mute… back instead of Unmute), also after a
// restart in between, and never a second time. Once per platform, in-process on the fake clock.
import { afterEach, describe, expect, it } from "vitest";
import { createServices } from "../../src/services";
import type { Scheduler } from "../../src/scheduler";
import {
  current,
  DRIVERS,
  failingFlow,
  failOnce,
  startHarness,
  type DiscordDriver,
  type Driver,
  type Harness,
  type Msg,
  type SlackDriver,
} from "./harness";

let h: Harness | undefined;
let restarted: Scheduler | undefined;
afterEach(async () => {
  restarted?.stop();
  restarted = undefined;
  await h?.close();
  h = undefined;
});

const HOUR = 3_600_000;
const OTHER = { slack: "C0OTHER", discord: "300000000000000002" } as const;
const labels = (m: Msg) => m.buttons.map((b) => b.label.toLowerCase());
const isMuted = (m: Msg) => /Muted by/.test(m.text) && labels(m).includes("unmute") && !labels(m).includes("mute…");
const isUnmuted = (m: Msg) => !/Muted by/.test(m.text) && labels(m).includes("mute…") && !labels(m).includes("unmute");

/** How often the platform was asked to edit message `id` (successful edits). */
function edits(h: Harness, id: string): number {
  if (h.driver.kind === "slack")
    return (h.driver as SlackDriver)
      .fake()
      .callsOf("chat.update", true)
      .filter((c) => c.args.ts === id).length;
  return (h.driver as DiscordDriver).fake().callsOf("PATCH", new RegExp(`/messages/${id}$`), true).length;
}

/**
 * Lets `ms` of fake time go by with the scheduler stopped, then starts it again (it reads what is due
 * from the rows): hours of 1 s polls would cost the suite seconds each. Only for spans where nothing
 * is due, or to show that what fell due meanwhile is done on the first pass.
 */
async function pass(h: Harness, ms: number): Promise<void> {
  h.scheduler.stop();
  await h.clock.advance(ms, 1);
  h.scheduler.start();
  await h.clock.advance(0, 20);
}

async function shown(h: Harness, id: string, probe: (m: Msg) => boolean, what: string): Promise<Msg> {
  return h.until(() => (probe(current(h, id)) ? current(h, id) : undefined), 5_000, what);
}

describe.each(DRIVERS.map((d) => [d().kind, d] as const))("%s", (_kind, makeDriver: () => Driver) => {
  it("Mute… 1 h that runs out redraws every message of the run once: the Muted line goes and Mute… is back", async () => {
    h = await startHarness(makeDriver());
    const harness = h;
    await failingFlow(harness);
    // A second channel: the run has two messages, both say muted, both are redrawn.
    const second = await harness.api("/api/handlers", {
      json: { name: "ops-2", kind: harness.driver.kind, config: harness.driver.config(OTHER[harness.driver.kind]) },
    });
    expect(second.status).toBe(201);
    const { runId, message } = await failOnce(harness);
    const both = await harness.until(
      () => {
        const ms = harness.driver.messages().filter((m) => m.text.includes(runId) && m.buttons.length > 0);
        return ms.length === 2 ? ms : undefined;
      },
      5_000,
      "a message in each channel",
    );
    await harness.driver.click(harness, message, "mute", "1h");
    for (const m of both) await shown(harness, m.id, isMuted, "the muted message");
    const before = both.map((m) => edits(harness, m.id));

    await pass(harness, HOUR - 60_000);
    expect(both.map((m) => isMuted(current(harness, m.id)))).toEqual([true, true]);
    await harness.clock.advance(60_000, 5);
    for (const m of both) await shown(harness, m.id, isUnmuted, "the message unmuted by the time");
    expect(both.map((m) => edits(harness, m.id))).toEqual(before.map((n) => n + 1));
    await harness.clock.advance(60_000, 5);
    await pass(harness, HOUR);
    expect(both.map((m) => edits(harness, m.id))).toEqual(before.map((n) => n + 1));
    await harness.driver.click(harness, current(harness, message.id), "mute", "4h");
    await shown(harness, message.id, isMuted, "muted again");
  });

  it("Unmute clicked before the end: no second edit when the hour is up", async () => {
    h = await startHarness(makeDriver());
    const harness = h;
    await failingFlow(harness);
    const { message } = await failOnce(harness);
    await harness.driver.click(harness, message, "mute", "1h");
    const muted = await shown(harness, message.id, isMuted, "the muted message");
    await harness.driver.click(harness, muted, "unmute");
    await shown(harness, message.id, isUnmuted, "Mute… again");
    const after = edits(harness, message.id);
    const replies = harness.driver.replies(message.id).length;
    await pass(harness, HOUR);
    await harness.clock.advance(60_000, 5);
    expect(edits(harness, message.id)).toBe(after);
    expect(harness.driver.replies(message.id)).toHaveLength(replies);
  });

  it("`/mend mute <flow> 1h` ends on time after a restart: the new process redraws the message", async () => {
    h = await startHarness(makeDriver());
    const harness = h;
    await failingFlow(harness);
    const { message } = await failOnce(harness);
    const mute = await harness.driver.command(harness, "mute", { flow: "orders", duration: "1h" });
    expect(mute.text).toMatch(/Muted every alert of orders/);
    await shown(harness, message.id, isMuted, "the muted message");
    // A restart: this process stops; a new one on the same database knows nothing but the rows.
    harness.scheduler.stop();
    const { deps, scheduler } = createServices({
      config: harness.deps.config,
      db: harness.deps.db,
      clock: harness.clock,
      fetch: harness.deps.fetch,
      log: (level, msg) => harness.logs.push(`${level} ${msg}`),
      // No poll in the hour: the end is met by the scheduler's timer, set from what the rows say is due.
      pollMs: 6 * HOUR,
    });
    restarted = scheduler;
    scheduler.start();
    const before = edits(harness, message.id);
    await harness.clock.advance(HOUR + 1_000, 5);
    await shown(harness, message.id, isUnmuted, "the message unmuted by the time");
    expect(edits(harness, message.id)).toBe(before + 1);
    expect(await deps.alerts.nextMuteEnd()).toBeNull();
  });
});
