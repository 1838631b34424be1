// Unit tests of the pieces: Ed25519 verification, the embed and components within Discord's limits,
// the allow-list rule, nonces, and how REST failures map to outbox decisions.
import { DiscordAPIError, HTTPError, RateLimitError } from "@discordjs/rest";
import { describe, expect, it } from "vitest";
import { ComponentType, type APIStringSelectComponent } from "discord-api-types/v10";
import { buildAlert } from "../../src/chat/model";
import { alertMessage, escapeMarkdown, LIMITS, statusMessage } from "../../src/chat/discord/components";
import { MEND_COMMAND } from "../../src/chat/discord/register";
import { isAllowed } from "../../src/chat/discord/interactions";
import { verifyDiscordRequest } from "../../src/chat/discord/verify";
import type { AlertPayload, RunRecord } from "../../src/engine/ports";
import { nonceFor } from "../../src/chat/discord/send";
import { discordDeliveryError } from "../../src/chat/discord/rest";
import { newKeyPair, signInteraction } from "./harness";
import { createApp } from "../../src/app";
import { parseEnv } from "../../src/env";
import { createServices } from "../../src/services";
import { openSqlite } from "../../src/store/sqlite-node";
import { FakeClock } from "../fakes/fake-clock";

describe("verifyDiscordRequest", () => {
  it("accepts Discord's Ed25519 signature over timestamp + body and refuses anything else", async () => {
    const keys = newKeyPair();
    const body = '{"type":1}';
    const h = signInteraction(keys.privateKey, body, "1700000000");
    const nowMs = 1700000000_000;
    const base = {
      publicKey: keys.publicKeyHex,
      body,
      signature: h["x-signature-ed25519"],
      timestamp: h["x-signature-timestamp"],
      nowMs,
    };
    expect(await verifyDiscordRequest(base)).toEqual({ ok: true });
    expect(await verifyDiscordRequest({ ...base, publicKey: base.publicKey.toUpperCase() })).toEqual({ ok: true });
    expect(await verifyDiscordRequest({ ...base, body: body + " " })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/signature/),
    });
    expect(await verifyDiscordRequest({ ...base, timestamp: "1700000001" })).toMatchObject({ ok: false });
    expect(await verifyDiscordRequest({ ...base, publicKey: newKeyPair().publicKeyHex })).toMatchObject({ ok: false });
    expect(await verifyDiscordRequest({ ...base, signature: undefined })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/missing/),
    });
    expect(await verifyDiscordRequest({ ...base, signature: "00".repeat(64) })).toMatchObject({ ok: false });
    expect(await verifyDiscordRequest({ ...base, signature: "not hex" })).toMatchObject({ ok: false });
    expect(await verifyDiscordRequest({ ...base, publicKey: "abcd" })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/DISCORD_PUBLIC_KEY/),
    });
  });

  it("refuses a validly signed request whose timestamp is more than 5 minutes from now", async () => {
    const keys = newKeyPair();
    const body = '{"type":1}';
    const h = signInteraction(keys.privateKey, body, "1700000000");
    const base = {
      publicKey: keys.publicKeyHex,
      body,
      signature: h["x-signature-ed25519"],
      timestamp: h["x-signature-timestamp"],
    };
    expect(await verifyDiscordRequest({ ...base, nowMs: 1700000300_000 })).toEqual({ ok: true });
    expect(await verifyDiscordRequest({ ...base, nowMs: 1699999700_000 })).toEqual({ ok: true });
    expect(await verifyDiscordRequest({ ...base, nowMs: 1700000301_000 })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/stale/),
    });
    expect(await verifyDiscordRequest({ ...base, nowMs: 1699999699_000 })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/stale/),
    });
    const odd = signInteraction(keys.privateKey, body, "soon");
    expect(
      await verifyDiscordRequest({
        ...base,
        ...odd,
        signature: odd["x-signature-ed25519"],
        timestamp: "soon",
        nowMs: 0,
      }),
    ).toMatchObject({ ok: false });
  });

  it("the interactions route answers a stale but validly signed click 401 by the injected clock", async () => {
    const keys = newKeyPair();
    const clock = new FakeClock();
    const config = parseEnv({
      MEND_DB: ":memory:",
      DISCORD_BOT_TOKEN: "t",
      DISCORD_APPLICATION_ID: "1",
      DISCORD_PUBLIC_KEY: keys.publicKeyHex,
    });
    const { deps } = createServices({ config, db: openSqlite(":memory:"), clock });
    const routes = await deps.chat.platforms.find((p) => p.platform.kind === "discord")!.conn.routes!(deps);
    const app = createApp(deps, (a) => a.route("/discord", routes!));
    const body = '{"type":1}';
    const post = (ts: number) =>
      app.request("/discord/interactions", {
        method: "POST",
        headers: { ...signInteraction(keys.privateKey, body, String(ts)), "content-type": "application/json" },
        body,
      });
    const nowS = Math.floor(clock.now() / 1000);
    expect((await post(nowS - 240)).status).toBe(200);
    const stale = await post(nowS - 301);
    expect(stale.status).toBe(401);
    expect(((await stale.json()) as { error: string }).error).toMatch(/stale/);
    await clock.advance(400_000);
    expect((await post(nowS)).status).toBe(401);
    expect((await post(nowS + 400)).status).toBe(200);
  });
});

const payload = (over: Partial<AlertPayload["error"]> = {}): AlertPayload => ({
  run: {
    id: "01J0000000000000000000RUNA",
    flow: "orders",
    flow_version: 3,
    status: "failed",
    url: "https://mend.example/runs/01J0000000000000000000RUNA",
  },
  error: { message: "boom", type: "http_status", step: "charge", attempts: 4, status: 503, ...over },
  failed: { error: { message: "boom", type: "http_status" } },
});

describe("discord components", () => {
  it("draws the embed, rows of buttons with the run link and Mute… as a select, within every limit", () => {
    const model = buildAlert(payload({ message: "z".repeat(20_000) }), {
      messageLimit: 3000,
      alertId: "01J00000000000000000ALERT1",
      state: { payload: payload(), gen: 12345, target_run: "01J0000000000000000000RUNA", deliveries: [] },
      count: 7,
      publicUrl: "https://mend.example",
    });
    const m = alertMessage(model);
    const e = m.embeds[0]!;
    expect(e.title!.length).toBeLessThanOrEqual(LIMITS.title);
    expect(e.description!.length).toBeLessThanOrEqual(LIMITS.description);
    const size =
      e.title!.length +
      e.description!.length +
      e.footer!.text.length +
      e.fields!.reduce((n, f) => n + f.name.length + f.value.length, 0);
    expect(size).toBeLessThanOrEqual(LIMITS.total);
    for (const f of e.fields!) expect(f.value.length).toBeLessThanOrEqual(LIMITS.fieldValue);
    expect(e.fields!.find((f) => f.name === "Failures")!.value).toBe("7 in this group");
    expect(e.fields!.find((f) => f.name === "Error type")!.value).toBe("`http_status` (HTTP 503)");
    expect(m.allowed_mentions).toEqual({ parse: [] });
    const row = m.components[0] as {
      type: number;
      components: { style: number; label: string; custom_id?: string; url?: string }[];
    };
    expect(row.type).toBe(1);
    // A group of 7 adds Retry all (7).
    const drawn = (m.components as { components: { type: number; style?: number; label?: string }[] }[]).map((r) =>
      r.components.map((b) => (b.type === 3 ? ["select"] : [b.label, b.style])),
    );
    expect(drawn).toEqual([
      [
        ["Retry", 1],
        ["Replay", 2],
        ["Replay with input…", 2],
        ["Retry all (7)", 2],
        ["Ack", 2],
      ],
      [
        ["Resolve", 2],
        ["Open run", 5],
      ],
      [["select"]],
    ]);
    const selectRow = m.components[2] as { components: APIStringSelectComponent[] };
    expect(selectRow.components[0]).toMatchObject({ type: ComponentType.StringSelect, placeholder: "Mute…" });
    expect(selectRow.components[0]!.options.map((o) => o.value)).toEqual(["1h", "4h", "24h", "resolved"]);
    expect(selectRow.components[0]!.custom_id.length).toBeLessThanOrEqual(LIMITS.customId);
    for (const b of row.components) expect(b.custom_id!.length).toBeLessThanOrEqual(LIMITS.customId);
    const linkRow = m.components[1] as typeof row;
    expect(linkRow.components[1]!.url).toBe("https://mend.example/runs/01J0000000000000000000RUNA");
  });

  it("a webhook alert has no interactive buttons and says how to act", () => {
    const model = buildAlert(payload(), { messageLimit: 3000 });
    const m = alertMessage(model, { webhook: true, howTo: { command: false } });
    expect(JSON.stringify(m.components)).not.toContain("custom_id");
    const how = m.embeds[0]!.fields!.find((f) => f.name === "How to act")!.value;
    expect(how).toContain("curl -X POST http://<mend host>/api/runs/01J0000000000000000000RUNA/retry");
    expect(how).not.toContain("Authorization");
    expect(how).not.toContain("/mend retry");
  });

  it("escapes markdown, and /mend status shows at most 5 runs (5 action rows)", () => {
    expect(escapeMarkdown("a_b*c~d`e|f [x](y)\n> quote")).toBe("a\\_b\\*c\\~d\\`e\\|f \\[x\\](y)\n\\> quote");
    const run = (i: number): RunRecord =>
      ({
        id: `01RUN${i}`,
        flow: "f",
        flowVersion: 1,
        status: "failed",
        input: null,
        output: null,
        error: { message: "x", type: "runtime", step: "s" },
        createdAt: 0,
        updatedAt: 0,
        finishedAt: 0,
      }) as unknown as RunRecord;
    const s = statusMessage(Array.from({ length: 8 }, (_, i) => ({ run: run(i), alertId: "", gen: 1 })));
    expect(s.components).toHaveLength(5);
    expect(s.content).toContain("newest 5 shown");
    expect(s.content.length).toBeLessThanOrEqual(LIMITS.content);
    expect(MEND_COMMAND.options.map((o) => o.name)).toEqual(["status", "retry", "replay", "ack", "mute", "unmute"]);
  });
});

describe("allow-lists, nonces, REST failures", () => {
  it("allows anyone when both lists are empty, else listed users and holders of listed roles", () => {
    const none = { DISCORD_ALLOWED_USERS: [], DISCORD_ALLOWED_ROLES: [] };
    expect(isAllowed(none, "1", [])).toBe(true);
    const users = { DISCORD_ALLOWED_USERS: ["1"], DISCORD_ALLOWED_ROLES: [] };
    expect(isAllowed(users, "1", [])).toBe(true);
    expect(isAllowed(users, "2", ["9"])).toBe(false);
    const roles = { DISCORD_ALLOWED_USERS: [], DISCORD_ALLOWED_ROLES: ["9"] };
    expect(isAllowed(roles, "2", ["8", "9"])).toBe(true);
    expect(isAllowed(roles, "2", ["8"])).toBe(false);
    const both = { DISCORD_ALLOWED_USERS: ["1"], DISCORD_ALLOWED_ROLES: ["9"] };
    expect(isAllowed(both, "1", [])).toBe(true);
    expect(isAllowed(both, "2", ["9"])).toBe(true);
    expect(isAllowed(both, "2", [])).toBe(false);
  });

  it("keeps nonces within 25 characters and stable per alert", () => {
    expect(nonceFor("01J00000000000000000ALERT1")).toHaveLength(25);
    expect(nonceFor("01J00000000000000000ALERT1")).toBe(nonceFor("01J00000000000000000ALERT1"));
    expect(nonceFor("short")).toBe("short");
  });

  it("maps rate limits to retryAfterMs, 4xx to permanent failures and 5xx to retries", () => {
    const rl = discordDeliveryError(
      new RateLimitError({
        timeToReset: 2000,
        limit: 5,
        method: "POST",
        hash: "h",
        url: "u",
        route: "/channels/:id/messages",
        majorParameter: "1",
        global: false,
        retryAfter: 2050,
        sublimitTimeout: 0,
        scope: "user",
      }),
    );
    expect(rl).toMatchObject({ retryAfterMs: 2050, permanent: false });
    const body = { files: undefined, body: undefined };
    expect(
      discordDeliveryError(
        new DiscordAPIError({ message: "Unknown Channel", code: 10003 }, 10003, 404, "POST", "u", body),
      ),
    ).toMatchObject({ permanent: true, message: expect.stringContaining("10003") });
    expect(
      discordDeliveryError(
        new DiscordAPIError({ message: "Missing Permissions", code: 50013 }, 50013, 403, "POST", "u", body),
      ),
    ).toMatchObject({ permanent: true });
    expect(discordDeliveryError(new HTTPError(502, "Bad Gateway", "POST", "u", body))).toMatchObject({
      permanent: false,
    });
    expect(discordDeliveryError(new Error("connect ECONNREFUSED"))).toMatchObject({ permanent: false });
  });
});
