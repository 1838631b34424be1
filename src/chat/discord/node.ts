// Discord's Node-only parts, loaded by the Node entry (src/entry/server.ts) and handed to connect()
// as ctx.node: @discordjs/rest as the transport, and the discord.js gateway (DISCORD_GATEWAY=true).
// Nothing the Worker reaches imports this file.
import { startDiscordGateway } from "./gateway";
import { restDiscordApi } from "./rest";

export const node = { restDiscordApi, startDiscordGateway };

export type DiscordNode = typeof node;
