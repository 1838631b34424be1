// Discord interactions, whichever way they arrive: the HTTP endpoint (POST /discord/interactions,
// ./routes.ts, after the Ed25519 check) and the gateway (./gateway.ts,
// from discord.js's interactionCreate) both call
//
//   await interactions.handle(interaction, respond)
//
// with the interaction in Discord's API shape and `respond(r)`, which sends the initial response
// (HTTP: the answer's body; gateway: POST /interactions/{id}/{token}/callback through discord.js).
// `respond` is called exactly once, within Discord's 3 seconds; follow-ups (private replies that
// come later, a command's outcome) go through the REST client to /webhooks/{application}/{token}.
//
//   PING (1)                 → PONG (1)
//   component (3): a button, or a string select (data.component_type 3, data.values), custom_id from
//   ../model.ts encodeButton:
//     not on DISCORD_ALLOWED_USERS and holding none of DISCORD_ALLOWED_ROLES
//                            → an ephemeral (flags 64) "not allowed"; nothing runs
//     otherwise              → deps.clicks.handle (exactly once; the alert is edited through the
//                              Discord editor with who clicked, then the outcome); the answer is a
//                              deferred update (6), or an ephemeral line when the click did nothing
//                              (duplicate, stale, refused) or had no alert to edit
//   "Replay with input…" (3)  → a modal (9) prefilled with the run's input; its submit (5) replays
//                              with the edited input (./replay-modal.ts)
//   /mend (2): status [flow] | retry <run> | replay <run> | ack <run> | mute <flow> <duration> |
//              unmute <flow>   (../commands.ts; the same allow-list but for status)
//
// A click that takes longer than DEADLINE_MS is answered with the deferred type (6, or 5 for a
// command) and its private line comes as a follow-up.
import type { Deps, Log } from "../../deps";
import type { RunRecord } from "../../engine/ports";
import type { ChatAction, ChatUser } from "../../store/alerts";
import { mendCommand, runOncallCommand, USAGE_LINES } from "../commands";
import { decodeButton } from "../model";
import { actionNoun, privateLine, runOutcome, startedNote, type ClickResult } from "../clicks";
import { TIMEOUT, within } from "../deadline";
import { verb as actionVerb } from "../model";
import type { DiscordApi } from "./api";
import { opensInputForm } from "../replay-input";
import { CALLBACK, EPHEMERAL, escapeMarkdown, mention, NO_MENTIONS, statusMessage } from "./components";
import { discordReplayModal } from "./replay-modal";

const USAGE = `Usage:\n${USAGE_LINES.map((l) => `\`/mend ${l.replace(" — ", "` — ")}`).join("\n")}`;

/** Answer by then with a deferred response (Discord invalidates the token after 3 s). */
export const DEADLINE_MS = 2_000;

export const INTERACTION = { PING: 1, APPLICATION_COMMAND: 2, MESSAGE_COMPONENT: 3, MODAL_SUBMIT: 5 } as const;
/** data.component_type of a string select click (ComponentType.StringSelect). */
const STRING_SELECT = 3;

export interface DiscordUser {
  id: string;
  username?: string;
  global_name?: string | null;
}

export interface CommandOption {
  name: string;
  type: number;
  value?: string | number | boolean;
  options?: CommandOption[];
}

/** The parts of Discord's interaction object mend reads. */
export interface DiscordInteraction {
  id: string;
  application_id: string;
  type: number;
  token: string;
  data?: {
    custom_id?: string;
    component_type?: number;
    /** A string select (component_type 3): the options picked. */
    values?: string[];
    name?: string;
    type?: number;
    options?: CommandOption[];
    /** A modal submit's fields (./replay-modal.ts). */
    components?: unknown[];
  };
  /** In a guild: the member, with role ids. */
  member?: { user?: DiscordUser; roles?: string[]; nick?: string | null };
  /** In a DM. */
  user?: DiscordUser;
  guild_id?: string;
  channel_id?: string;
  message?: { id: string; channel_id?: string };
}

export interface InteractionResponse {
  type: number;
  data?: Record<string, unknown>;
}

export type Respond = (r: InteractionResponse) => Promise<void>;

export interface DiscordInteractions {
  handle(i: DiscordInteraction, respond: Respond): Promise<void>;
}

export interface InteractionOptions {
  deadlineMs?: number;
}

export function ephemeral(content: string): InteractionResponse {
  return {
    type: CALLBACK.CHANNEL_MESSAGE,
    data: { content: content.slice(0, 2000), flags: EPHEMERAL, allowed_mentions: NO_MENTIONS },
  };
}

/** Who clicked: the member's user in a guild, the user in a DM. */
export function clicker(i: DiscordInteraction): ChatUser {
  const u = i.member?.user ?? i.user;
  return { id: u?.id ?? "unknown", name: u?.global_name ?? u?.username ?? undefined };
}

/**
 * Both lists empty: anyone. Otherwise allowed when the user is on DISCORD_ALLOWED_USERS or holds one
 * of DISCORD_ALLOWED_ROLES (member.roles; a DM has no roles).
 */
export function isAllowed(
  config: Pick<Deps["config"], "DISCORD_ALLOWED_USERS" | "DISCORD_ALLOWED_ROLES">,
  userId: string,
  roles: readonly string[],
): boolean {
  const users = config.DISCORD_ALLOWED_USERS;
  const allowedRoles = config.DISCORD_ALLOWED_ROLES;
  if (users.length === 0 && allowedRoles.length === 0) return true;
  return users.includes(userId) || roles.some((r) => allowedRoles.includes(r));
}

export function createDiscordInteractions(
  deps: Deps,
  api: DiscordApi,
  opts: InteractionOptions = {},
): DiscordInteractions {
  const { config, log } = deps;
  const deadline = opts.deadlineMs ?? DEADLINE_MS;

  /** A follow-up message (POST /webhooks/{application}/{token}); failures are logged. */
  async function followUp(i: DiscordInteraction, data: Record<string, unknown>): Promise<void> {
    try {
      await api.call(
        "POST",
        `/webhooks/${i.application_id}/${i.token}`,
        { allowed_mentions: NO_MENTIONS, ...data },
        { auth: false },
      );
    } catch (err) {
      log("warn", "discord follow-up failed", { interaction: i.id, error: String((err as Error)?.message ?? err) });
    }
  }

  /** Edits the deferred answer (PATCH /webhooks/{application}/{token}/messages/@original). */
  async function editOriginal(i: DiscordInteraction, data: Record<string, unknown>): Promise<void> {
    try {
      await api.call(
        "PATCH",
        `/webhooks/${i.application_id}/${i.token}/messages/@original`,
        { allowed_mentions: NO_MENTIONS, ...data },
        { auth: false },
      );
    } catch (err) {
      log("warn", "discord could not edit the interaction answer", {
        interaction: i.id,
        error: String((err as Error)?.message ?? err),
      });
    }
  }

  const notAllowed = (user: ChatUser, what: string) =>
    `Sorry ${mention(user)}, you are not allowed to ${what} from Discord: your user id ${user.id} is not in DISCORD_ALLOWED_USERS and you hold none of DISCORD_ALLOWED_ROLES. Nothing was run.`;

  const allowed = (i: DiscordInteraction) => isAllowed(config, clicker(i).id, i.member?.roles ?? []);

  const outcomeText = (run: RunRecord, action: ChatAction, user: ChatUser) =>
    `${actionVerb(action)} by ${mention(user)} — run ${run.id} ${runOutcome(run)}`.slice(0, 2000);

  /** Follow-ups of one interaction: sent only once its initial response went out. */
  interface Later {
    followUp(data: Record<string, unknown>): Promise<void>;
    editOriginal(data: Record<string, unknown>): Promise<void>;
  }

  const modal = discordReplayModal(deps, { allowed, notAllowed, deadlineMs: deadline });

  async function component(i: DiscordInteraction, respond: Respond, later: Later): Promise<void> {
    const user = clicker(i);
    const choice = i.data?.component_type === STRING_SELECT ? (i.data.values?.[0] ?? "") : undefined;
    const decoded = decodeButton(i.data?.custom_id ?? "", choice);
    if (!decoded) return respond(ephemeral("This button is not one of mend's (or is from an older version)."));
    if (!allowed(i)) return respond(ephemeral(notAllowed(user, actionNoun(decoded.action))));
    if (opensInputForm(decoded.action)) return modal.open(decoded, respond);
    const work = deps.clicks.button("discord", decoded, user, async (run) =>
      later.followUp({ content: outcomeText(run, decoded.action, user), flags: EPHEMERAL }),
    );
    const early = await within(work, deadline);
    if (early === TIMEOUT) {
      await respond({ type: CALLBACK.DEFERRED_UPDATE_MESSAGE });
      const line = privateLine(await work);
      if (line) await later.followUp({ content: line, flags: EPHEMERAL });
      return;
    }
    const line = privateLine(early);
    await respond(line ? ephemeral(line) : { type: CALLBACK.DEFERRED_UPDATE_MESSAGE });
  }

  async function command(i: DiscordInteraction, respond: Respond, later: Later): Promise<void> {
    if (i.data?.name !== "mend") return respond(ephemeral(`Unknown command.\n${USAGE}`));
    const sub = i.data.options?.find((o) => o.type === 1) ?? i.data.options?.[0];
    const opt = (name: string) => {
      const v = sub?.options?.find((o) => o.name === name)?.value;
      return typeof v === "string" ? v : undefined;
    };
    const cmd = mendCommand(sub?.name ?? "status", { run: opt("run"), flow: opt("flow"), duration: opt("duration") });
    if ("error" in cmd) return respond(ephemeral(`${cmd.error}\n${USAGE}`));
    if (cmd.sub === "status") {
      const items = await deps.clicks.failedRuns("discord", cmd.flow);
      const data = statusMessage(items, config.MEND_PUBLIC_URL, cmd.flow);
      return respond({ type: CALLBACK.CHANNEL_MESSAGE, data: { ...data, flags: EPHEMERAL } });
    }
    const user = clicker(i);
    if (!allowed(i)) return respond(ephemeral(notAllowed(user, actionNoun(cmd.sub))));
    if (cmd.sub !== "retry" && cmd.sub !== "replay") {
      const a = await runOncallCommand(deps, "discord", cmd, user, { mention: mention(user), esc: escapeMarkdown });
      const data = {
        content: a.text.slice(0, 2000),
        allowed_mentions: NO_MENTIONS,
        ...(a.public ? {} : { flags: EPHEMERAL }),
      };
      return respond({ type: CALLBACK.CHANNEL_MESSAGE, data });
    }
    const { sub: verb, run: runId } = cmd;
    const work = deps.clicks.command("discord", verb, runId, user, async (run) =>
      later.followUp({ content: outcomeText(run, verb, user) }),
    );
    const answer = (r: ClickResult): Record<string, unknown> => {
      if (r.reply) return { content: r.reply, flags: EPHEMERAL };
      return { content: `${actionVerb(verb)} by ${mention(user)} of run ${runId}${startedNote(r, verb)}` };
    };
    const early = await within(work, deadline);
    if (early === TIMEOUT) {
      await respond({ type: CALLBACK.DEFERRED_CHANNEL_MESSAGE });
      const { flags: _flags, ...data } = answer(await work);
      await later.editOriginal(data);
      return;
    }
    await respond({ type: CALLBACK.CHANNEL_MESSAGE, data: { allowed_mentions: NO_MENTIONS, ...answer(early) } });
  }

  async function handle(i: DiscordInteraction, respond: Respond): Promise<void> {
    let responded = false;
    let markAcked!: () => void;
    const acked = new Promise<void>((r) => (markAcked = r));
    const once: Respond = async (r) => {
      if (responded) return;
      responded = true;
      try {
        await respond(r);
      } finally {
        markAcked();
      }
    };
    // A follow-up before the initial response would be refused by Discord (unknown interaction).
    const later: Later = {
      followUp: async (data) => acked.then(() => followUp(i, data)),
      editOriginal: async (data) => acked.then(() => editOriginal(i, data)),
    };
    try {
      if (i.type === INTERACTION.PING) return await once({ type: CALLBACK.PONG });
      if (i.type === INTERACTION.MESSAGE_COMPONENT) return await component(i, once, later);
      if (i.type === INTERACTION.APPLICATION_COMMAND) return await command(i, once, later);
      if (i.type === INTERACTION.MODAL_SUBMIT) return await modal.submit(i, once, later.followUp);
      await once(ephemeral("mend does not handle this kind of interaction."));
    } catch (err) {
      logFailure(log, i, err);
      if (!responded)
        await once(
          ephemeral("Something went wrong in mend; nothing more was done. The server log has the details."),
        ).catch((e: unknown) => logFailure(log, i, e));
    }
  }

  return { handle };
}

function logFailure(log: Log, i: DiscordInteraction, err: unknown): void {
  log("error", "discord interaction failed", {
    interaction: i.id,
    type: i.type,
    error: String((err as Error)?.stack ?? err),
  });
}
