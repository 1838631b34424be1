// Handlers completed: POST /api/handlers/:id/test, URL refusals when registered and when sent
// (after DNS, across redirects), MEND_BLOCK_PRIVATE_URLS, and delivery visibility on the run.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../api/server";
import { startUpstream, type Upstream } from "../fakes/upstream";
import { createHandler, failRun, getRun, json, verified, waitUntil } from "./helpers";

let s: TestServer;
let up: Upstream;
// DNS the server sees: names under .test resolve to whatever the test says.
const dns = new Map<string, string[]>();

beforeAll(async () => {
  up = await startUpstream();
  s = await startTestServer(
    {},
    {
      outboxSchedule: [40, 40],
      lookup: async (host) => dns.get(host) ?? [],
      senders: {
        // Stands in for the Slack sender: answers with the posted message's ids.
        slack: async () => ({ ok: true, channel: "C0123", ts: "1700000000.000100" }),
      },
    },
  );
});
afterAll(async () => {
  await s.stop();
  await up.close();
});

const register = (body: unknown) => s.api("/api/handlers", { method: "POST", json: body });
const test = (id: string) => s.api(`/api/handlers/${id}/test`, { method: "POST" });

describe("POST /api/handlers/:id/test", () => {
  it("sends a sample alert now and answers with what the target said", async () => {
    const h = await createHandler(s, {
      name: "try-me",
      kind: "webhook",
      config: { url: `${up.url}/try` },
      match: { flows: ["none"] },
    });
    up.script([{ status: 201, body: { received: true } }]);
    const res = await test(h.id);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      ok: true,
      handler_id: h.id,
      kind: "webhook",
      response: { status: 201, body: { received: true } },
    });
    const req = up.requests.filter((r) => r.path === "/try").at(-1)!;
    expect(verified(h.config.secret, req)).toMatchObject({
      type: "run.failed",
      data: {
        run: { flow: "mend-test", status: "failed" },
        error: { message: "This is a test alert from mend for handler 'try-me'" },
      },
    });
  });

  it("answers 502 with the target's error, and 404 for an unknown handler", async () => {
    const h = await createHandler(s, {
      name: "grumpy",
      kind: "webhook",
      config: { url: `${up.url}/grumpy` },
      match: { flows: ["none"] },
    });
    up.script([{ status: 401, body: { error: "bad signature" } }]);
    const res = await test(h.id);
    expect(res.status).toBe(502);
    expect(await res.json()).toMatchObject({
      ok: false,
      error: `POST ${up.url}/grumpy answered 401`,
      response: { status: 401, body: { error: "bad signature" } },
    });
    expect((await test("nope")).status).toBe(404);
  });
});

describe("outbound URL safety", () => {
  it("refuses metadata and link-local handler URLs when registered, with 400 naming the field and the reason", async () => {
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [
        { kind: "webhook", config: { url: "http://169.254.169.254/latest/meta-data/" } },
        "config.url",
        /169\.254\.169\.254 is a link-local/,
      ],
      [
        { kind: "webhook", config: { url: "http://metadata.google.internal/computeMetadata/v1/" } },
        "config.url",
        /metadata\.google\.internal is a cloud metadata host/,
      ],
      [
        { kind: "slack", config: { webhook_url: "http://[fd00:ec2::254]/hook" } },
        "config.webhook_url",
        /fd00:ec2::254 is a cloud metadata address/,
      ],
      [
        { kind: "discord", config: { webhook_url: "http://[::ffff:169.254.169.254]/api/webhooks/1/x" } },
        "config.webhook_url",
        /link-local/,
      ],
    ];
    const before = (await json<{ handlers: unknown[] }>(s.api("/api/handlers"))).handlers.length;
    for (const [body, path, reason] of cases) {
      const res = await register({ name: "bad", ...body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      const answer = await res.json();
      expect(answer.error).toMatch(/^refused config\./);
      expect(answer.issues).toEqual([{ path, message: expect.stringMatching(reason) }]);
    }
    expect((await json<{ handlers: unknown[] }>(s.api("/api/handlers"))).handlers.length).toBe(before);
  });

  it("refuses a name resolving to a metadata address, and a PATCH to one, changing nothing", async () => {
    dns.set("meta.test", ["169.254.169.254"]);
    const res = await register({ name: "sneaky", kind: "webhook", config: { url: "http://meta.test/x" } });
    expect(res.status).toBe(400);
    expect((await res.json()).issues[0]).toEqual({
      path: "config.url",
      message: "meta.test resolves to 169.254.169.254, a link-local / cloud metadata address (169.254.0.0/16)",
    });

    const h = await createHandler(s, {
      name: "patch-me",
      kind: "webhook",
      config: { url: `${up.url}/ok` },
      match: { flows: ["none"] },
    });
    const patched = await s.api(`/api/handlers/${h.id}`, {
      method: "PATCH",
      json: { config: { url: "http://meta.test/x" } },
    });
    expect(patched.status).toBe(400);
    expect((await patched.json()).issues[0].path).toBe("config.url");
    expect((await json<{ config: { url: string } }>(s.api(`/api/handlers/${h.id}`))).config.url).toBe(`${up.url}/ok`);
  });

  it("checks again when sending: a name that now resolves to a metadata address is refused (test → 400, outbox → failed, not retried)", async () => {
    dns.set("rebind.test", ["93.184.216.34"]);
    const h = await createHandler(s, {
      name: "rebind",
      kind: "webhook",
      config: { url: "http://rebind.test/hook" },
      match: { flows: ["rebound"] },
    });
    dns.set("rebind.test", ["169.254.169.254"]);
    const res = await test(h.id);
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.error).toBe(
      "refused to call http://rebind.test/hook: rebind.test resolves to 169.254.169.254, a link-local / cloud metadata address (169.254.0.0/16)",
    );
    expect(body.issues).toEqual([
      { path: "config.url", message: expect.stringMatching(/^rebind\.test resolves to 169\.254\.169\.254/) },
    ]);

    await s.putFlow({ name: "rebound", steps: [{ id: "x", fail: { message: "boom" } }] });
    const runId = await failRun(s, "rebound");
    await waitUntil(async () => (await getRun(s, runId)).alerts[0]?.status === "failed");
    expect((await getRun(s, runId)).alerts[0]).toMatchObject({
      status: "failed",
      attempts: 1,
      last_error: expect.stringMatching(
        /^refused to call http:\/\/rebind\.test\/hook: rebind\.test resolves to 169\.254\.169\.254/,
      ),
    });
  });

  it("does not follow a redirect to a refused address, and follows one to an allowed address", async () => {
    const h = await createHandler(s, {
      name: "redirector",
      kind: "webhook",
      config: { url: `${up.url}/moved` },
      match: { flows: ["none"] },
    });
    up.script([{ status: 302, headers: { location: "http://169.254.169.254/latest/meta-data/iam" } }]);
    const refused = await test(h.id);
    expect(refused.status).toBe(400);
    expect((await refused.json()).error).toMatch(/redirect target 169\.254\.169\.254 is a link-local/);

    up.script([
      { status: 307, headers: { location: "/new-home" } },
      { status: 200, body: { here: true } },
    ]);
    const followed = await test(h.id);
    expect(followed.status).toBe(200);
    expect((await followed.json()).response).toEqual({ status: 200, body: { here: true } });
    const last = up.requests.at(-1)!;
    expect(last).toMatchObject({ method: "POST", path: "/new-home" });
    expect(verified(h.config.secret, last)).toMatchObject({ type: "run.failed" });
  });

  it("refuses private addresses only with MEND_BLOCK_PRIVATE_URLS=true", async () => {
    const strict = await startTestServer(
      { MEND_BLOCK_PRIVATE_URLS: "true", MEND_WEBHOOK_SECRET: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" },
      { lookup: async () => ["10.1.2.3"] },
    );
    try {
      for (const [url, reason] of [
        [
          "http://127.0.0.1:8080/hook",
          /127\.0\.0\.1 is a loopback address \(127\.0\.0\.0\/8\), refused because MEND_BLOCK_PRIVATE_URLS=true/,
        ],
        ["http://192.168.1.20/hook", /private address \(192\.168\.0\.0\/16\)/],
        ["http://[::1]:9000/hook", /loopback address \(::1\)/],
        [
          "http://intranet.example/hook",
          /intranet\.example resolves to 10\.1\.2\.3, a private address \(10\.0\.0\.0\/8\)/,
        ],
      ] as const) {
        const res = await strict.api("/api/handlers", {
          method: "POST",
          json: { name: "p", kind: "webhook", config: { url } },
        });
        expect(res.status, url).toBe(400);
        expect((await res.json()).issues[0].message).toMatch(reason);
      }
      const failure = await strict.api("/api/failures", {
        method: "POST",
        json: { source: "ci", job: "j", error: { message: "m" }, retry_url: "http://10.0.0.5/retry" },
      });
      expect(failure.status).toBe(400);
      expect((await failure.json()).issues).toEqual([
        { path: "retry_url", message: expect.stringMatching(/10\.0\.0\.5 is a private address/) },
      ]);
    } finally {
      await strict.stop();
    }
    // the default server accepts loopback (the tests themselves run on 127.0.0.1)
    expect(
      (
        await register({
          name: "loopback-ok",
          kind: "webhook",
          config: { url: "http://127.0.0.1:8080/hook" },
          match: { flows: ["none"] },
        })
      ).status,
    ).toBe(201);
  });

  it("rejects a webhook secret the Standard Webhooks library cannot use", async () => {
    const res = await register({
      name: "bad-secret",
      kind: "webhook",
      config: { url: `${up.url}/x`, secret: "whsec_not base64!" },
    });
    expect(res.status).toBe(400);
    expect((await res.json()).issues[0]).toMatchObject({
      path: "config.secret",
      message: expect.stringMatching(/base64/),
    });
  });
});

describe("GET /api/runs/:id delivery visibility", () => {
  it("lists each alert with its handler, status, attempts, last error and platform message id", async () => {
    const chat = await createHandler(s, {
      name: "ops-chat",
      kind: "slack",
      config: { channel: "C0123" },
      match: { flows: ["visible"] },
    });
    const hook = await createHandler(s, {
      name: "ops-hook",
      kind: "webhook",
      config: { url: `${up.url}/visible` },
      match: { flows: ["visible"] },
    });
    up.script([{ status: 500, body: "oops" }]);
    await s.putFlow({ name: "visible", steps: [{ id: "x", fail: { message: "boom" } }] });
    const runId = await failRun(s, "visible");
    await waitUntil(async () =>
      ((await getRun(s, runId)).alerts as { status: string }[]).every((a) => a.status === "delivered"),
    );
    const alerts = (await getRun(s, runId)).alerts as Record<string, unknown>[];
    expect(alerts.find((a) => a.handler_id === chat.id)).toMatchObject({
      handler_name: "ops-chat",
      kind: "slack",
      status: "delivered",
      attempts: 1,
      last_error: null,
      message_id: "1700000000.000100",
    });
    expect(alerts.find((a) => a.handler_id === hook.id)).toMatchObject({
      handler_name: "ops-hook",
      kind: "webhook",
      status: "delivered",
      attempts: 2,
      last_error: null,
      message_id: null,
    });
  });
});
