// A run page's actions, every one a POST form to the run actions service (no JavaScript needed):
// Retry (and on the latest version, and from a chosen step), Replay (and with edited input, the
// flow's schema errors shown inline), Cancel, Ack, Resolve (with a note), Mute (for how long) and
// Unmute. Each form carries an idempotency key of its own, so a form sent twice acts once. Who
// acked or resolved, and a silence that covers the run, are told in words above the buttons.
import type { Child, FC } from "hono/jsx";
import type { Issue } from "../engine/flow";
import { ACTIVE, type RunRecord } from "../engine/ports";
import type { ExternalInfo } from "../hub/external";
import type { RunMarks } from "../store/runs";
import type { SilenceRecord } from "../store/silences";
import { UNTIL_RESOLVED_ENDS_AT } from "../store/silences";
import { Ago, fmtTime } from "./layout";

/** What the action forms need besides the run. */
export interface ActionsView {
  run: RunRecord & { marks?: RunMarks };
  external?: ExternalInfo;
  csrf: string;
  now: number;
  /** The flow's latest version (undefined for external failures and removed flows). */
  latestVersion?: number;
  /** Main steps of the run's flow version, in order (for "retry from"). */
  steps: string[];
  /** The active silence covering this run, if any. */
  silence?: SilenceRecord;
  /** A replay with edited input that was refused: the text as sent and why. */
  draft?: { text: string; error: string; issues?: Issue[] };
  /** A fresh idempotency key per rendering: a form sent twice acts once. */
  key: string;
}

const MUTE_CHOICES: [string, string][] = [
  ["3600", "1 hour"],
  ["14400", "4 hours"],
  ["86400", "24 hours"],
  ["604800", "7 days"],
  ["", "until resolved"],
];

const Form: FC<{ v: ActionsView; action: string; class?: string; children?: Child }> = ({
  v,
  action,
  children,
  ...rest
}) => (
  <form method="post" action={`/runs/${v.run.id}/${action}`} class={rest.class ?? "inline"}>
    <input type="hidden" name="_csrf" value={v.csrf} />
    <input type="hidden" name="idempotency_key" value={`${v.key}-${action}`} />
    {children}
  </form>
);

/** Who acked, resolved or muted: words, not colour. */
export const Marks: FC<{ v: ActionsView }> = ({ v }) => {
  const m = v.run.marks;
  const s = v.silence;
  if (!m?.ackedBy && !m?.resolvedBy && !s) return null;
  return (
    <ul class="marks" aria-label="Who is on it">
      {m?.resolvedBy ? (
        <li class="mark resolved">
          ✓ Resolved by <strong>{m.resolvedBy}</strong> <Ago ms={m.resolvedAt} now={v.now} />
          {m.resolutionNote ? <span>: “{m.resolutionNote}”</span> : null}
        </li>
      ) : null}
      {m?.ackedBy ? (
        <li class="mark acked">
          Acknowledged by <strong>{m.ackedBy}</strong> <Ago ms={m.ackedAt} now={v.now} />
        </li>
      ) : null}
      {s ? (
        <li class="mark muted-mark">
          Muted{s.created_by ? ` by ${s.created_by}` : ""}:{" "}
          {Date.parse(s.ends_at) >= UNTIL_RESOLVED_ENDS_AT
            ? "until resolved"
            : `until ${fmtTime(Date.parse(s.ends_at))}`}
        </li>
      ) : null}
    </ul>
  );
};

export const RunActionsBar: FC<{ v: ActionsView }> = ({ v }) => {
  const { run, external } = v;
  const failedish = run.status === "failed" || run.status === "recovered";
  const canRetry = failedish && (!external || !!external.retry_url);
  const canReplay = !ACTIVE.includes(run.status) && (!external || !!external.replay_url);
  const older = !external && v.latestVersion !== undefined && v.latestVersion !== run.flowVersion;
  const resolved = !!run.marks?.resolvedBy;
  const failedStep = run.error?.step;
  const from = failedStep && v.steps.includes(failedStep) ? v.steps.slice(0, v.steps.indexOf(failedStep) + 1) : v.steps;
  return (
    <div class="actions" id="actions">
      {canRetry ? (
        <Form v={v} action="retry">
          <button type="submit" class="primary" title="Resume this run from its failed step">
            Retry
          </button>
        </Form>
      ) : null}
      {canRetry && older ? (
        <Form v={v} action="retry">
          <input type="hidden" name="version" value="latest" />
          <button type="submit" title={`Resume from the failed step on the flow's latest version, v${v.latestVersion}`}>
            Retry on v{v.latestVersion}
          </button>
        </Form>
      ) : null}
      {canReplay ? (
        <Form v={v} action="replay">
          <input type="hidden" name="version" value="latest" />
          <button
            type="submit"
            title={
              external
                ? "Ask the reporting system to run this job again"
                : "A new run with the same input on the latest flow version"
            }
          >
            {older ? `Replay on v${v.latestVersion}` : "Replay"}
          </button>
        </Form>
      ) : null}
      {ACTIVE.includes(run.status) ? (
        <Form v={v} action="cancel">
          <button type="submit" class="danger">
            Cancel
          </button>
        </Form>
      ) : null}
      {failedish && !resolved && !run.marks?.ackedBy ? (
        <Form v={v} action="ack">
          <button type="submit" title="Tell others you are on it">
            Ack
          </button>
        </Form>
      ) : null}
      {failedish && !resolved && v.silence ? (
        <Form v={v} action="unmute">
          <button type="submit" title="End the silence that keeps alerts like this one quiet">
            Unmute
          </button>
        </Form>
      ) : null}
      {failedish && !resolved && !v.silence ? (
        <details class="more">
          <summary class="button">Mute…</summary>
          <Form v={v} action="mute" class="pop">
            <label>
              Keep alerts of {run.flow}
              {failedStep ? ` / ${failedStep}` : ""} quiet for{" "}
              <select name="duration_s">
                {MUTE_CHOICES.map(([value, label]) => (
                  <option value={value} selected={value === "3600"}>
                    {label}
                  </option>
                ))}
              </select>
            </label>
            <button type="submit">Mute</button>
          </Form>
        </details>
      ) : null}
      {failedish && !resolved ? (
        <details class="more">
          <summary class="button">Resolve…</summary>
          <Form v={v} action="resolve" class="pop">
            <label>
              Note (optional)
              <input type="text" name="note" maxlength={2000} placeholder="what fixed it" />
            </label>
            <button type="submit">Resolve</button>
          </Form>
        </details>
      ) : null}
      {canRetry && !external && from.length > 1 ? (
        <details class="more">
          <summary class="button">Retry from…</summary>
          <Form v={v} action="retry" class="pop">
            <label>
              Rerun from step
              <select name="from_step">
                {from.map((id) => (
                  <option value={id} selected={id === failedStep}>
                    {id}
                  </option>
                ))}
              </select>
            </label>
            <label>
              on version
              <select name="version">
                <option value="original">v{run.flowVersion} (this run's)</option>
                {older ? <option value="latest">v{v.latestVersion} (latest)</option> : null}
              </select>
            </label>
            <p class="small muted">Steps before it keep their results.</p>
            <button type="submit">Retry from this step</button>
          </Form>
        </details>
      ) : null}
      {canReplay && !external ? <ReplayEditor v={v} older={older} /> : null}
    </div>
  );
};

const ReplayEditor: FC<{ v: ActionsView; older: boolean }> = ({ v, older }) => {
  const text = v.draft?.text ?? JSON.stringify(v.run.input ?? {}, null, 2);
  return (
    <details class="more editor" id="replay-editor" open={!!v.draft}>
      <summary class="button">Replay with edited input…</summary>
      <Form v={v} action="replay" class="pop wide">
        <label for="replay-input">Input (JSON)</label>
        <textarea
          id="replay-input"
          name="input"
          rows={Math.min(Math.max(text.split("\n").length + 1, 6), 24)}
          spellcheck={false}
          aria-describedby="replay-problems"
        >
          {text}
        </textarea>
        <div id="replay-problems" role="alert">
          {v.draft ? (
            <div class="notice bad">
              {v.draft.error}
              {v.draft.issues?.length ? (
                <ul class="issues">
                  {v.draft.issues.map((i) => (
                    <li>
                      <code>{i.path || "(the input)"}</code>: {i.message}
                    </li>
                  ))}
                </ul>
              ) : null}
            </div>
          ) : null}
        </div>
        <label>
          on version{" "}
          <select name="version">
            <option value="latest">{older ? `v${v.latestVersion} (latest)` : `v${v.run.flowVersion}`}</option>
            {older ? <option value="original">v{v.run.flowVersion} (this run's)</option> : null}
          </select>
        </label>
        <button type="submit" class="primary">
          Replay with this input
        </button>
      </Form>
    </details>
  );
};

/** Checks the JSON as it is typed (the schema is checked by the server, and its errors shown here). */
export const EDITOR_SCRIPT = `
  document.addEventListener("input", (e) => {
    if (e.target.id !== "replay-input") return;
    const out = document.getElementById("replay-problems");
    const button = e.target.form.querySelector("button[type=submit]");
    try {
      JSON.parse(e.target.value);
      out.textContent = "";
      button.disabled = false;
    } catch (err) {
      out.innerHTML = "";
      const d = document.createElement("div");
      d.className = "notice bad";
      d.textContent = "Not valid JSON: " + err.message;
      out.append(d);
      button.disabled = true;
    }
  });
`;
