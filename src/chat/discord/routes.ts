// POST /discord/interactions — Discord's Interactions Endpoint URL.
// The Ed25519 signature (X-Signature-Ed25519 over X-Signature-Timestamp + raw body, with
// DISCORD_PUBLIC_KEY) is checked before anything else: a bad or missing one gets 401 and changes
// nothing (Discord probes endpoints with bad signatures and drops the ones that accept them).
// Then PING gets PONG, and buttons and /mend go to the shared interaction handler, whose initial
// response becomes this request's answer (always inside Discord's 3 seconds).
import type { Hono } from "hono";
import { signedRoute, type SignedParts } from "../signed-route";
import type { Deps } from "../../deps";
import type { DiscordInteraction, DiscordInteractions, InteractionResponse } from "./interactions";
import { DISCORD_HEADERS, verifyDiscordRequest } from "./verify";

/** After answering, follow-ups wait this long so the answer reaches Discord first. */
const FOLLOW_UP_GAP_MS = 50;

export function discordRoutes(deps: Deps, interactions: DiscordInteractions): Hono {
  const verify = (parts: SignedParts) =>
    verifyDiscordRequest({ publicKey: deps.config.DISCORD_PUBLIC_KEY ?? "", ...parts });
  return signedRoute("/interactions", DISCORD_HEADERS, deps.clock, verify, async (raw, c) => {
    let body: DiscordInteraction;
    try {
      const v = JSON.parse(raw) as unknown;
      if (!v || typeof v !== "object" || Array.isArray(v) || typeof (v as { type?: unknown }).type !== "number")
        throw new Error("not an interaction");
      body = v as DiscordInteraction;
    } catch {
      return c.json({ error: "body is not a Discord interaction (JSON object with a numeric type)" }, 400);
    }
    if (body.type === 1) return c.json({ type: 1 });

    let answer!: (r: InteractionResponse) => void;
    const answered = new Promise<InteractionResponse>((r) => (answer = r));
    const task = interactions.handle(body, async (r) => {
      answer(r);
      await new Promise<void>((done) => deps.clock.setTimer(FOLLOW_UP_GAP_MS, done));
    });
    deps.waitUntil(
      task.catch((err: unknown) =>
        deps.log("error", "discord interaction failed", { error: String((err as Error)?.stack ?? err) }),
      ),
    );
    const r = await Promise.race([
      answered,
      task.then(
        () => undefined,
        () => undefined,
      ),
    ]);
    if (!r) return c.json({ error: "the interaction was not answered" }, 500);
    return c.json(r);
  });
}
