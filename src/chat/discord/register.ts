// Registers the /mend command for a Discord application: PUT /applications/{id}/commands (global)
// or /applications/{id}/guilds/{guild}/commands (one server, shows up at once) with the bot token.
// PUT replaces the application's command list of that scope with exactly [/mend]; run it again
// after an upgrade. Used by `npm run discord:register` (src/entry/discord-register.ts).
import {
  ApplicationCommandOptionType as Option,
  ApplicationCommandType,
  type APIApplicationCommandBasicOption,
  type RESTPostAPIApplicationCommandsJSONBody,
} from "discord-api-types/v10";
import { DEFAULT_DISCORD_API_URL } from "./api";
import { discordRest } from "./rest";

const run = (description: string): APIApplicationCommandBasicOption => ({
  type: Option.String,
  name: "run",
  description,
  required: true,
  min_length: 1,
  max_length: 64,
});
const flow = (required: boolean): APIApplicationCommandBasicOption => ({
  type: Option.String,
  name: "flow",
  description: required ? "Flow name" : "Only this flow",
  required,
  min_length: 1,
  max_length: 200,
});

/**
 * The /mend chat-input command: one subcommand each, the same as Slack's `/mend <sub> <args>`
 * (src/chat/commands.ts). docs: discord.com/developers/docs/interactions/application-commands#subcommands-and-subcommand-groups
 */
export const MEND_COMMAND = {
  name: "mend",
  description: "mend: failed runs, retry, replay, ack and mute",
  type: ApplicationCommandType.ChatInput,
  options: [
    {
      type: Option.Subcommand,
      name: "status",
      description: "Recent failed runs, with their buttons",
      options: [flow(false)],
    },
    {
      type: Option.Subcommand,
      name: "retry",
      description: "Resume a failed run from its failed step",
      options: [run("Run id")],
    },
    {
      type: Option.Subcommand,
      name: "replay",
      description: "Start a new run with the same input",
      options: [run("Run id")],
    },
    {
      type: Option.Subcommand,
      name: "ack",
      description: "Acknowledge a failed run: you are on it (stops escalation)",
      options: [run("Run id")],
    },
    {
      type: Option.Subcommand,
      name: "mute",
      description: "No alerts for a flow for a while",
      options: [
        flow(true),
        {
          type: Option.String,
          name: "duration",
          description: "How long",
          required: true,
          choices: ["1h", "4h", "24h"].map((d) => ({ name: d, value: d })),
        },
      ],
    },
    { type: Option.Subcommand, name: "unmute", description: "Alerts for a flow again", options: [flow(true)] },
  ],
} satisfies RESTPostAPIApplicationCommandsJSONBody;

export interface RegisterOptions {
  token: string;
  applicationId: string;
  apiUrl?: string;
  guildId?: string;
}

export interface RegisteredCommand {
  id: string;
  name: string;
  [k: string]: unknown;
}

export async function registerMendCommand(o: RegisterOptions): Promise<RegisteredCommand[]> {
  if (!/^\d{5,30}$/.test(o.applicationId))
    throw new Error(`DISCORD_APPLICATION_ID must be the application's numeric id (got '${o.applicationId}')`);
  if (o.guildId !== undefined && !/^\d{5,30}$/.test(o.guildId))
    throw new Error(`the guild id must be numeric (got '${o.guildId}')`);
  const rest = await discordRest(o.token, o.apiUrl ?? DEFAULT_DISCORD_API_URL);
  const route = o.guildId
    ? (`/applications/${o.applicationId}/guilds/${o.guildId}/commands` as const)
    : (`/applications/${o.applicationId}/commands` as const);
  return (await rest.put(route, { body: [MEND_COMMAND] })) as RegisteredCommand[];
}
