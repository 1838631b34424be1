// Replay with edited input (SPEC §11), the platform-neutral half. A button whose table entry has
// `form: "input"` (./actions.ts) opens a form instead of acting; each platform draws it its way
// (./slack/replay-modal.ts: views.open; ./discord/replay-modal.ts: an interaction response of type 9):
//
//   prefill(deps, runId, { limit, platform })   the run's input as indented JSON, or why there is
//                                               no form (too long for the platform: the run page link)
//   submitInput(deps, platform, button, user, text)
//                                               parse + check against the flow's input schema, then
//                                               the replay through deps.clicks (exactly once per input)
//   formError(result)                           what to show inside the form (Slack response_action
//                                               errors, Discord an ephemeral reply); undefined: it worked
//   editedReplayNote(by, runId)                 the thread line src/chat/updates.ts posts
//
// The input shown is the run's stored input, so secret values read as redacted there (the ledger
// never holds them); whoever replays types them again.
import type { Deps } from "../deps";
import { validateInput } from "../engine/input";
import type { RunRecord } from "../engine/ports";
import type { ChatUser } from "../store/alerts";
import { chatAction } from "./actions";
import type { ClickResult } from "./clicks";
import { runLink, type DecodedButton } from "./model";
import { truncate } from "./truncate";

/** The form's one field: Slack action_id, Discord text input custom_id. */
export const INPUT_FIELD = "input_json";
/** What a form's error or notice may say (Slack shows it under the field, Discord in a message). */
const REPLY_MAX = 1900;

/** Whether clicking this button opens the edited-input form. */
export const opensInputForm = (action: string): boolean => chatAction(action)?.form === "input";

export type Prefill = { ok: true; text: string; run: RunRecord } | { ok: false; reply: string };

export async function prefill(
  deps: Pick<Deps, "runs" | "config">,
  runId: string,
  o: { limit: number; platform: string },
): Promise<Prefill> {
  const run = await deps.runs.getRun(runId);
  if (!run) return { ok: false, reply: `Run ${runId} does not exist.` };
  const text = JSON.stringify(run.input ?? null, null, 2);
  if (text.length <= o.limit) return { ok: true, text, run };
  const url = runLink(deps.config.MEND_PUBLIC_URL, run.id);
  const where = url
    ? `Edit it on the run page instead: ${url}#replay-editor`
    : `Replay it through the API instead: POST /api/runs/${run.id}/replay with {"input": …}`;
  return {
    ok: false,
    reply: `The input of run ${run.id} is ${text.length} characters as JSON, more than a ${o.platform} form holds (${o.limit}). ${where}`,
  };
}

type Read = { ok: true; value: unknown } | { ok: false; error: string };

/** The form's text as the new input: JSON that the flow's (latest) input schema accepts. */
async function readInput(engine: Deps["engine"], run: RunRecord, text: string): Promise<Read> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, error: `The input is not valid JSON: ${(err as Error).message}` };
  }
  // An external run's input goes to its replay_url, which decides for itself.
  if (run.external) return { ok: true, value };
  let schema: Record<string, unknown> | undefined;
  try {
    schema = (await engine.loadFlow(run.flow)).flow.input;
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
  const issues = validateInput(schema, value);
  if (issues.length === 0) return { ok: true, value };
  const why = issues.map((i) => `${i.path}: ${i.message}`).join("; ");
  return { ok: false, error: `The input does not match the input schema of flow ${run.flow}: ${why}` };
}

/** Replays `button`'s run with the form's text as input, once per (message, run, input). */
export async function submitInput(
  deps: Pick<Deps, "runs" | "engine" | "clicks">,
  platform: string,
  button: DecodedButton,
  user: ChatUser,
  text: string,
): Promise<ClickResult> {
  const run = await deps.runs.getRun(button.runId);
  if (!run) return { status: "not_found", reply: `Run ${button.runId} does not exist.`, summary: "unknown run" };
  const read = await readInput(deps.engine, run, text);
  if (!read.ok) return { status: "refused", reply: truncate(read.error, REPLY_MAX), summary: read.error };
  return deps.clicks.handle({
    platform,
    action: button.action,
    runId: button.runId,
    alertId: button.alertId || undefined,
    gen: button.gen,
    user,
    allowed: true,
    input: { value: read.value },
  });
}

/** Why nothing ran, to show in the form; undefined when the replay started (or had started before). */
export function formError(r: ClickResult): string | undefined {
  if (r.status === "started" || r.status === "done" || r.status === "duplicate") return undefined;
  return truncate(r.reply ?? r.summary, REPLY_MAX);
}

/** The thread line for a replay with edited input. */
export function editedReplayNote(by: string, runId: string): string {
  return `Replay by @${by} with edited input → run ${runId}`;
}
