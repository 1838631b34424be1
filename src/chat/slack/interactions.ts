// What mend does with a Slack button click or a /mend command, written once for every transport:
// Bolt on Node (./app.ts) and the fetch-only dispatcher on Workers (./fetch-bot.ts) both call it.
// It needs only a SlackApi (for chat.postEphemeral) and a `respond` (the payload's response_url).
//
//   const ix = slackInteractions(deps);
//   await ix.blockAction(body, buttonValue, { api, respond });   // after the click was acked
//   const ack = await ix.command(body, { respond });              // the slash command's ack payload
import type { Deps } from "../../deps";
import type { RunRecord } from "../../engine/ports";
import type { ChatAction, ChatUser } from "../../store/alerts";
import { parseMendText, runOncallCommand, USAGE_LINES } from "../commands";
import { decodeButton } from "../model";
import { actionNoun, privateLine, runOutcome, startedNote, type ClickResult } from "../clicks";
import { verb } from "../model";
import type { SlackApi } from "./api";
import { esc, mention, statusBlocks } from "./blocks";
import { opensInputForm } from "../replay-input";
import { slackReplayModal } from "./replay-modal";

const USAGE = `Usage:\n${USAGE_LINES.map((l) => `/mend ${l}`).join("\n")}`;

/** Answer the HTTP request by then even if no listener acked yet (Slack gives up after 3 s). */
export const ACK_DEADLINE_MS = 2_500;

/** The HTTP answer to one Slack request (the ack). */
export interface SlackAnswer {
  status: number;
  body?: unknown;
}

/** Whatever turns a verified, parsed Slack body into its HTTP answer (Bolt or the fetch bot). */
export interface SlackDispatcher {
  dispatch(body: Record<string, unknown>, meta?: { retryNum?: number; retryReason?: string }): Promise<SlackAnswer>;
}

/** The parts of a block_actions payload used here. */
export interface SlackBlockActionBody {
  user: { id: string; username?: string; name?: string };
  /** Opens a modal (views.open) within 3 s of the click. */
  trigger_id?: string;
  channel?: { id: string };
  container?: { channel_id?: string; message_ts?: string };
  message?: { ts?: string };
}

/** The parts of a slash command payload used here. */
export interface SlackCommandBody {
  text: string;
  user_id: string;
  user_name: string;
}

/** The parts of a block_actions element used here: a button, or a select (Mute…). */
export interface SlackActionElement {
  action_id?: string;
  block_id?: string;
  value?: string;
  selected_option?: { value?: string } | null;
}

/** A click's id and picked option: a button's value; a select's block_id (blocks.ts) and selected option. */
export function clickedControl(a: SlackActionElement): { id: string; choice?: string } {
  return a.selected_option ? { id: a.block_id ?? "", choice: a.selected_option.value ?? "" } : { id: a.value ?? "" };
}

export type SlackRespond = (message: Record<string, unknown>) => Promise<unknown>;

export interface SlackReplyTools {
  api?: SlackApi;
  respond?: SlackRespond;
}

export function isAllowed(allowed: string[], userId: string): boolean {
  return allowed.length === 0 || allowed.includes(userId);
}

const notAllowed = (user: ChatUser, action: string) =>
  `Sorry ${mention(user)}, you are not allowed to ${action} from Slack (your user id ${user.id} is not in SLACK_ALLOWED_USERS). Nothing was run.`;

export function slackInteractions(deps: Deps) {
  const { config, log } = deps;
  const allowed = (userId: string) => isAllowed(config.SLACK_ALLOWED_USERS, userId);

  /** Private reply to one user: chat.postEphemeral in the channel, else response_url. */
  async function ephemeral(
    tools: SlackReplyTools,
    opts: { channel?: string; user: string; text: string },
  ): Promise<void> {
    if (opts.channel && tools.api) {
      try {
        await tools.api.call("chat.postEphemeral", { channel: opts.channel, user: opts.user, text: opts.text });
        return;
      } catch (err) {
        log("warn", "chat.postEphemeral failed; answering through response_url", {
          error: String((err as Error)?.message ?? err),
        });
      }
    }
    if (tools.respond)
      await tools
        .respond({ response_type: "ephemeral", replace_original: false, text: opts.text })
        .catch((err: unknown) => log("warn", "slack response_url failed", { error: String(err) }));
  }

  const modal = slackReplayModal(deps, { allowed, notAllowed, tell: ephemeral });

  const outcomeText = (run: RunRecord, action: ChatAction, user: ChatUser) =>
    `${verb(action)} by ${mention(user)} — run ${run.id} ${esc(runOutcome(run))}`;

  /** A click on one of mend's controls (action_id mend_<table id>), already acked. */
  async function blockAction(
    body: SlackBlockActionBody,
    action: SlackActionElement,
    tools: SlackReplyTools,
  ): Promise<void> {
    const user: ChatUser = { id: body.user.id, name: body.user.username ?? body.user.name };
    const channel = body.channel?.id ?? body.container?.channel_id;
    const clicked = clickedControl(action);
    const decoded = decodeButton(clicked.id, clicked.choice);
    if (!decoded) {
      await ephemeral(tools, {
        channel,
        user: user.id,
        text: "This button is not one of mend's (or is from an older version).",
      });
      return;
    }
    if (!allowed(user.id)) {
      await ephemeral(tools, { channel, user: user.id, text: notAllowed(user, actionNoun(decoded.action)) });
      return;
    }
    if (opensInputForm(decoded.action)) return modal.open(body, decoded, channel, tools);
    // A message posted through an incoming webhook has no stored ts: adopt the clicked one so
    // chat.update can edit it (when the bot is in that channel).
    const messageTs = body.message?.ts ?? body.container?.message_ts;
    if (decoded.alertId && channel && messageTs) {
      await deps.chat.change(
        decoded.alertId,
        (a) =>
          a.kind === "slack" && !(a.ref as { ts?: string } | null)?.ts
            ? { ref: { channel, ts: messageTs } }
            : undefined,
        { edit: false },
      );
    }
    const result: ClickResult = await deps.clicks.button("slack", decoded, user, (run) =>
      ephemeral(tools, { channel, user: user.id, text: outcomeText(run, decoded.action, user) }),
    );
    const line = privateLine(result);
    if (line) await ephemeral(tools, { channel, user: user.id, text: esc(line) });
  }

  /** The /mend command (./commands.ts). Resolves with the ack payload. */
  async function command(body: SlackCommandBody, tools: SlackReplyTools): Promise<Record<string, unknown>> {
    const reply = (text: string, extra: Record<string, unknown> = {}) => ({
      response_type: "ephemeral",
      text,
      ...extra,
    });
    const user: ChatUser = { id: body.user_id, name: body.user_name };
    const cmd = parseMendText(body.text);
    if ("error" in cmd) return reply(esc(`${cmd.error}\n${USAGE}`));
    if (cmd.sub === "status") return reply(...(await status(cmd.flow)));
    if (!allowed(user.id)) return reply(notAllowed(user, actionNoun(cmd.sub)));
    if (cmd.sub === "retry" || cmd.sub === "replay") return runCommand(cmd.sub, cmd.run, user, tools);
    const a = await runOncallCommand(deps, "slack", cmd, user, { mention: mention(user), esc });
    return { response_type: a.public ? "in_channel" : "ephemeral", text: a.text };
  }

  async function status(flow?: string): Promise<[string, Record<string, unknown>]> {
    const items = await deps.clicks.failedRuns("slack", flow);
    const text = items.length
      ? `Recent failed runs: ${items.map(({ run }) => `${run.flow} ${run.id}`).join(", ")}`
      : `No failed runs${flow ? ` of ${flow}` : ""}.`;
    return [esc(text), { blocks: statusBlocks(items, config.MEND_PUBLIC_URL) }];
  }

  async function runCommand(
    action: "retry" | "replay",
    runId: string,
    user: ChatUser,
    tools: SlackReplyTools,
  ): Promise<Record<string, unknown>> {
    const respond = tools.respond;
    const tellEnd = respond
      ? async (run: RunRecord) =>
          void (await respond({
            response_type: "in_channel",
            replace_original: false,
            text: outcomeText(run, action, user),
          }).catch((err: unknown) => log("warn", "slack response_url failed", { error: String(err) })))
      : undefined;
    const result = await deps.clicks.command("slack", action, runId, user, tellEnd);
    if (result.reply) return { response_type: "ephemeral", text: esc(result.reply) };
    return {
      response_type: "in_channel",
      text: `${verb(action)} by ${mention(user)} of run ${esc(runId)}${startedNote(result, action)}`,
    };
  }

  return { blockAction, command, viewSubmission: modal.submit };
}
