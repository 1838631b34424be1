// Slack's Node-only parts, loaded by the Node entry (src/entry/server.ts) and handed to connect()
// as ctx.node: @slack/web-api's WebClient as the transport, and a Bolt App behind POST /slack/events.
// Nothing the Worker reaches imports this file.
import type { Deps } from "../../deps";
import type { SlackDispatcher } from "./interactions";
import { webClientSlackApi } from "./web-client";

export const node = {
  webClientSlackApi,
  /** Bolt is loaded only when Slack is on (it costs ~25 MiB of memory otherwise unused). */
  createSlackBot: async (deps: Deps): Promise<SlackDispatcher> => (await import("./bolt")).createSlackBot(deps),
};

export type SlackNode = typeof node;
