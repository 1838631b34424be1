// Bulk Retry / Replay from the runs list: the list's form (ticked runs, or every run matching the
// filters) → a confirmation naming the count and the runs → the run actions service's bulk → a
// result page whose progress (how many of the runs it set going have ended, and how) refreshes
// itself, or on a button without JavaScript.
import type { FC } from "hono/jsx";
import { TERMINAL } from "../engine/ports";
import type { StoredRun } from "../store/runs";
import { Layout, Status } from "./layout";

export type BulkAction = "retry" | "replay";
const VERB = { retry: "Retry", replay: "Replay" } as const;
const SHOWN = 50;

const Hidden: FC<{ csrf: string; ids: string[] }> = ({ csrf, ids }) => (
  <>
    <input type="hidden" name="_csrf" value={csrf} />
    {ids.map((id) => (
      <input type="hidden" name="run" value={id} />
    ))}
  </>
);

const RunLines: FC<{ runs: StoredRun[] }> = ({ runs }) => (
  <ul class="runlines">
    {runs.slice(0, SHOWN).map((r) => (
      <li data-run={r.id}>
        <a class="mono small" href={`/runs/${r.id}`}>
          {r.id}
        </a>{" "}
        {r.flow} <Status status={r.status} />
      </li>
    ))}
    {runs.length > SHOWN ? <li class="muted">… and {runs.length - SHOWN} more</li> : null}
  </ul>
);

/** The confirmation takes a moment for many runs: say so, and do not send it twice. */
const WORKING_SCRIPT = `document.getElementById("confirm").addEventListener("submit", (e) => {
  const b = e.target.querySelector("button[type=submit]");
  setTimeout(() => { b.disabled = true; b.textContent = "Working… (" + b.textContent.trim() + ")"; });
});`;

export interface ConfirmProps {
  nonce: string;
  csrf: string;
  signedIn: boolean;
  user?: string;
  action: BulkAction;
  runs: StoredRun[];
  /** Ticked runs, or all matching the filters (described). */
  scope: string;
  back: string;
  key: string;
}

export const BulkConfirmPage: FC<ConfirmProps> = (p) => {
  const n = p.runs.length;
  const what =
    p.action === "retry"
      ? "Each failed or recovered run resumes from its failed step; others are skipped and say why."
      : "Each run starts again as a new run with its own input, on its flow's latest version.";
  return (
    <Layout
      title={`${VERB[p.action]} ${n} runs?`}
      here="/"
      nonce={p.nonce}
      csrf={p.csrf}
      signedIn={p.signedIn}
      user={p.user}
      script={WORKING_SCRIPT}
    >
      <h1>
        {VERB[p.action]} {n} run{n === 1 ? "" : "s"}?
      </h1>
      <p>
        {p.scope}. {what}
      </p>
      <form method="post" action="/runs/bulk" class="actions" id="confirm">
        <Hidden csrf={p.csrf} ids={p.runs.map((r) => r.id)} />
        <input type="hidden" name="do" value={p.action} />
        <input type="hidden" name="idempotency_key" value={p.key} />
        <button type="submit" class="primary">
          {VERB[p.action]} {n} run{n === 1 ? "" : "s"}
        </button>
        <a class="button" href={p.back}>
          Cancel
        </a>
      </form>
      <RunLines runs={p.runs} />
    </Layout>
  );
};

export interface ProgressProps {
  csrf: string;
  action: BulkAction;
  /** The runs the bulk action set going (retry: the runs themselves; replay: the new runs). */
  started: StoredRun[];
  skipped: { run_id: string; reason: string }[];
}

/** How far the started runs are; refreshed by the result page's script while some are still going. */
export const BulkProgress: FC<ProgressProps> = (p) => {
  const ended = p.started.filter((r) => TERMINAL.includes(r.status));
  const by = new Map<string, number>();
  for (const r of p.started) by.set(r.status, (by.get(r.status) ?? 0) + 1);
  const done = p.started.length > 0 && ended.length === p.started.length;
  return (
    <section id="bulk-progress" data-done={done ? "true" : "false"}>
      <p>
        <strong>
          {ended.length} of {p.started.length}
        </strong>{" "}
        {p.action === "retry" ? "retried runs" : "new runs"} ended
        {p.skipped.length ? `; ${p.skipped.length} skipped` : ""}.
      </p>
      <progress max={Math.max(p.started.length, 1)} value={ended.length} aria-label="Runs ended">
        {ended.length} of {p.started.length}
      </progress>
      <p class="counts">
        {[...by].map(([status, n]) => (
          <span>
            <Status status={status} /> {n}{" "}
          </span>
        ))}
      </p>
      {done ? null : (
        <form method="post" action="/runs/bulk/progress" class="inline">
          <Hidden csrf={p.csrf} ids={p.started.map((r) => r.id)} />
          <input type="hidden" name="do" value={p.action} />
          <button type="submit">Refresh progress</button>
        </form>
      )}
      <RunLines runs={p.started} />
    </section>
  );
};

const PROGRESS_SCRIPT = `(() => {
  const tick = async () => {
    const el = document.getElementById("bulk-progress");
    if (!el || el.dataset.done === "true") return;
    const form = el.querySelector("form");
    try {
      const res = await fetch(form.action, { method: "POST", body: new URLSearchParams(new FormData(form)), headers: { "x-mend-live": "1" }, credentials: "same-origin" });
      if (res.ok) {
        const t = document.createElement("template");
        t.innerHTML = (await res.text()).trim();
        const next = t.content.getElementById("bulk-progress");
        if (next) el.replaceWith(next);
      }
    } catch {}
    setTimeout(tick, 1000);
  };
  setTimeout(tick, 1000);
})();`;

export const BulkResultPage: FC<
  ProgressProps & { nonce: string; signedIn: boolean; user?: string; summary: string }
> = (p) => (
  <Layout
    title={p.summary}
    here="/"
    nonce={p.nonce}
    csrf={p.csrf}
    signedIn={p.signedIn}
    user={p.user}
    script={PROGRESS_SCRIPT}
  >
    <p class="small">
      <a href="/">← Runs</a>
    </p>
    <h1>{p.summary}</h1>
    <BulkProgress {...p} />
    {p.skipped.length ? (
      <>
        <h2>Skipped</h2>
        <ul class="runlines" id="skipped">
          {p.skipped.map((s) => (
            <li>
              <a class="mono small" href={`/runs/${s.run_id}`}>
                {s.run_id}
              </a>
              : {s.reason}
            </li>
          ))}
        </ul>
      </>
    ) : null}
  </Layout>
);
