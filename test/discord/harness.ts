// Shared setup for the Discord tests: mend with Discord on (in-process, or the real server for the
// end-to-end and gateway tests), a fake Discord REST API (the real @discordjs/rest client talks to it
// through DISCORD_API_URL) and a scriptable upstream, plus
// interactions signed with a real Ed25519 key pair and built from the components the bot posted.
import { generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import type { TestServer } from "../api/server";
import { failingFlowOn, inProcess, onLoopback, type Mend } from "../chat/env";
import { discordDriver } from "../chat/harness";
import { startFakeDiscord, type DiscordMessage, type FakeDiscord, type Json } from "../fakes/discord";

export { runOnce } from "../chat/env";

export const CHANNEL = "300000000000000001";
export const GUILD = "400000000000000001";
export const ALICE = { id: "500000000000000001", username: "alice" };
export const MALLORY = { id: "500000000000000666", username: "mallory" };
/** On no list, but holds the ops role. */
export const ROLE_HOLDER = { id: "500000000000000002", username: "olga" };
export const OPS_ROLE = "600000000000000001";
export const OTHER_ROLE = "600000000000000999";

export interface KeyPair {
  publicKeyHex: string;
  privateKey: KeyObject;
}

/** A real Ed25519 key pair; DISCORD_PUBLIC_KEY is the raw 32-byte public key in hex. */
export function newKeyPair(): KeyPair {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const x = publicKey.export({ format: "jwk" }).x!;
  return { publicKeyHex: Buffer.from(x, "base64url").toString("hex"), privateKey };
}

export function signInteraction(
  key: KeyObject,
  body: string,
  timestamp = String(Math.floor(Date.now() / 1000)),
): Record<string, string> {
  return {
    "x-signature-ed25519": sign(null, Buffer.from(timestamp + body), key).toString("hex"),
    "x-signature-timestamp": timestamp,
  };
}

export interface DiscordEnv extends Mend {
  discord: FakeDiscord;
  keys: KeyPair;
}

const ENV = {
  DISCORD_ALLOWED_USERS: ALICE.id,
  DISCORD_ALLOWED_ROLES: OPS_ROLE,
  MEND_PUBLIC_URL: "https://mend.example",
};

/** mend in-process with Discord on (the fake clock, SQLite :memory:, the fake Discord behind the injected fetch). */
export async function startDiscordEnv(env: Record<string, string> = {}): Promise<DiscordEnv> {
  const driver = discordDriver();
  const mend = await inProcess(driver, { ...ENV, ...env });
  return { ...mend, discord: driver.fake(), keys: driver.keys() };
}

/** The real server with Discord on, the fake Discord on loopback: for the end-to-end and gateway tests. */
export async function startDiscordServer(
  env: Record<string, string> = {},
  before?: (discord: FakeDiscord) => Promise<void> | void,
): Promise<DiscordEnv & { server: TestServer }> {
  const discord = await startFakeDiscord();
  const keys = newKeyPair();
  await before?.(discord);
  const mend = await onLoopback(
    {
      DISCORD_BOT_TOKEN: discord.token,
      DISCORD_PUBLIC_KEY: keys.publicKeyHex,
      DISCORD_APPLICATION_ID: discord.applicationId,
      DISCORD_API_URL: discord.apiUrl,
      ...ENV,
      ...env,
    },
    { outboxSchedule: [50, 50, 50, 50, 50] },
  );
  return {
    ...mend,
    discord,
    keys,
    async stop() {
      await mend.stop();
      await discord.close();
    },
  };
}

/** A flow whose only step POSTs to the upstream (one attempt), alerting the `ops-discord` handler. */
export const setupFailingFlow = (
  e: DiscordEnv,
  name = "orders",
  handlerConfig: Record<string, unknown> = { channel_id: CHANNEL },
) => failingFlowOn(e, "discord", name, handlerConfig);

export async function postInteraction(
  e: DiscordEnv,
  body: string,
  opts: { key?: KeyObject; headers?: Record<string, string> } = {},
): Promise<Response> {
  const headers =
    opts.headers ?? signInteraction(opts.key ?? e.keys.privateKey, body, String(Math.floor(e.now() / 1000)));
  return e.request("/discord/interactions", {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body,
  });
}

/** The button (or select) of `action` on a message. */
export function findButton(message: { components: Json[] }, action: string): Json | undefined {
  for (const row of message.components)
    for (const b of (row.components ?? []) as Json[])
      if (typeof b.custom_id === "string" && b.custom_id.startsWith(`mend:${action}:`)) return b;
  return undefined;
}

let interactionSeq = 700_000_000_000_000_000n;
export const nextInteractionId = () => String(interactionSeq++);

export interface Clicker {
  id: string;
  username: string;
  roles?: string[];
}

/**
 * The MESSAGE_COMPONENT interaction Discord sends when `user` clicks `action` on `message` in a guild;
 * on a string select (type 3), when `user` picks `choice` (data.component_type 3, data.values).
 */
export function clickInteraction(
  e: { discord: FakeDiscord },
  message: { id: string; channel_id: string; components: Json[] },
  action: string,
  user: Clicker = ALICE,
  choice?: string,
): Json {
  const b = findButton(message, action);
  if (!b) throw new Error(`no ${action} button on message ${message.id}: ${JSON.stringify(message.components)}`);
  const id = nextInteractionId();
  return {
    id,
    application_id: e.discord.applicationId,
    type: 3,
    token: `itoken-${id}`,
    version: 1,
    guild_id: GUILD,
    channel_id: message.channel_id,
    channel: { id: message.channel_id, type: 0, guild_id: GUILD, name: "ops" },
    member: {
      user: { id: user.id, username: user.username, global_name: null, discriminator: "0", avatar: null },
      roles: user.roles ?? [],
      nick: null,
      joined_at: "2024-01-01T00:00:00.000Z",
      permissions: "2048",
      deaf: false,
      mute: false,
      flags: 0,
    },
    app_permissions: "2048",
    locale: "en-US",
    guild_locale: "en-US",
    entitlements: [],
    authorizing_integration_owners: { "0": GUILD },
    context: 0,
    message: {
      id: message.id,
      channel_id: message.channel_id,
      type: 0,
      content: "",
      embeds: [],
      components: message.components,
      author: {
        id: "900000000000000001",
        username: "mend",
        bot: true,
        discriminator: "0",
        avatar: null,
        global_name: null,
      },
      attachments: [],
      mentions: [],
      mention_roles: [],
      pinned: false,
      mention_everyone: false,
      tts: false,
      timestamp: "2024-01-01T00:00:00.000Z",
      edited_timestamp: null,
      flags: 0,
    },
    data:
      b.type === 3
        ? { custom_id: b.custom_id as string, component_type: 3, values: [choice ?? ""] }
        : { custom_id: b.custom_id as string, component_type: 2 },
  };
}

/**
 * The MODAL_SUBMIT (5) interaction Discord sends when `user` submits `modal` (the type 9 response
 * mend answered `opened` with), its text inputs set from `values` (custom_id → text; others keep their value).
 */
export function modalSubmitInteraction(opened: Json, modal: Json, values: Record<string, string>): Json {
  const id = nextInteractionId();
  const fields = ((modal.data?.components ?? []) as Json[]).flatMap((c) =>
    c.type === 18 ? [c.component as Json] : ((c.components ?? []) as Json[]),
  );
  return {
    ...opened,
    id,
    type: 5,
    token: `mtoken-${id}`,
    data: {
      custom_id: modal.data.custom_id,
      components: fields.map((f, i) => ({
        type: 18,
        id: i * 2 + 1,
        component: { type: 4, id: i * 2 + 2, custom_id: f.custom_id, value: values[f.custom_id] ?? f.value ?? "" },
      })),
    },
  };
}

/** A /mend chat-input command interaction. */
/** `/mend <sub>` with its options: a run id (retry, replay, ack) or options by name ({ flow, duration }). */
export function commandInteraction(
  e: { discord: FakeDiscord },
  sub: string,
  args?: string | Record<string, string>,
  user: Clicker = ALICE,
): Json {
  const named = typeof args === "string" ? { run: args } : (args ?? {});
  const id = nextInteractionId();
  return {
    id,
    application_id: e.discord.applicationId,
    type: 2,
    token: `ctoken-${id}`,
    version: 1,
    guild_id: GUILD,
    channel_id: CHANNEL,
    channel: { id: CHANNEL, type: 0, guild_id: GUILD, name: "ops" },
    member: {
      user: { id: user.id, username: user.username, global_name: null, discriminator: "0", avatar: null },
      roles: user.roles ?? [],
      nick: null,
      joined_at: "2024-01-01T00:00:00.000Z",
      permissions: "2048",
      deaf: false,
      mute: false,
      flags: 0,
    },
    app_permissions: "2048",
    locale: "en-US",
    entitlements: [],
    authorizing_integration_owners: { "0": GUILD },
    context: 0,
    data: {
      id: "800000000000000001",
      name: "mend",
      type: 1,
      options: [
        { type: 1, name: sub, options: Object.entries(named).map(([name, value]) => ({ type: 3, name, value })) },
      ],
    },
  };
}

export async function click(
  e: DiscordEnv,
  message: { id: string; channel_id: string; components: Json[] },
  action: string,
  user: Clicker = ALICE,
  choice?: string,
): Promise<Response> {
  return postInteraction(e, JSON.stringify(clickInteraction(e, message, action, user, choice)));
}

export async function command(
  e: DiscordEnv,
  sub: "status" | "retry" | "replay",
  runId?: string,
  user: Clicker = ALICE,
): Promise<Response> {
  return postInteraction(e, JSON.stringify(commandInteraction(e, sub, runId, user)));
}

/** All text of a message version (content, embeds, components), for assertions. */
export function messageText(m: { content: string; embeds: Json[]; components?: Json[] }): string {
  return m.content + "\n" + JSON.stringify(m.embeds);
}

/** A copy of a message as it was when posted (the fake edits its messages in place). */
export function snapshot(m: DiscordMessage): DiscordMessage {
  return { ...m, components: structuredClone(m.components), embeds: structuredClone(m.embeds), versions: [] };
}

export async function waitDelivered(
  e: DiscordEnv,
  runId: unknown,
  timeoutMs = 10_000,
): Promise<{ alerts: { kind: string; status: string; attempts: number; response: Record<string, unknown> | null }[] }> {
  return e.until(
    async () => {
      const v = (await (await e.api(`/api/runs/${String(runId)}`)).json()) as {
        alerts: { kind: string; status: string; attempts: number; response: Record<string, unknown> | null }[];
      };
      return v.alerts.length && v.alerts.every((a) => a.status !== "pending") ? v : undefined;
    },
    timeoutMs,
    `the alerts of ${String(runId)} delivered`,
  );
}
