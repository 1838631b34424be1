// Registers the /mend command for a Discord application: PUT /applications/{id}/commands (global)
// or /applications/{id}/guilds/{guild}/commands (one server, shows up at once) with the bot token.
// PUT replaces the application's command list of that scope with exactly [/mend]; run it again
// after an upgrade. Used by `npm run discord:register` (src/entry/discord-register.ts).
import { DEFAULT_DISCORD_API_URL } from "./api";
import { discordRest } from "./rest";
import { MEND_COMMAND } from "./components";

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
