// "Replay with input…" on Discord (SPEC §11): the click is answered with a modal (interaction
// response type 9), its submit (interaction type 5, MODAL_SUBMIT) replays with the edited input.
// discord.com/developers/docs/interactions/receiving-and-responding#interaction-response-object-modal
//
//   const modal = discordReplayModal(deps, { allowed, notAllowed, deadlineMs });
//   await modal.open(button, respond)           the modal, or an ephemeral line (input over 4000
//                                               characters: the run page link)
//   await modal.submit(i, respond, followUp)    an ephemeral line why nothing ran, else a deferred
//                                               update (6): the alert is edited and its thread told
import type {
  APIInteractionResponseChannelMessageWithSource,
  APIModalInteractionResponse,
  APIModalSubmission,
} from "discord-api-types/v10";
import type { Deps } from "../../deps";
import type { ChatUser } from "../../store/alerts";
import { privateLine } from "../clicks";
import { TIMEOUT, within } from "../deadline";
import { decodeButton, encodeButton, type DecodedButton } from "../model";
import { truncate } from "../truncate";
import { formError, INPUT_FIELD, opensInputForm, prefill, submitInput } from "../replay-input";
import { CALLBACK, EPHEMERAL } from "./components";
import { clicker, ephemeral, type DiscordInteraction, type Respond } from "./interactions";

/** A text input's max_length (and so the longest prefill). */
export const DISCORD_INPUT_MAX = 4000;
const MODAL = 9;
const LABEL = 18;
const TEXT_INPUT = 4;
const PARAGRAPH = 2;

export interface DiscordModalTools {
  allowed(i: DiscordInteraction): boolean;
  notAllowed(user: ChatUser, what: string): string;
  deadlineMs: number;
}

export function replayModal(buttonId: string, flow: string, text: string): APIModalInteractionResponse {
  const modal = {
    type: MODAL,
    data: {
      custom_id: buttonId,
      title: "Replay with input",
      components: [
        {
          type: LABEL,
          label: "Input (JSON)",
          description: truncate(`A new run of ${flow} with this input, checked against its input schema`, 100),
          component: {
            type: TEXT_INPUT,
            custom_id: INPUT_FIELD,
            style: PARAGRAPH,
            value: text,
            max_length: DISCORD_INPUT_MAX,
            required: true,
          },
        },
      ],
    },
  };
  return modal as APIModalInteractionResponse;
}

/** The text input's value in a modal submit, whether it came in a label (18) or an action row (1). */
export function submittedText(data: Partial<APIModalSubmission> | undefined): string | undefined {
  for (const c of data?.components ?? []) {
    const inputs = "component" in c ? [c.component] : "components" in c ? c.components : [];
    for (const x of inputs) if (x.custom_id === INPUT_FIELD && "value" in x) return String(x.value);
  }
  return undefined;
}

export function discordReplayModal(deps: Deps, t: DiscordModalTools) {
  /** A click on "Replay with input…" by an allowed user. */
  async function open(button: DecodedButton, respond: Respond): Promise<void> {
    const form = await prefill(deps, button.runId, { limit: DISCORD_INPUT_MAX, platform: "Discord" });
    if (!form.ok) return respond(ephemeral(form.reply));
    const r = replayModal(encodeButton(button), form.run.flow, form.text);
    return respond(r as unknown as { type: number; data: Record<string, unknown> });
  }

  async function submit(
    i: DiscordInteraction,
    respond: Respond,
    followUp: (data: APIInteractionResponseChannelMessageWithSource["data"]) => Promise<void>,
  ): Promise<void> {
    const user = clicker(i);
    const button = decodeButton(i.data?.custom_id ?? "");
    if (!button || !opensInputForm(button.action))
      return respond(ephemeral("This form is not one of mend's (or is from an older version)."));
    if (!t.allowed(i)) return respond(ephemeral(t.notAllowed(user, "replay runs")));
    const text = submittedText(i.data as Partial<APIModalSubmission>) ?? "";
    const work = submitInput(deps, "discord", button, user, text);
    const early = await within(work, t.deadlineMs);
    if (early === TIMEOUT) {
      await respond({ type: CALLBACK.DEFERRED_UPDATE_MESSAGE });
      const line = privateLine(await work);
      if (line) await followUp({ content: line, flags: EPHEMERAL });
      return;
    }
    const line = formError(early) ?? privateLine(early);
    await respond(line ? ephemeral(line) : { type: CALLBACK.DEFERRED_UPDATE_MESSAGE });
  }

  return { open, submit };
}
