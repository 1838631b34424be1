// "Replay with input…" (SPEC §11) on Slack (the fetch bot of Workers and Bolt on Node) and Discord:
// the form opens prefilled, a valid edit replays once with that input and says so in the thread,
// bad input is answered inside the form and starts nothing.
import { expect, it } from "vitest";
import {
  ALL_TRANSPORTS,
  current,
  failingFlow,
  failOnce,
  forEachDriver,
  type Harness,
  type StartHarness,
} from "./harness";

const SCHEMA = {
  type: "object",
  properties: { order: { type: "integer" }, note: { type: "string" } },
  required: ["order"],
};

const replaysOf = async (h: Harness, runId: string) =>
  (await h.deps.runs.listRuns({ flow: "orders", limit: 100 })).runs.filter((r) => r.replayOf === runId);

/** A failed run of `orders` (with SCHEMA) alerted on the driver's platform, and ALICE's open form. */
async function formOnFailedRun(start: StartHarness) {
  const harness = await start();
  await failingFlow(harness, { input: SCHEMA });
  const { runId, message } = await failOnce(harness);
  const form = await harness.driver.openForm(harness, message, "replay_input");
  return { harness, runId, message, form };
}

forEachDriver(ALL_TRANSPORTS, "%s", (start) => {
  it("shows Replay with input… and opens the form prefilled with the run's input as indented JSON", async () => {
    const h = await start();
    await failingFlow(h, { input: SCHEMA });
    const { message } = await failOnce(h, "orders", { order: 1, note: "first" });
    expect(message.buttons.map((b) => b.label)).toContain("Replay with input…");
    const form = await h.driver.openForm(h, message, "replay_input");
    expect(form.notice).toBeUndefined();
    expect(form.prefill).toBe('{\n  "order": 1,\n  "note": "first"\n}');
  });

  it("replays with the edited input, tells the thread the new run id and edits the alert", async () => {
    const { harness, runId, message, form } = await formOnFailedRun(start);
    harness.upstream.status = 200;
    const answer = await form.submit('{ "order": 2, "note": "edited" }');
    expect(answer).toEqual({ status: 200, error: undefined });
    const [replay] = await harness.until(async () => {
      const runs = await replaysOf(harness, runId);
      return runs.length ? runs : undefined;
    });
    expect(replay!.input).toEqual({ order: 2, note: "edited" });
    await harness.until(
      () => harness.driver.replies(message.id).includes(`Replay by @alice with edited input → run ${replay!.id}`),
      5_000,
      "the thread note",
    );
    await harness.until(() => /succeeded/.test(current(harness, message.id).text), 5_000, "the alert edited");
    expect(current(harness, message.id).text).toMatch(/Replay by/);
  });

  it("answers bad JSON and input the schema refuses inside the form, and starts nothing", async () => {
    const { harness, runId, form } = await formOnFailedRun(start);
    const requests = harness.upstream.requests;
    const broken = await form.submit('{ "order": 2');
    expect(broken.status).toBe(200);
    expect(broken.error).toMatch(/not valid JSON/);
    const wrong = await form.submit('{ "order": "two" }');
    expect(wrong.status).toBe(200);
    expect(wrong.error).toMatch(/input schema of flow orders: input\.order/);
    await harness.clock.advance(2_000, 20);
    expect(await replaysOf(harness, runId)).toEqual([]);
    expect(harness.upstream.requests).toBe(requests);
  });

  it("replays once when the same submit arrives twice", async () => {
    const { harness, runId, message, form } = await formOnFailedRun(start);
    const first = await form.submit('{ "order": 3 }');
    // Answered "already done" (or, once the replay has failed again, "this alert has changed").
    const again = await form.submit('{ "order": 3 }');
    expect([first.status, first.error, again.status]).toEqual([200, undefined, 200]);
    await harness.until(async () => (await replaysOf(harness, runId)).length > 0);
    await harness.clock.advance(3_000, 30);
    expect((await replaysOf(harness, runId)).length).toBe(1);
    const notes = harness.driver.replies(message.id).filter((r) => r.includes("with edited input"));
    expect(notes.length).toBe(1);
  });

  it("opens no form for someone off the allow-list, and says so privately", async () => {
    const h = await start({
      SLACK_ALLOWED_USERS: "UBOB",
      DISCORD_ALLOWED_USERS: "500000000000000999",
    });
    await failingFlow(h, { input: SCHEMA });
    const { runId, message } = await failOnce(h);
    const form = await h.driver.openForm(h, message, "replay_input");
    expect(form.prefill).toBeUndefined();
    expect(form.notice).toMatch(/not allowed to replay runs/);
    expect(await replaysOf(h, runId)).toEqual([]);
  });

  it("gives the run page link instead of a form when the input is too long for one", async () => {
    const h = await start();
    await failingFlow(h);
    const { runId, message } = await failOnce(h, "orders", { blob: "x".repeat(4100) });
    const form = await h.driver.openForm(h, message, "replay_input");
    expect(form.prefill).toBeUndefined();
    expect(form.notice).toContain(`https://mend.example/runs/${runId}`);
    expect(await replaysOf(h, runId)).toEqual([]);
  });
});
