// Where a chat handler posts: the bot's channel (`channel` on Slack, `channel_id` on Discord:
// ChatPlatform.channel) or an incoming webhook URL. One schema and one parser for every platform.
import { z } from "zod";
import { DeliveryError } from "../handlers/types";
import { oncallFields } from "./oncall-config";

/** A parsed handler config (or `script:` args). */
export interface ChatTarget {
  channel?: string;
  webhook_url?: string;
  /** `mention` of the handler config: mentioned in the first post (./oncall-config.ts). */
  mention?: string[];
}

const httpUrl = z.url({ protocol: /^https?$/ });

type ChannelSpec = { field: string; id: z.ZodType<string> };

/** The handler config schema: `{ [field]: <channel id> }` or `{ webhook_url }`, with the on-call fields. */
export function targetSchema(channel: ChannelSpec): z.ZodType<Record<string, unknown>> {
  return z.union([
    z.strictObject({ [channel.field]: channel.id, ...oncallFields }),
    z.strictObject({ webhook_url: httpUrl, ...oncallFields }),
  ]);
}

/** Parses a config; a bad one is a permanent DeliveryError naming what is wrong. */
export function parseTarget(p: { kind: string; channel: ChannelSpec }, config: Record<string, unknown>): ChatTarget {
  const r = targetSchema(p.channel).safeParse(config);
  if (r.success) {
    const channel = r.data[p.channel.field];
    const mention = (r.data.mention as string[] | undefined)?.length ? { mention: r.data.mention as string[] } : {};
    return typeof channel === "string"
      ? { channel, ...mention }
      : { webhook_url: String(r.data.webhook_url), ...mention };
  }
  const why = r.error.issues.map((i) => `${i.path.join(".") || "config"}: ${i.message}`).join("; ");
  throw new DeliveryError(
    `${p.kind} handler config needs \`${p.channel.field}\` (with the bot token) or \`webhook_url\` (${why})`,
    undefined,
    undefined,
    true,
  );
}

/** The alerts.handler_id of a target: `<kind>:<channel>` or `<kind>:webhook:<hash of the url>` (a webhook URL is a credential). */
export function targetKey(kind: string, t: ChatTarget): string {
  if (t.channel) return `${kind}:${t.channel}`;
  return `${kind}:webhook:${fnv1a(t.webhook_url ?? "")}`;
}

function fnv1a(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, "0");
}
