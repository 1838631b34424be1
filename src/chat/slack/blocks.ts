// Block Kit for alerts and the /mend status list, drawn from the chat-neutral AlertModel.
// Limits (docs.slack.dev/reference/block-kit): ≤ 50 blocks, section text ≤ 3000, field ≤ 2000,
// header ≤ 150, button text ≤ 75, action_id ≤ 255, value ≤ 2000, context ≤ 10 elements.
import type { ActionsBlock, Button, KnownBlock, StaticSelect } from "@slack/types";
import type { RunRecord } from "../../engine/ports";
import { runButtons, runLink, statusLine, type AlertButton, type AlertModel } from "../model";
import { truncate } from "../truncate";
import type { ChatUser } from "../../store/alerts";
import { CHAT_ACTIONS } from "../actions";

/** The longest error message put in the code block (before escaping). */
export const SLACK_MESSAGE_LIMIT = 2800;
const SECTION_MAX = 3000;
const FIELD_MAX = 2000;
const HEADER_MAX = 150;
/** action_id of the alert buttons: mend_<action id> (src/chat/actions.ts: mend_retry, mend_replay, …). */
export const ACTION_PREFIX = "mend_";
export const ACTION_ID_RE = new RegExp(`^mend_(${CHAT_ACTIONS.map((a) => a.id).join("|")})$`);

/** Escapes the three characters Slack's mrkdwn treats specially. */
export function esc(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Cuts escaped text to max characters without splitting an &entity;. */
function cutEscaped(text: string, max: number): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, max - 1);
  const amp = cut.lastIndexOf("&");
  if (amp >= 0 && cut.indexOf(";", amp) < 0) cut = cut.slice(0, amp);
  return cut + "…";
}

export const mention = (u: ChatUser) => (/^[UW][A-Z0-9]+$/.test(u.id) ? `<@${u.id}>` : `@${esc(u.name ?? u.id)}`);

const EMOJI: Record<AlertModel["tone"], string> = {
  failed: ":red_circle:",
  recovered: ":large_orange_circle:",
  resolved: ":white_check_mark:",
  running: ":arrows_counterclockwise:",
};

function codeBlock(message: string): string {
  // Three backticks inside the message would end the code block early.
  const body = cutEscaped(esc(message.replace(/```/g, "`\u200b``")), SECTION_MAX - 8);
  return "```" + (body || " ") + "```";
}

export function button(b: AlertButton): Button {
  return {
    type: "button",
    action_id: ACTION_PREFIX + b.action,
    text: { type: "plain_text", text: b.label, emoji: true },
    value: b.id,
    ...(b.style ? { style: b.style } : {}),
    ...(b.confirm
      ? {
          confirm: {
            title: { type: "plain_text", text: b.confirm.title },
            text: { type: "mrkdwn", text: b.confirm.text },
            confirm: { type: "plain_text", text: b.confirm.ok },
            deny: { type: "plain_text", text: "Cancel" },
          },
        }
      : {}),
  };
}

/**
 * A table entry with `choices` (Mute…): a static_select whose placeholder is the label and whose option
 * values are the choices. Its block's block_id carries the click id (an option value holds at most 75
 * characters; a block_id 255), so a click reads `block_id` and `selected_option.value`.
 */
export function select(b: AlertButton): StaticSelect {
  return {
    type: "static_select",
    action_id: ACTION_PREFIX + b.action,
    placeholder: { type: "plain_text", text: b.label, emoji: true },
    options: (b.choices ?? []).map((c) => ({ text: { type: "plain_text", text: c.label }, value: c.value })),
  };
}

/** The actions blocks of a row of mend's controls: the buttons in `blockId`, each select in its own block. */
export function actionBlocks(buttons: AlertButton[], blockId: string): ActionsBlock[] {
  const plain = buttons.filter((b) => !b.choices);
  const blocks: ActionsBlock[] = plain.length
    ? [{ type: "actions", block_id: blockId, elements: plain.map(button) }]
    : [];
  for (const b of buttons) if (b.choices) blocks.push({ type: "actions", block_id: b.id, elements: [select(b)] });
  return blocks;
}

/** The fallback `text` (notifications, screen readers): plain, with the status line. */
export function alertText(m: AlertModel): string {
  const status = statusLine(m, mention);
  return truncate(`${m.title} — run ${m.runId}${status ? `\n${status}` : ""}`, 3000);
}

export function alertBlocks(m: AlertModel): KnownBlock[] {
  const run = m.runUrl ? `<${m.runUrl}|${esc(m.runId)}>` : `\`${esc(m.runId)}\``;
  const fields = [
    `*Flow*\n${esc(m.flow)} (v${m.flowVersion})`,
    `*Failed step*\n\`${esc(m.step)}\``,
    `*Error type*\n\`${esc(m.errorType)}\`${m.status !== undefined ? ` (HTTP ${m.status})` : ""}`,
    `*Attempts*\n${m.attempts}`,
    `*Run*\n${run}`,
  ];
  if (m.count > 1) fields.push(`*Failures*\n${m.count} in this group`);
  const blocks: KnownBlock[] = [
    {
      type: "header",
      text: { type: "plain_text", text: truncate(`${EMOJI[m.tone]} ${m.headline}`, HEADER_MAX), emoji: true },
    },
    { type: "section", fields: fields.map((text) => ({ type: "mrkdwn", text: cutEscaped(text, FIELD_MAX) })) },
    { type: "section", text: { type: "mrkdwn", text: codeBlock(m.message) } },
    ...contextBlocks(m),
  ];
  const context: string[] = [];
  // Slack shows the time in the reader's own time zone; the fallback is UTC.
  if (m.failedAt)
    context.push(
      `Failed <!date^${Math.floor(m.failedAt / 1000)}^{date_short_pretty} {time}|${new Date(m.failedAt).toISOString().replace("T", " ").slice(0, 16)} UTC>`,
    );
  if (m.handlerOutcome === "failed" && m.handlerError) context.push(`on_failure failed too: ${esc(m.handlerError)}`);
  if (m.replayOf) context.push(`replay of run \`${esc(m.replayOf)}\``);
  if (m.link) context.push(`<${m.link}|details>`);
  if (context.length)
    blocks.push({
      type: "context",
      elements: context.slice(0, 10).map((text) => ({ type: "mrkdwn", text: cutEscaped(text, FIELD_MAX) })),
    });
  const status = statusLine(m, mention);
  if (status)
    blocks.push({
      type: "section",
      block_id: `mend_status_${m.gen}`,
      text: { type: "mrkdwn", text: cutEscaped(status, SECTION_MAX) },
    });
  blocks.push(...actionBlocks(m.buttons, `mend_actions_${m.gen}`));
  if (m.links?.length)
    blocks.push({
      type: "actions",
      block_id: "mend_links",
      // A url button still sends block_actions; mend_link_* matches no listener and is answered 200.
      elements: m.links.map((l, i) => ({
        type: "button",
        action_id: `mend_link_${i}`,
        text: { type: "plain_text", text: truncate(l.text, 75), emoji: true },
        url: l.url,
      })),
    });
  return blocks;
}

/** The failed http step's response and the handler's show_input fields. */
function contextBlocks(m: AlertModel): KnownBlock[] {
  const out: KnownBlock[] = [];
  if (m.response) {
    const text = `*Response* (HTTP ${m.response.status})\n${m.response.body ? codeBlock(m.response.body) : "_empty body_"}`;
    out.push({ type: "section", text: { type: "mrkdwn", text: cutEscaped(text, SECTION_MAX) } });
  }
  if (m.inputs?.length) {
    const lines = m.inputs.map((i) => `\`${esc(i.path)}\`: ${i.missing ? "_missing_" : esc(i.value)}`);
    out.push({
      type: "section",
      text: { type: "mrkdwn", text: cutEscaped(`*Input*\n${lines.join("\n")}`, SECTION_MAX) },
    });
  }
  return out;
}

/** `/mend status`: recent failed runs, each with its buttons (at most 15 runs: 3 blocks each). */
export function statusBlocks(
  items: { run: RunRecord; alertId: string; gen: number }[],
  publicUrl?: string,
): KnownBlock[] {
  if (items.length === 0)
    return [{ type: "section", text: { type: "mrkdwn", text: ":white_check_mark: No failed runs." } }];
  const blocks: KnownBlock[] = [
    { type: "header", text: { type: "plain_text", text: `Recent failed runs (${items.length})` } },
  ];
  for (const { run, alertId, gen } of items.slice(0, 15)) {
    const url = runLink(publicUrl, run.id);
    const id = url ? `<${url}|${esc(run.id)}>` : `\`${esc(run.id)}\``;
    const err = run.error;
    const when = run.finishedAt ? new Date(run.finishedAt).toISOString().replace("T", " ").slice(0, 19) + " UTC" : "";
    const text = `*${esc(run.flow)}* — run ${id} — step \`${esc(err?.step ?? "?")}\` — \`${esc(err?.type ?? "?")}\` — ${when}\n${esc(truncate(err?.message ?? "", 300))}`;
    blocks.push({ type: "section", text: { type: "mrkdwn", text: cutEscaped(text, SECTION_MAX) } });
    blocks.push(...actionBlocks(runButtons(run, alertId, gen), `mend_run_${run.id}`));
    blocks.push({ type: "divider" });
  }
  return blocks.slice(0, 50);
}
