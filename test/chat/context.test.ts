// Context in every alert (SPEC §11), once per platform: a failed http step's response (status and
// its body cut to 300 characters, "…" included, redacted), the handler's show_input fields, and its
// templated links as link buttons.
import { expect, it } from "vitest";
import { current, failingFlow, failOnce, forEachPlatform, runStatus, type Msg } from "./harness";

const SECRET = "sk_live_4eC39HqLyjWDarjtT1zdp7dc";

forEachPlatform("%s", (start) => {
  it("shows a failed http step's status and its body cut to 300 characters, secrets redacted", async () => {
    const h = await start({ MEND_SECRET_STRIPE: SECRET });
    await failingFlow(h);
    h.upstream.body = `{"error":"card declined for key ${SECRET}","pad":"${"a".repeat(500)}END"}`;
    const { message } = await failOnce(h);
    expect(message.text).toMatch(/Response[^"]*HTTP 500/);
    expect(message.text).toContain("card declined for key [redacted]");
    expect(message.text).not.toContain(SECRET);
    // 300 characters, the "…" included: `{"error":"card declined for key [redacted]","pad":"` is 51, 248 a's follow.
    expect(message.text).toContain(`${"a".repeat(248)}…`);
    expect(message.text).not.toContain("a".repeat(249));
    expect(message.text).not.toContain("END");
  });

  it("shows the show_input fields (missing ones as missing, long ones cut) and the templated links", async () => {
    const harness = await start();
    await failingFlow(
      harness,
      {},
      {
        config: {
          ...harness.driver.config(),
          show_input: ["customer.id", "customer.note", "customer.plan"],
          links: [
            { text: "Runbook", url: "https://runbook.example/orders?run={{ run.id }}&why={{ error.message }}" },
            { text: "Customer", url: "https://crm.example/c/{{ input.customer.id }}" },
            { text: "Broken", url: "https://crm.example/{{ input.nothing.here }}" },
          ],
        },
      },
    );
    const res = await harness.api("/hooks/orders", { json: { customer: { id: "c 42/x", note: "n".repeat(300) } } });
    const { run_id } = (await res.json()) as { run_id: string };
    await harness.until(async () => (await runStatus(harness, run_id)) === "failed", 10_000, "the run to fail");
    const message = await harness.until(() => harness.driver.messages()[0], 5_000, "the alert");
    expect(message.text).toMatch(/customer\.id[^\n]*c 42\/x/);
    expect(message.text).toContain(`${"n".repeat(99)}…`);
    expect(message.text).not.toContain("n".repeat(100));
    expect(message.text).toMatch(/customer\.plan[^\n]*missing/);
    const error = (await (await harness.api(`/api/runs/${run_id}`)).json()) as { error: { message: string } };
    // Discord also has its own "Open run" link button.
    const links = (m: Msg) => m.links.filter((l) => l.label !== "Open run");
    expect(links(message)).toEqual([
      {
        label: "Runbook",
        url: `https://runbook.example/orders?run=${run_id}&why=${encodeURIComponent(error.error.message)}`,
      },
      { label: "Customer", url: "https://crm.example/c/c%2042%2Fx" },
    ]);
    // The links stay once the alert is closed (a retry fixed it).
    harness.upstream.status = 200;
    await harness.driver.click(harness, message, "retry");
    const closed = await harness.until(
      () => (current(harness, message.id).buttons.length === 0 ? current(harness, message.id) : undefined),
      10_000,
      "the closed alert",
    );
    expect(links(closed).map((l) => l.label)).toEqual(["Runbook", "Customer"]);
  });

  it("refuses link templates that read secrets or make a non-http link, and show_input paths that are not paths", async () => {
    const h = await start();
    const bad = [
      { links: [{ text: "Leak", url: "https://x.example/?k={{ secrets.STRIPE }}" }] },
      { links: [{ text: "Script", url: "javascript:alert(1)" }] },
      { show_input: ["customer..id"] },
    ];
    for (const extra of bad) {
      const res = await h.api("/api/handlers", {
        json: { name: "ops", kind: h.driver.kind, config: { ...h.driver.config(), ...extra } },
      });
      expect(res.status).toBe(400);
      expect(JSON.stringify(await res.json())).toMatch(/links|show_input/);
    }
    expect(((await (await h.api("/api/handlers")).json()) as { handlers: unknown[] }).handlers).toEqual([]);
  });
});
