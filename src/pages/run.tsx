// `/runs/:id`: the run's error, who is on it, its actions (run-actions.tsx), a waterfall of its
// attempts beside the selected one's details (attempts.tsx), its input, output, the alerts sent and
// replay links. While the run is active a
// small script fetches `/runs/:id/live` (this page's #run section, rendered by the same component)
// every second and swaps it in, until the run ends.
import type { FC } from "hono/jsx";
import { TERMINAL, type AttemptRecord, type OutboxRecord } from "../engine/ports";
import { TRACE_SCRIPT, Trace, selectedAttempt } from "./attempts";
import { Layout, RELATIVE_TIME_SCRIPT, Status, fmtDuration, fmtTime, jsonText, safeHref } from "./layout";
import { EDITOR_SCRIPT, Marks, RunActionsBar, type ActionsView } from "./run-actions";

export interface RunViewData extends Omit<ActionsView, "run"> {
  run: ActionsView["run"];
  attempts: AttemptRecord[];
  alerts: { row: OutboxRecord; handlerName: string | null; messageId: string | null; groupCount: number | null }[];
  replays: { id: string; status: string; createdAt: number }[];
  /** The attempt asked for with ?attempt=N (its index), if any. */
  attempt?: number;
}

const Alerts: FC<{ d: RunViewData }> = ({ d }) =>
  d.alerts.length === 0 ? (
    <p class="muted">
      {d.run.status === "failed" || d.run.status === "recovered"
        ? "No alert was planned for this run (no handler selected it, or it is on its way)."
        : "None: alerts are sent when a run fails for good."}
    </p>
  ) : (
    <table class="alerts stack">
      <thead>
        <tr>
          <th>Handler</th>
          <th>Kind</th>
          <th>Status</th>
          <th class="num">Tries</th>
          <th>Sent (UTC)</th>
          <th>Message</th>
        </tr>
      </thead>
      <tbody>
        {d.alerts.map((a) => (
          <tr data-alert={a.row.id}>
            <td>{a.handlerName ?? <span class="muted">default</span>}</td>
            <td data-label="kind">{a.row.kind}</td>
            <td>
              <Status status={a.row.status} />
            </td>
            <td class="num" data-label="tries">
              {a.row.attempts}
            </td>
            <td class="mono" data-label="sent">
              {fmtTime(a.row.deliveredAt)}
            </td>
            <td class="small">
              {a.messageId ? <span class="mono">{a.messageId}</span> : null}
              {a.groupCount && a.groupCount > 1 ? <span class="muted"> (grouped: {a.groupCount} failures)</span> : null}
              {a.row.lastError ? <div class="muted">last error: {a.row.lastError}</div> : null}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );

/** The live part of the page: everything that changes while the run goes on. */
export const RunView: FC<{ d: RunViewData }> = ({ d }) => {
  const { run, external } = d;
  const link = safeHref(external?.link);
  return (
    <section
      id="run"
      data-status={run.status}
      data-live={`/runs/${run.id}/live`}
      data-title={`${run.flow} ${run.status}`}
    >
      <h1>
        <span class="mono">{run.id}</span> <Status status={run.status} />
      </h1>
      <div class="card">
        <dl class="meta">
          <dt>Flow</dt>
          <dd>
            {external ? (
              <span>{run.flow}</span>
            ) : (
              <a href={`/flows/${encodeURIComponent(run.flow)}?v=${run.flowVersion}`}>{run.flow}</a>
            )}{" "}
            <span class="muted">v{run.flowVersion}</span>
          </dd>
          {external ? (
            <>
              <dt>Reported by</dt>
              <dd>
                {external.source} · job <span class="mono">{external.job}</span>
                {link ? (
                  <>
                    {" "}
                    ·{" "}
                    <a href={link} rel="noopener noreferrer" target="_blank">
                      open
                    </a>
                  </>
                ) : null}
              </dd>
            </>
          ) : null}
          <dt>Started</dt>
          <dd class="mono">{fmtTime(run.createdAt)}</dd>
          <dt>Finished</dt>
          <dd class="mono">
            {run.finishedAt !== null
              ? `${fmtTime(run.finishedAt)} (took ${fmtDuration(run.finishedAt - run.createdAt)})`
              : `running for ${fmtDuration(d.now - run.createdAt)}`}
          </dd>
          {run.status === "retrying" && run.dueAt !== null ? (
            <>
              <dt>Next attempt</dt>
              <dd>in {fmtDuration(run.dueAt - d.now)}</dd>
            </>
          ) : null}
          {run.replayOf ? (
            <>
              <dt>Replay of</dt>
              <dd class="mono">
                <a href={`/runs/${run.replayOf}`} rel="replay-of">
                  {run.replayOf}
                </a>
              </dd>
            </>
          ) : null}
          {d.replays.length ? (
            <>
              <dt>Replayed by</dt>
              <dd class="mono">
                {d.replays.map((r, i) => (
                  <>
                    {i ? ", " : ""}
                    <a href={`/runs/${r.id}`} class="replayed-by">
                      {r.id}
                    </a>{" "}
                    <Status status={r.status} />
                  </>
                ))}
              </dd>
            </>
          ) : null}
        </dl>
      </div>
      {run.error ? (
        <div class="errorbox">
          <strong>
            [{run.error.type}] {run.error.message}
          </strong>
          <div class="small">
            {run.error.step ? (
              <>
                step <span class="mono">{run.error.step}</span>
              </>
            ) : null}
            {run.error.attempts ? ` after ${run.error.attempts} attempt(s)` : ""}
            {run.error.status ? ` · HTTP ${run.error.status}` : ""}
          </div>
        </div>
      ) : null}
      <Marks v={d} />
      <RunActionsBar v={d} />
      <h2>Steps</h2>
      <Trace run={run} attempts={d.attempts} now={d.now} selected={selectedAttempt(run, d.attempts, d.attempt)} />
      <h2>Input</h2>
      <pre id="input">{jsonText(run.input)}</pre>
      {run.output !== null ? (
        <>
          <h2>Output</h2>
          <pre id="output">{jsonText(run.output)}</pre>
        </>
      ) : null}
      {run.error ? (
        <details id="run-error">
          <summary>Error object</summary>
          <pre>{jsonText(run.error)}</pre>
        </details>
      ) : null}
      <h2>Alerts</h2>
      <Alerts d={d} />
    </section>
  );
};

/** Polls the live fragment while the run is active; keeps opened <details> open; one last look after the end (alerts). */
const LIVE_SCRIPT = `(() => {${TRACE_SCRIPT}${EDITOR_SCRIPT}
  const END = ${JSON.stringify(TERMINAL)};
  let el = document.getElementById("run");
  if (!el) return;
  let last = false;
  const tick = async () => {
    try {
      const res = await fetch(el.dataset.live, { headers: { accept: "text/html" }, cache: "no-store", credentials: "same-origin" });
      if (res.status === 401 || res.status === 403 || res.status === 404) return;
      if (res.ok) {
        const t = document.createElement("template");
        t.innerHTML = (await res.text()).trim();
        const next = t.content.getElementById("run");
        if (next) {
          for (const d of el.querySelectorAll("details[open]")) next.querySelector("#" + CSS.escape(d.id))?.setAttribute("open", "");
          el.replaceWith(next);
          el = next;
          if (window.mendAttempt !== undefined) pick(el, window.mendAttempt);
          document.title = el.dataset.title + " · mend";
        }
      }
    } catch {}
    if (END.includes(el.dataset.status)) {
      if (last) return;
      last = true;
      setTimeout(tick, 1500);
    } else setTimeout(tick, 1000);
  };
  if (!END.includes(el.dataset.status)) setTimeout(tick, 1000);
})();`;

export const RunPage: FC<{ d: RunViewData; nonce: string; signedIn: boolean; user?: string; notice?: string }> = ({
  d,
  nonce,
  signedIn,
  user,
  notice,
}) => (
  <Layout
    title={`${d.run.flow} ${d.run.status}`}
    nonce={nonce}
    csrf={d.csrf}
    signedIn={signedIn}
    user={user}
    script={LIVE_SCRIPT + RELATIVE_TIME_SCRIPT}
  >
    <p class="small">
      <a href="/">← Runs</a> · <a href={`/?flow=${encodeURIComponent(d.run.flow)}`}>all runs of {d.run.flow}</a>
    </p>
    {notice ? <div class="notice">{notice}</div> : null}
    <RunView d={d} />
  </Layout>
);
