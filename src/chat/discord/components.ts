// Discord message bodies drawn from the chat-neutral AlertModel: one embed and one action row.
//
//   alertMessage(model, opts) → { content, embeds: [embed], components, allowed_mentions }
//     The embed: flow, failed step, error type, message (code block), attempts, run (linked when
//     MEND_PUBLIC_URL is set), the group count, and the status line (who clicked, the outcome,
//     a mute). The rows: the buttons (Retry primary) whose custom_ids are the shared
//     button ids (encodeButton in ../model.ts), an "Open run" link button, and each select (Mute…)
//     in a row of its own.
//     opts.webhook: a message sent through a bot-less webhook cannot carry interactive buttons
//     (Discord drops them), so the embed says how to act instead (the run link, the API call,
//     the /mend command) and only the link button is kept.
//   statusMessage(items) → the /mend status answer (ephemeral): up to 5 failed runs, a row of
//     buttons each (Discord allows 5 action rows per message), labelled with the run they act on.
//
// Limits (discord.com/developers/docs: resources/message, components/reference): content ≤ 2000;
// embed title ≤ 256, description ≤ 4096, ≤ 25 fields (name ≤ 256, value ≤ 1024), footer ≤ 2048,
// all embeds together ≤ 6000 characters; ≤ 5 action rows of ≤ 5 buttons; label ≤ 80;
// custom_id ≤ 100; link url ≤ 512. Mentions never ping: allowed_mentions { parse: [] }.
import type {
  APIActionRowComponent,
  APIButtonComponent,
  APIStringSelectComponent,
  APIEmbed,
  APIEmbedField,
  APIMessageTopLevelComponent,
} from "discord.js";
import type { RunRecord } from "../../engine/ports";
import type { ChatUser } from "../../store/alerts";
import { runButtons, runLink, statusLine, type AlertButton, type AlertModel } from "../model";
import { truncate } from "../truncate";

/** The longest error message put in the embed's code block (before escaping). */
export const DISCORD_MESSAGE_LIMIT = 3000;
export const LIMITS = {
  content: 2000,
  title: 256,
  description: 4096,
  fields: 25,
  fieldName: 256,
  fieldValue: 1024,
  footer: 2048,
  total: 6000,
  label: 80,
  customId: 100,
  url: 512,
  rows: 5,
} as const;

/** Interaction callback types (interactions/receiving-and-responding). */
export const CALLBACK = {
  PONG: 1,
  CHANNEL_MESSAGE: 4,
  DEFERRED_CHANNEL_MESSAGE: 5,
  DEFERRED_UPDATE_MESSAGE: 6,
  UPDATE_MESSAGE: 7,
} as const;
/** Message flag EPHEMERAL (1 << 6): only the clicking user sees the message. */
export const EPHEMERAL = 64;

const BUTTON = 2;
const ACTION_ROW = 1;
/** ComponentType.StringSelect: a row holds one select and nothing else. */
const STRING_SELECT = 3;
const STYLE = { primary: 1, secondary: 2, danger: 4, link: 5 } as const;

export const NO_MENTIONS = { parse: [] as never[] };

export interface DiscordMessage {
  content: string;
  embeds: APIEmbed[];
  components: APIMessageTopLevelComponent[];
  allowed_mentions: { parse: never[] };
}

/** Discord user ids are snowflakes: `<@id>` renders the user's name (never pings inside embeds or with parse: []). */
export const mention = (u: ChatUser): string =>
  /^\d{5,25}$/.test(u.id) ? `<@${u.id}>` : `@${escapeMarkdown(u.name ?? u.id)}`;

/** Escapes Discord markdown so flow names and messages show literally. */
export function escapeMarkdown(text: string): string {
  return text.replace(/([\\*_~`|[\]])/g, "\\$1").replace(/^([>#-])/gm, "\\$1");
}

/** Inline code that cannot be closed early by a backtick in the text. */
function code(text: string): string {
  return "`" + (text.replace(/`/g, "ˋ") || " ") + "`";
}

function codeBlock(message: string, max: number): string {
  // Three backticks inside the message would end the block early.
  const body = message.replace(/```/g, "`\u200b``");
  const room = max - 8;
  return "```\n" + (truncate(body, room) || " ") + "\n```";
}

const COLOR: Record<AlertModel["tone"], number> = {
  failed: 0xe01e5a,
  recovered: 0xf2a900,
  resolved: 0x2eb67d,
  running: 0x3b82f6,
};
const ICON: Record<AlertModel["tone"], string> = { failed: "🔴", recovered: "🟠", resolved: "✅", running: "🔄" };

export function button(b: AlertButton): APIButtonComponent {
  return {
    type: BUTTON,
    style: b.style === "primary" ? STYLE.primary : b.style === "danger" ? STYLE.danger : STYLE.secondary,
    label: truncate(b.label, LIMITS.label),
    custom_id: b.id,
  } as APIButtonComponent;
}

/** A table entry with `choices` (Mute…): a string select; the click's `data.values[0]` is the choice. */
export function select(b: AlertButton): APIStringSelectComponent {
  return {
    type: STRING_SELECT,
    custom_id: b.id,
    placeholder: truncate(b.label, 150),
    min_values: 1,
    max_values: 1,
    options: (b.choices ?? []).map((c) => ({ label: truncate(c.label, 100), value: c.value })),
  } as APIStringSelectComponent;
}

function linkButton(label: string, url: string): APIButtonComponent | undefined {
  return url.length <= LIMITS.url && /^https?:\/\//.test(url)
    ? ({ type: BUTTON, style: STYLE.link, label, url } as APIButtonComponent)
    : undefined;
}

function row(buttons: (APIButtonComponent | undefined)[]): APIActionRowComponent<APIButtonComponent> | undefined {
  const list = buttons.filter((b): b is APIButtonComponent => Boolean(b)).slice(0, 5);
  return list.length ? { type: ACTION_ROW, components: list } : undefined;
}

export interface HowToAct {
  /** MEND_PUBLIC_URL (the API base in the curl lines); a placeholder is shown without it. */
  publicUrl?: string;
  /** MEND_API_TOKEN is set: the curl lines carry an Authorization header (never the token itself). */
  apiToken?: boolean;
  /** The /mend command is available (the Discord app is configured). */
  command?: boolean;
}

export interface RenderOptions {
  /** Sent through a bot-less webhook: no interactive buttons; the embed says how to act. */
  webhook?: boolean;
  howTo?: HowToAct;
}

/** The "How to act" field of a webhook alert: the API calls (and the /mend command) instead of buttons. */
export function howToAct(m: AlertModel, h: HowToAct = {}): string {
  const base = (h.publicUrl ?? "http://<mend host>").replace(/\/+$/, "");
  const auth = h.apiToken ? ' -H "Authorization: Bearer $MEND_API_TOKEN"' : "";
  const lines = [
    "Buttons need mend's bot (handler config `channel_id`); a webhook cannot carry them. Instead:",
    "```sh",
    `curl -X POST${auth} ${base}/api/runs/${m.runId}/retry`,
    `curl -X POST${auth} ${base}/api/runs/${m.runId}/replay`,
    "```",
  ];
  if (h.command) lines.push(`or \`/mend retry ${m.runId}\` / \`/mend replay ${m.runId}\``);
  if (m.runUrl) lines.push(`Run: ${m.runUrl}`);
  return lines.join("\n");
}

function field(name: string, value: string, inline = false): APIEmbedField {
  return { name: truncate(name, LIMITS.fieldName), value: truncate(value || "—", LIMITS.fieldValue), inline };
}

function embedSize(e: APIEmbed): number {
  let n =
    (e.title?.length ?? 0) + (e.description?.length ?? 0) + (e.footer?.text.length ?? 0) + (e.author?.name.length ?? 0);
  for (const f of e.fields ?? []) n += f.name.length + f.value.length;
  return n;
}

export function alertEmbed(m: AlertModel, opts: RenderOptions = {}): APIEmbed {
  const run = m.runUrl ? `[${m.runId}](${m.runUrl})` : code(m.runId);
  const fields: APIEmbedField[] = [
    field("Flow", `${escapeMarkdown(m.flow)} (v${m.flowVersion})`, true),
    field("Failed step", code(m.step), true),
    field("Error type", `${code(m.errorType)}${m.status !== undefined ? ` (HTTP ${m.status})` : ""}`, true),
    field("Attempts", String(m.attempts), true),
    field("Run", run, true),
  ];
  if (m.count > 1) fields.push(field("Failures", `${m.count} in this group`, true));
  if (m.handlerOutcome === "failed" && m.handlerError)
    fields.push(field("on_failure failed too", escapeMarkdown(m.handlerError)));
  if (m.replayOf) fields.push(field("Replay of", code(m.replayOf), true));
  if (m.link) fields.push(field("Details", m.link));
  if (m.response)
    fields.push(
      field(
        `Response (HTTP ${m.response.status})`,
        m.response.body ? codeBlock(m.response.body, LIMITS.fieldValue) : "*empty body*",
      ),
    );
  if (m.inputs?.length)
    fields.push(
      field(
        "Input",
        m.inputs.map((i) => `${code(i.path)}: ${i.missing ? "*missing*" : escapeMarkdown(i.value)}`).join("\n"),
      ),
    );
  const status = statusLine(m, mention);
  if (status) fields.push(field("Status", status));
  if (opts.webhook && m.buttons.length) fields.push(field("How to act", howToAct(m, opts.howTo)));
  const embed: APIEmbed = {
    title: truncate(`${ICON[m.tone]} ${m.headline}`, LIMITS.title),
    color: COLOR[m.tone],
    description: codeBlock(m.message, LIMITS.description),
    fields: fields.slice(0, LIMITS.fields),
    footer: { text: truncate(`mend · run ${m.runId}${m.count > 1 ? ` · ×${m.count}` : ""}`, LIMITS.footer) },
  };
  if (m.runUrl && m.runUrl.length <= 2048) embed.url = m.runUrl;
  // Discord shows it in the reader's time zone.
  if (m.failedAt) embed.timestamp = new Date(m.failedAt).toISOString();
  // All embeds together must stay ≤ 6000 characters: the message gives way first.
  const over = embedSize(embed) - LIMITS.total;
  if (over > 0) embed.description = codeBlock(m.message, Math.max(16, embed.description!.length - over));
  return embed;
}

export function alertComponents(m: AlertModel, opts: RenderOptions = {}): APIMessageTopLevelComponent[] {
  const controls = opts.webhook ? [] : m.buttons;
  const links = (m.links ?? []).map((l) => linkButton(truncate(l.text, LIMITS.label), l.url));
  const all = [
    ...controls.filter((b) => !b.choices).map(button),
    m.runUrl ? linkButton("Open run", m.runUrl) : undefined,
    ...links,
  ].filter((b): b is APIButtonComponent => Boolean(b));
  // Five buttons to a row, then each select in a row of its own; at most five rows.
  const rows: APIMessageTopLevelComponent[] = [];
  for (let i = 0; i < all.length; i += 5) rows.push(row(all.slice(i, i + 5))!);
  for (const b of controls) if (b.choices) rows.push({ type: ACTION_ROW, components: [select(b)] });
  return rows.slice(0, LIMITS.rows);
}

/** The message content (notifications, screen readers): the title and, after a click, the status. */
export function alertContent(m: AlertModel): string {
  return truncate(escapeMarkdown(m.title), LIMITS.content);
}

export function alertMessage(m: AlertModel, opts: RenderOptions = {}): DiscordMessage {
  return {
    content: alertContent(m),
    embeds: [alertEmbed(m, opts)],
    components: alertComponents(m, opts),
    allowed_mentions: NO_MENTIONS,
  };
}

/** `/mend status`: recent failed runs (at most 5, one row of buttons each). */
export function statusMessage(
  items: { run: RunRecord; alertId: string; gen: number }[],
  publicUrl?: string,
  flow?: string,
): { content: string; components: APIMessageTopLevelComponent[]; allowed_mentions: { parse: never[] } } {
  if (items.length === 0)
    return {
      content: `✅ No failed runs${flow ? ` of ${escapeMarkdown(flow)}` : ""}.`,
      components: [],
      allowed_mentions: NO_MENTIONS,
    };
  const shown = items.slice(0, LIMITS.rows);
  const lines = [
    `**Recent failed runs (${items.length}${items.length > shown.length ? `, newest ${shown.length} shown` : ""})**`,
  ];
  const components: APIMessageTopLevelComponent[] = [];
  shown.forEach(({ run, alertId, gen }, i) => {
    const url = runLink(publicUrl, run.id);
    const err = run.error;
    const when = run.finishedAt ? new Date(run.finishedAt).toISOString().replace("T", " ").slice(0, 19) + " UTC" : "";
    const id = url ? `[${run.id}](<${url}>)` : code(run.id);
    lines.push(
      `${i + 1}. **${escapeMarkdown(run.flow)}** — run ${id} — step ${code(err?.step ?? "?")} — ${code(err?.type ?? "?")} — ${when}\n   ${escapeMarkdown(truncate((err?.message ?? "").replace(/\s+/g, " "), 160))}`,
    );
    // Each button names its run: five rows of "Retry" alone would not say which run they act on.
    const which = `${run.flow} …${run.id.slice(-6)}`;
    components.push(row(runButtons(run, alertId, gen).map((b) => button({ ...b, label: `${b.label} · ${which}` })))!);
  });
  return { content: truncate(lines.join("\n"), LIMITS.content), components, allowed_mentions: NO_MENTIONS };
}
