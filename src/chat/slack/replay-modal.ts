// "Replay with input…" on Slack (SPEC §11): the click opens a modal through views.open, its
// submission (view_submission, callback_id mend_replay) replays with the edited input.
// api.slack.com/surfaces/modals, api.slack.com/reference/interaction-payloads/views#view_submission.
//
//   const modal = slackReplayModal(deps, { allowed, notAllowed, tell });
//   await modal.open(body, button, tools)           a click, right after its ack: views.open first
//   const ack = await modal.submit(body, tools)     the view_submission's ack: undefined (an empty
//                                                   200, the modal closes) or response_action errors
import type { ModalView } from "@slack/types";
import type { Deps } from "../../deps";
import type { ChatUser } from "../../store/alerts";
import { privateLine, type ClickResult } from "../clicks";
import { TIMEOUT, within } from "../deadline";
import { decodeButton, encodeButton, type DecodedButton } from "../model";
import { formError, INPUT_FIELD, opensInputForm, prefill, submitInput } from "../replay-input";
import { esc } from "./blocks";
import type { SlackReplyTools } from "./interactions";

export const REPLAY_CALLBACK_ID = "mend_replay";
/** plain_text_input's max_length (and so the longest prefill). */
export const SLACK_INPUT_MAX = 3000;
/** Answer a view_submission by then: Slack shows an error after 3 s. */
const SUBMIT_DEADLINE_MS = 2_000;

/** What the modal carries to its submission: the button clicked and the channel to answer in. */
interface Meta {
  button: string;
  channel?: string;
}

/** The parts of a view_submission payload used here. */
export interface SlackViewSubmissionBody {
  user: { id: string; username?: string; name?: string };
  view: {
    callback_id?: string;
    private_metadata?: string;
    state?: { values?: Record<string, Record<string, { value?: string | null }>> };
  };
}

export interface ModalTools {
  allowed(userId: string): boolean;
  notAllowed(user: ChatUser, what: string): string;
  /** A private line to the user in `channel` (chat.postEphemeral, else response_url). */
  tell(tools: SlackReplyTools, o: { channel?: string; user: string; text: string }): Promise<void>;
}

export function replayModal(meta: Meta, flow: string, runId: string, text: string): ModalView {
  return {
    type: "modal",
    callback_id: REPLAY_CALLBACK_ID,
    private_metadata: JSON.stringify(meta),
    title: { type: "plain_text", text: "Replay with input" },
    submit: { type: "plain_text", text: "Replay" },
    close: { type: "plain_text", text: "Cancel" },
    blocks: [
      {
        type: "section",
        text: {
          type: "mrkdwn",
          text: `A new run of *${esc(flow)}* (replay of run \`${esc(runId)}\`) with this input, on the flow's latest version. It is checked against the flow's input schema first.`,
        },
      },
      {
        type: "input",
        block_id: "input",
        label: { type: "plain_text", text: "Input (JSON)" },
        element: {
          type: "plain_text_input",
          action_id: INPUT_FIELD,
          multiline: true,
          initial_value: text,
          max_length: SLACK_INPUT_MAX,
        },
      },
    ],
  };
}

function readMeta(raw: string | undefined): { button?: DecodedButton; channel?: string } {
  try {
    const m = JSON.parse(raw ?? "") as Partial<Meta>;
    const button = typeof m.button === "string" ? decodeButton(m.button) : undefined;
    return { button, channel: typeof m.channel === "string" ? m.channel : undefined };
  } catch {
    return {};
  }
}

export function slackReplayModal(deps: Deps, t: ModalTools) {
  /** The click on "Replay with input…" (allow-list checked): the modal, or a private line why not. */
  async function open(
    body: { trigger_id?: string; user: { id: string } },
    button: DecodedButton,
    channel: string | undefined,
    tools: SlackReplyTools,
  ): Promise<void> {
    const form = await prefill(deps, button.runId, { limit: SLACK_INPUT_MAX, platform: "Slack" });
    if (!form.ok || !tools.api || !body.trigger_id) {
      const why = form.ok ? "Slack sent no trigger_id to open the form with." : form.reply;
      return t.tell(tools, { channel, user: body.user.id, text: esc(why) });
    }
    const view = replayModal({ button: encodeButton(button), channel }, form.run.flow, form.run.id, form.text);
    try {
      await tools.api.call("views.open", { trigger_id: body.trigger_id, view });
    } catch (err) {
      deps.log("warn", "slack views.open failed", { run: button.runId, error: String((err as Error)?.message ?? err) });
      await t.tell(tools, { channel, user: body.user.id, text: "Slack did not open the form; please click again." });
    }
  }

  /** A view_submission of the mend_replay modal. Resolves with its ack (within Slack's 3 s). */
  async function submit(
    body: SlackViewSubmissionBody,
    tools: SlackReplyTools,
  ): Promise<Record<string, unknown> | undefined> {
    const errors = (why: string) => ({ response_action: "errors", errors: { input: why } });
    const user: ChatUser = { id: body.user.id, name: body.user.username ?? body.user.name };
    const { button, channel } = readMeta(body.view.private_metadata);
    if (!button || !opensInputForm(button.action))
      return errors("This form is not one of mend's (or is from an older version).");
    if (!t.allowed(user.id)) return errors(t.notAllowed(user, "replay runs"));
    const text = body.view.state?.values?.input?.[INPUT_FIELD]?.value ?? "";
    const tell = async (r: ClickResult) => {
      const line = privateLine(r);
      if (line) await t.tell(tools, { channel, user: user.id, text: esc(line) });
    };
    const work = submitInput(deps, "slack", button, user, text);
    const early = await within(work, SUBMIT_DEADLINE_MS);
    if (early === TIMEOUT) {
      const failed = (err: unknown) => deps.log("error", "slack replay with input failed", { error: String(err) });
      deps.waitUntil(work.then(tell).catch(failed));
      return undefined;
    }
    const why = formError(early);
    if (why) return errors(why);
    deps.waitUntil(tell(early));
    return undefined;
  }

  return { open, submit };
}
