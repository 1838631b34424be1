// What only Slack does (the shared behaviour is in platforms.test.ts).
import { expect, it } from "vitest";
import { forEachDriver, signedSlack, slackDriver } from "./harness";

forEachDriver([slackDriver], "%s requests", (start) => {
  it("answers a signed block_actions without a user with 400 naming it, and runs nothing", async () => {
    const h = await start();
    const payload = {
      type: "block_actions",
      actions: [{ action_id: "mend_retry", value: "mend:retry::R1:1" }],
      team: { id: "T1" },
    };
    const res = await signedSlack(h, new URLSearchParams({ payload: JSON.stringify(payload) }).toString());
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: "block_actions payload has no user.id" });
    expect(h.upstream.requests).toBe(0);
  });

  it("answers a signed view_submission without a user with 400 naming it, and runs nothing", async () => {
    const h = await start();
    const payload = { type: "view_submission", view: { callback_id: "mend_replay", private_metadata: "{}" } };
    const res = await signedSlack(h, new URLSearchParams({ payload: JSON.stringify(payload) }).toString());
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: "view_submission payload has no user.id" });
  });
});
