// A run page's action form → the run actions request. Fields: `version` (retry, replay),
// `from_step` (retry), `input` (replay: JSON text), `note` (resolve), `duration_s` (mute: empty =
// until resolved), `idempotency_key` (any action: a form sent twice acts once).
import type { ActionRequest, RunActionName } from "../runs/actions";

type Form = Record<string, string | File | (string | File)[]>;

const text = (v: unknown) => (typeof v === "string" && v.trim() !== "" ? v.trim() : undefined);

export function actionFromForm(
  action: RunActionName,
  runId: string,
  form: Form,
): Omit<ActionRequest, "by"> | { error: string } {
  const req: Omit<ActionRequest, "by"> = { action, runId, idempotencyKey: text(form.idempotency_key)?.slice(0, 255) };
  const version = text(form.version);
  if (version === "original" || version === "latest") req.version = version;
  if (action === "retry") req.fromStep = text(form.from_step);
  if (action === "replay" && text(form.input) !== undefined) {
    try {
      req.input = { value: JSON.parse(text(form.input)!) };
    } catch (err) {
      return { error: `The input is not valid JSON: ${(err as Error).message}` };
    }
  }
  if (action === "resolve") req.note = text(form.note)?.slice(0, 2000);
  if (action === "mute") {
    const s = text(form.duration_s);
    const n = s === undefined ? undefined : Number(s);
    if (n !== undefined && !(n > 0 && n <= 366 * 24 * 3600))
      return { error: "The mute duration must be a number of seconds up to a year." };
    req.muteMs = n === undefined ? null : Math.round(n * 1000);
  }
  return req;
}
