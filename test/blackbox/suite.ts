// The black-box suite: HTTP in, HTTP out (plus loopback fakes for the upstream and Slack), no
// access to the service's internals. It runs unchanged against every runtime (node.test.ts,
// workers.test.ts): the same behaviour on Node with SQLite and on workerd with D1.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signSlackRequest } from "../../src/chat/slack/verify";
import { startFakeSlack, type Block, type FakeSlack, type SlackMessage } from "../fakes/slack";
import { startFakeDiscord, type FakeDiscord } from "../fakes/discord";
import {
  ALICE as DISCORD_ALICE,
  clickInteraction,
  findButton as discordButton,
  messageText as discordText,
  newKeyPair,
  signInteraction,
  snapshot,
  type KeyPair,
} from "../discord/harness";
import type { StartTarget, Target } from "./targets";
import { startRoutedUpstream, type RoutedUpstream } from "./upstream";

const SIGNING_SECRET = "bb-signing-secret-0123456789abcdef";
const CHANNEL = "C0BLACKBOX";
const ALICE = { id: "UALICE", username: "alice" };
const MALLORY = { id: "UMALLORY", username: "mallory" };
const DISCORD_CHANNEL = "300000000000000042";

type Json = Record<string, any>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 15_000,
  logs?: string[],
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end)
      throw new Error(
        `timed out waiting for ${what}${logs ? `\n--- service output ---\n${logs.slice(-60).join("\n")}` : ""}`,
      );
    await sleep(50);
  }
}

function button(
  message: { blocks: Block[] },
  action: "retry" | "replay" | "mute",
): { block_id: string; action_id: string; value: string } | undefined {
  for (const b of message.blocks) {
    if (b.type !== "actions") continue;
    for (const el of b.elements as Block[])
      if (el.action_id === `mend_${action}`)
        return { block_id: b.block_id as string, action_id: el.action_id as string, value: el.value as string };
  }
  return undefined;
}

function clickBody(
  slack: FakeSlack,
  message: SlackMessage,
  action: "retry" | "replay" | "mute",
  user: { id: string; username: string },
): string {
  const b = button(message, action);
  if (!b) throw new Error(`no ${action} button on ${JSON.stringify(message.blocks)}`);
  const payload = {
    type: "block_actions",
    api_app_id: "A0MEND",
    trigger_id: "1.2.3",
    team: { id: "T1", domain: "fake" },
    user: { id: user.id, username: user.username, name: user.username, team_id: "T1" },
    channel: { id: message.channel, name: "ops" },
    container: { type: "message", message_ts: message.ts, channel_id: message.channel, is_ephemeral: false },
    message: { type: "message", ts: message.ts, text: message.text, blocks: message.blocks },
    response_url: `${slack.url}/response/${message.ts}`,
    actions: [
      {
        type: "button",
        block_id: b.block_id,
        action_id: b.action_id,
        value: b.value,
        action_ts: String(Date.now() / 1000),
      },
    ],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

export function blackboxSuite(name: string, start: StartTarget, opts: { startTimeoutMs?: number } = {}): void {
  describe(`black box: ${name}`, () => {
    let t: Target;
    let up: RoutedUpstream;
    let slack: FakeSlack;
    let discord: FakeDiscord;
    let keys: KeyPair;

    beforeAll(async () => {
      up = await startRoutedUpstream();
      slack = await startFakeSlack();
      discord = await startFakeDiscord();
      keys = newKeyPair();
      t = await start({
        DISCORD_BOT_TOKEN: discord.token,
        DISCORD_PUBLIC_KEY: keys.publicKeyHex,
        DISCORD_APPLICATION_ID: discord.applicationId,
        DISCORD_API_URL: discord.apiUrl,
        DISCORD_ALLOWED_USERS: DISCORD_ALICE.id,
        SLACK_BOT_TOKEN: slack.token,
        SLACK_SIGNING_SECRET: SIGNING_SECRET,
        SLACK_API_URL: slack.apiUrl,
        SLACK_ALLOWED_USERS: ALICE.id,
        MEND_PUBLIC_URL: "https://mend.example",
        MEND_MAX_BODY: "65536",
        // Workers only (Node ignores it): backoffs over 1 s are left to the Ticker's alarm.
        MEND_WORKER_HOLD_MS: "1000",
      });
    }, opts.startTimeoutMs ?? 30_000);

    afterAll(async () => {
      await t?.stop();
      await slack?.close();
      await discord?.close();
      await up?.close();
    }, 30_000);

    const json = async (res: Response) => (await res.json()) as Json;
    const putFlow = async (flow: Json) => t.api(`/api/flows/${String(flow.name)}`, { method: "PUT", json: flow });
    const getRun = async (id: string) => json(await t.api(`/api/runs/${id}`));
    const hook = async (flow: string, input: unknown = {}, wait = true) =>
      t.api(`/hooks/${flow}${wait ? "?wait=true" : ""}`, { method: "POST", json: input });

    it("answers /healthz and stores flows as immutable versions (JSON and YAML), naming bad fields", async () => {
      expect(await json(await t.api("/healthz"))).toEqual({ ok: true });
      const v1 = await putFlow({
        name: "greet",
        description: "says hi",
        steps: [{ id: "hi", compute: { hello: "{{ input.who }}" } }],
      });
      expect(v1.status).toBe(201);
      expect(await json(v1)).toEqual({ name: "greet", version: 1 });
      const same = await putFlow({
        name: "greet",
        description: "says hi",
        steps: [{ id: "hi", compute: { hello: "{{ input.who }}" } }],
      });
      expect(same.status).toBe(200);
      expect((await json(same)).version).toBe(1);
      const yaml =
        "name: greet\ndescription: says hello\nsteps:\n  - id: hi\n    compute: { hello: 'hello {{ input.who }}' }\n";
      const v2 = await t.api("/api/flows/greet", {
        method: "PUT",
        headers: { "content-type": "application/yaml" },
        body: yaml,
      });
      expect(v2.status).toBe(200);
      expect((await json(v2)).version).toBe(2);
      const got = await json(await t.api("/api/flows/greet"));
      expect(got).toMatchObject({ name: "greet", version: 2 });
      expect((got.versions as Json[]).map((v) => v.version)).toEqual([1, 2]);
      expect((await json(await t.api("/api/flows"))).flows).toContainEqual({
        name: "greet",
        version: 2,
        description: "says hello",
      });
      const bad = await putFlow({ name: "broken", steps: [{ id: "x", http: { method: "GET" } }] });
      expect(bad.status).toBe(400);
      const body = await json(bad);
      expect(typeof body.error).toBe("string");
      expect((body.issues as Json[]).some((i) => String(i.path).startsWith("steps.0.http"))).toBe(true);
      expect((await hook("no-such-flow")).status).toBe(404);
      expect(
        (await t.api("/hooks/greet", { method: "POST", headers: { "content-type": "text/plain" }, body: "hi" })).status,
      ).toBe(415);
      expect(
        (
          await t.api("/hooks/greet", {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: "{nope",
          })
        ).status,
      ).toBe(400);
      const big = await hook("greet", { who: "x".repeat(70_000) });
      expect(big.status).toBe(413);
      expect((await json(big)).error).toContain("MEND_MAX_BODY");
      // Chunked bodies (no Content-Length) are counted as they arrive; a BOM is not part of the JSON.
      const chunked = (text: string) =>
        t.api("/hooks/greet?wait=true", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: new Blob([text]).stream(),
          duplex: "half",
        } as RequestInit);
      const streamedBig = await chunked(JSON.stringify({ who: "x".repeat(70_000) }));
      expect(streamedBig.status).toBe(413);
      const streamed = await chunked('\uFEFF{"who":"streamed ünïcode"}');
      expect(streamed.status).toBe(200);
      expect((await json(streamed)).output).toEqual({ hello: "hello streamed ünïcode" });
    });

    it("runs a flow synchronously: compute → http POST to the upstream → compute (?wait=true)", async () => {
      up.script("/orders", [{ status: 201, body: { id: "ord_1", total: 42 } }]);
      await putFlow({
        name: "sync",
        steps: [
          { id: "prepare", compute: { sku: "{{ input.sku }}", qty: 2 } },
          { id: "create", http: { method: "POST", url: `${up.url}/orders`, body: "{{ steps.prepare }}" } },
          {
            id: "format",
            compute: {
              order: "{{ steps.create.body.id }}",
              total: "{{ steps.create.body.total }}",
              status: "{{ steps.create.status }}",
            },
          },
        ],
      });
      const res = await hook("sync", { sku: "abc" });
      expect(res.status).toBe(200);
      const body = await json(res);
      expect(body).toMatchObject({ status: "succeeded", output: { order: "ord_1", total: 42, status: 201 } });
      const [req] = up.requests("/orders");
      expect(JSON.parse(req!.body)).toEqual({ sku: "abc", qty: 2 });
      expect(req!.headers["idempotency-key"]).toBeTruthy();
      const run = await getRun(body.run_id as string);
      expect(run).toMatchObject({ id: body.run_id, flow: "sync", flow_version: 1, status: "succeeded" });
      expect((run.steps as Json[]).map((s) => `${s.step}#${s.attempt}:${s.status}`)).toEqual([
        "prepare#1:succeeded",
        "create#1:succeeded",
        "format#1:succeeded",
      ]);
      const list = await json(await t.api("/api/runs?flow=sync"));
      expect((list.runs as Json[])[0]).toMatchObject({ id: body.run_id, status: "succeeded" });
    });

    it("retries a failing step with backoff while the caller waits, same Idempotency-Key each time", async () => {
      up.script(
        "/flaky",
        [
          { status: 503, body: { e: 1 } },
          { status: 503, body: { e: 2 } },
        ],
        { status: 200, body: { fine: true } },
      );
      await putFlow({
        name: "flaky",
        retry: { max_attempts: 3, backoff: "constant", delay_ms: 150 },
        steps: [{ id: "call", http: { method: "GET", url: `${up.url}/flaky` } }],
      });
      const res = await hook("flaky");
      expect(res.status).toBe(200);
      const body = await json(res);
      expect(body).toMatchObject({ status: "succeeded", output: { status: 200, body: { fine: true } } });
      const reqs = up.requests("/flaky");
      expect(reqs).toHaveLength(3);
      expect(new Set(reqs.map((r) => r.headers["idempotency-key"])).size).toBe(1);
      expect(reqs[1]!.at - reqs[0]!.at).toBeGreaterThanOrEqual(120);
      const run = await getRun(body.run_id as string);
      expect((run.steps as Json[]).map((s) => s.status)).toEqual(["failed", "failed", "succeeded"]);
    });

    it("acts on runs through the actions service: retry of a recovered run once per Idempotency-Key, ack, resolve, bulk", async () => {
      up.script("/act", [{ status: 500, body: { down: true } }], { status: 200, body: { up: true } });
      const steps = [{ id: "call", http: { method: "GET", url: `${up.url}/act` }, retry: { max_attempts: 1 } }];
      await putFlow({ name: "act", steps, on_failure: [{ id: "fallback", compute: { fallback: true } }] });
      const first = await json(await hook("act"));
      expect(first.status).toBe("recovered");
      const id = first.run_id as string;
      const retry = () =>
        t.api(`/api/runs/${id}/retry`, { method: "POST", headers: { "idempotency-key": "bb-retry-1" } });
      const a = await retry();
      expect(a.status).toBe(202);
      const done = await until("the retried run to end", async () => {
        const run = await getRun(id);
        return run.status === "succeeded" ? run : undefined;
      });
      expect(done.output).toMatchObject({ status: 200, body: { up: true } });
      const b = await retry();
      expect(b.headers.get("idempotent-replayed")).toBe("true");
      expect(await json(b)).toEqual({ run_id: id, status: "queued" });
      expect(up.requests("/act")).toHaveLength(2);

      const ack = (by: string) => t.api(`/api/runs/${id}/ack`, { method: "POST", json: { by } });
      const acked = await json(await ack("alice"));
      expect(await json(await ack("bob"))).toEqual(acked);
      const resolved = await json(
        await t.api(`/api/runs/${id}/resolve`, { method: "POST", json: { by: "carol", note: "ok" } }),
      );
      expect(resolved).toMatchObject({ status: "succeeded", resolved_by: "carol", resolution_note: "ok" });
      expect(await getRun(id)).toMatchObject({ acked_by: "alice", resolved_by: "carol", messages: [] });

      const bulk = await t.api("/api/runs/bulk", {
        method: "POST",
        json: { action: "replay", filter: { flow: "act" } },
      });
      expect(bulk.status).toBe(202);
      expect((await json(bulk)).accepted).toEqual([{ run_id: id, new_run_id: expect.any(String) }]);
    });

    it("resumes a run after a backoff longer than the request that started it", async () => {
      up.script("/later", [{ status: 500, body: { down: true } }], { status: 200, body: { up: true } });
      await putFlow({
        name: "later",
        retry: { max_attempts: 2, backoff: "constant", delay_ms: 1_500 },
        steps: [{ id: "call", http: { method: "GET", url: `${up.url}/later` } }],
      });
      const res = await hook("later", {}, false);
      expect(res.status).toBe(202);
      const { run_id } = await json(res);
      const seen = new Set<string>();
      const done = await until(
        "the run to succeed after its backoff",
        async () => {
          const run = await getRun(run_id as string);
          seen.add(String(run.status));
          return run.status === "succeeded" ? run : undefined;
        },
        20_000,
        t.logs,
      );
      expect(seen.has("retrying")).toBe(true);
      expect(done.output).toMatchObject({ body: { up: true } });
      const reqs = up.requests("/later");
      expect(reqs).toHaveLength(2);
      expect(reqs[1]!.at - reqs[0]!.at).toBeGreaterThanOrEqual(1_400);
    });

    it("runs on_failure once a step has used its attempts: recovered, with the error in scope", async () => {
      up.script("/broken", [], { status: 500, body: { error: "db down" } });
      await putFlow({
        name: "fallback",
        retry: { max_attempts: 2, backoff: "constant", delay_ms: 50 },
        steps: [{ id: "fetch", http: { method: "GET", url: `${up.url}/broken` } }],
        on_failure: [
          {
            id: "fallback",
            compute: {
              source: "fallback",
              type: "{{ error.type }}",
              step: "{{ error.step }}",
              attempts: "{{ error.attempts }}",
              status: "{{ failed.status }}",
            },
          },
        ],
      });
      const res = await hook("fallback");
      expect(res.status).toBe(200);
      expect(await json(res)).toMatchObject({
        status: "recovered",
        output: { source: "fallback", type: "http_status", step: "fetch", attempts: 2, status: 500 },
      });
      expect(up.requests("/broken")).toHaveLength(2);
    });

    it("control flow: when skips a step, parallel branches, a for_each and a child flow with parent_run", async () => {
      up.script("/branch", [], { status: 200, body: { ok: 1 } });
      expect(
        (await putFlow({ name: "bb-child", steps: [{ id: "c", compute: { got: "{{ input.x }}" } }] })).status,
      ).toBe(201);
      const control = await putFlow({
        name: "bb-control",
        steps: [
          { id: "skip_me", when: "{{ input.skip }}", compute: "ran" },
          {
            id: "par",
            parallel: {
              branches: {
                a: [{ id: "call", http: { method: "GET", url: `${up.url}/branch` } }],
                b: [{ id: "b1", compute: 2 }],
              },
            },
          },
          {
            id: "fan",
            for_each: {
              items: "{{ input.items }}",
              steps: [{ id: "sq", compute: { i: "{{ index }}", v: "{{ item }}" } }],
            },
          },
          { id: "sub", flow: { name: "bb-child", input: { x: "{{ steps.par.b }}" } } },
          {
            id: "out",
            compute: {
              skipped: "{{ steps.skip_me }}",
              a: "{{ steps.par.a.status }}",
              fan: "{{ steps.fan }}",
              sub: "{{ steps.sub }}",
            },
          },
        ],
      });
      expect(control.status).toBe(201);
      const res = await hook("bb-control", { skip: false, items: ["p", "q"] });
      expect(res.status).toBe(200);
      const body = await json(res);
      expect(body).toMatchObject({
        status: "succeeded",
        output: {
          skipped: null,
          a: 200,
          fan: [
            { i: 0, v: "p" },
            { i: 1, v: "q" },
          ],
          sub: { got: 2 },
        },
      });
      const run = await getRun(body.run_id as string);
      const ledger = (run.steps as Json[]).map((s) => `${s.step}:${s.status}`);
      expect(ledger).toEqual(
        expect.arrayContaining([
          "skip_me:skipped",
          "par.a.call:succeeded",
          "par.b.b1:succeeded",
          "fan[1].sq:succeeded",
          "sub:succeeded",
        ]),
      );
      const child = ((await json(await t.api("/api/runs?flow=bb-child"))).runs as Json[])[0]!;
      expect((await getRun(child.id as string)).parent_run).toBe(body.run_id);
    });

    it("answers a run whose handler fails too with the layered error object", async () => {
      await putFlow({
        name: "hopeless",
        error: {
          status: 503,
          message: "orders unavailable: {{ error.message }}",
          headers: { "retry-after": "30" },
          body: { hint: "try later" },
        },
        steps: [{ id: "guard", fail: { message: "stock check failed", type: "validation" } }],
        on_failure: [{ id: "compensate", fail: { message: "compensation failed" } }],
      });
      const res = await hook("hopeless");
      expect(res.status).toBe(503);
      expect(res.headers.get("retry-after")).toBe("30");
      const body = await json(res);
      expect(body).toMatchObject({
        status: "failed",
        hint: "try later",
        error: { type: "runtime", step: "compensate" },
      });
      expect(String((body.error as Json).message)).toContain("orders unavailable");
      const run = await getRun(body.run_id as string);
      expect(run).toMatchObject({ status: "failed", error: { step: "compensate" } });
      expect((run.steps as Json[]).map((s) => `${s.step}:${s.status}`)).toEqual(["guard:failed", "compensate:failed"]);
    });

    it("Slack: alerts a failure, a signed Retry click reruns it once and the message shows the outcome", async () => {
      const h = await t.api("/api/handlers", {
        method: "POST",
        json: { name: "ops-slack", kind: "slack", config: { channel: CHANNEL }, match: { flows: ["charge"] } },
      });
      expect(h.status).toBe(201);
      up.script("/charge", [{ status: 500, body: { error: "card service down" } }], {
        status: 200,
        body: { charged: true },
      });
      await putFlow({ name: "charge", steps: [{ id: "charge", http: { method: "POST", url: `${up.url}/charge` } }] });
      const failed = await hook("charge", { order: 7 });
      expect(failed.status).toBe(500);
      const runId = (await json(failed)).run_id as string;

      const message = await until(
        "the Slack alert",
        async () => slack.messages.find((m) => m.text.includes(runId) || JSON.stringify(m.blocks).includes(runId)),
        15_000,
        t.logs,
      );
      expect(message.channel).toBe(CHANNEL);
      expect(JSON.stringify(message.blocks)).toContain("http_status");
      expect(JSON.stringify(message.blocks)).toContain(`https://mend.example/runs/${runId}`);
      const view = await until("the alert in the run's ledger", async () => {
        const run = await getRun(runId);
        return (run.alerts as Json[]).find((a) => a.kind === "slack" && a.status === "delivered");
      });
      expect(view.response).toMatchObject({ ts: message.ts });

      // A bad signature changes nothing.
      const forged = clickBody(slack, message, "retry", ALICE);
      const badHeaders = await signSlackRequest("wrong-secret", forged, Math.floor(Date.now() / 1000));
      const bad = await t.api("/slack/events", {
        method: "POST",
        headers: { ...badHeaders, "content-type": "application/x-www-form-urlencoded" },
        body: forged,
      });
      expect(bad.status).toBe(401);

      // Someone off the allow-list gets a private "not allowed" and nothing runs.
      const mBody = clickBody(slack, message, "retry", MALLORY);
      const denied = await t.api("/slack/events", {
        method: "POST",
        headers: {
          ...(await signSlackRequest(SIGNING_SECRET, mBody, Math.floor(Date.now() / 1000))),
          "content-type": "application/x-www-form-urlencoded",
        },
        body: mBody,
      });
      expect(denied.status).toBe(200);
      await until("the ephemeral refusal", async () =>
        slack.callsOf("chat.postEphemeral", true).find((c) => c.args.user === MALLORY.id),
      );
      expect(up.requests("/charge")).toHaveLength(1);

      // Alice clicks Retry twice: acked at once, the run is retried exactly once.
      const body = clickBody(slack, message, "retry", ALICE);
      const headers = {
        ...(await signSlackRequest(SIGNING_SECRET, body, Math.floor(Date.now() / 1000))),
        "content-type": "application/x-www-form-urlencoded",
      };
      const t0 = Date.now();
      const ok = await t.api("/slack/events", { method: "POST", headers, body });
      expect(ok.status).toBe(200);
      expect(Date.now() - t0).toBeLessThan(2_500);
      const again = await t.api("/slack/events", { method: "POST", headers, body });
      expect(again.status).toBe(200);

      await until(
        "the retried run to succeed",
        async () => ((await getRun(runId)).status === "succeeded" ? true : undefined),
        15_000,
        t.logs,
      );
      const edited = await until(
        "the alert edited with the outcome",
        async () =>
          message.versions.some((v) => /succeeded/.test(v.text + JSON.stringify(v.blocks))) ? message : undefined,
        15_000,
        t.logs,
      );
      const last = edited.versions[edited.versions.length - 1]!;
      expect(last.text + JSON.stringify(last.blocks)).toContain(`<@${ALICE.id}>`);
      expect(button(last, "retry")).toBeUndefined();
      for (const u of slack.callsOf("chat.update", true))
        expect(u.args).toMatchObject({ channel: CHANNEL, ts: message.ts });
      expect(up.requests("/charge")).toHaveLength(2);
      await sleep(300);
      expect(up.requests("/charge")).toHaveLength(2);
    });

    it("Slack: /mend status lists recent failed runs with buttons, answered in the ack", async () => {
      const form = new URLSearchParams({
        command: "/mend",
        text: "status",
        user_id: ALICE.id,
        user_name: ALICE.username,
        channel_id: CHANNEL,
        team_id: "T1",
        response_url: `${slack.url}/response/cmd-1`,
        trigger_id: "1.2.4",
      }).toString();
      const headers = {
        ...(await signSlackRequest(SIGNING_SECRET, form, Math.floor(Date.now() / 1000))),
        "content-type": "application/x-www-form-urlencoded",
      };
      const res = await t.api("/slack/events", { method: "POST", headers, body: form });
      expect(res.status).toBe(200);
      const body = await json(res);
      expect(body.response_type).toBe("ephemeral");
      expect(String(body.text)).toContain("hopeless");
      expect(JSON.stringify(body.blocks)).toContain("mend_retry");
    });

    it("Discord: alerts a failure, a signed Retry click reruns it and the message shows the outcome", async () => {
      const h = await t.api("/api/handlers", {
        method: "POST",
        json: {
          name: "ops-discord",
          kind: "discord",
          config: { channel_id: DISCORD_CHANNEL },
          match: { flows: ["refund"] },
        },
      });
      expect(h.status).toBe(201);
      up.script("/refund", [{ status: 500, body: { error: "ledger locked" } }], {
        status: 200,
        body: { refunded: true },
      });
      await putFlow({ name: "refund", steps: [{ id: "refund", http: { method: "POST", url: `${up.url}/refund` } }] });
      const failed = await hook("refund", { order: 9 });
      expect(failed.status).toBe(500);
      const runId = (await json(failed)).run_id as string;

      const posted = await until(
        "the Discord alert",
        async () => discord.messages.find((m) => discordText(m).includes(runId)),
        15_000,
        t.logs,
      );
      expect(posted.channel_id).toBe(DISCORD_CHANNEL);
      const message = snapshot(posted);
      expect(discordText(message)).toContain("http_status");

      // A bad signature changes nothing.
      const body = JSON.stringify(clickInteraction({ discord }, message, "retry", DISCORD_ALICE));
      const forged = await t.api("/discord/interactions", {
        method: "POST",
        headers: { ...signInteraction(newKeyPair().privateKey, body), "content-type": "application/json" },
        body,
      });
      expect(forged.status).toBe(401);

      const res = await t.api("/discord/interactions", {
        method: "POST",
        headers: { ...signInteraction(keys.privateKey, body), "content-type": "application/json" },
        body,
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ type: 6 });
      await until(
        "the retried run to succeed",
        async () => ((await getRun(runId)).status === "succeeded" ? true : undefined),
        15_000,
        t.logs,
      );
      const edited = await until(
        "the alert edited with the outcome",
        async () => (posted.versions.some((v) => /succeeded/.test(discordText(v))) ? posted : undefined),
        15_000,
        t.logs,
      );
      const last = edited.versions[edited.versions.length - 1]!;
      expect(discordText(last)).toContain(`<@${DISCORD_ALICE.id}>`);
      expect(discordButton(edited, "retry")).toBeUndefined();
      expect(up.requests("/refund")).toHaveLength(2);
    });
  });
}
