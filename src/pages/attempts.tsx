// A run's step attempts as a waterfall (one bar per attempt on the run's time axis) beside a details
// panel for the selected attempt: for an http step what was sent and what came back, bodies
// pretty-printed when they are JSON. Without JavaScript a row is a link (?attempt=N) that selects it;
// with it, the run page's script swaps the panel in place.
import type { FC } from "hono/jsx";
import type { AttemptRecord, RunRecord } from "../engine/ports";
import { Status, fmtDuration, fmtTime, jsonText } from "./layout";

interface HttpExchange {
  request?: { method?: string; url?: string; headers?: Record<string, string>; body?: string };
  response?: { status?: number; headers?: Record<string, string>; body?: unknown };
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const headersOf = (v: unknown) =>
  isRecord(v)
    ? (Object.fromEntries(Object.entries(v).map(([k, x]) => [k, String(x)])) as Record<string, string>)
    : undefined;

/** The HTTP request and response of an attempt, when it was an http step (from its error details or output). */
export function httpExchange(a: AttemptRecord): HttpExchange | undefined {
  const out: HttpExchange = {};
  const details = a.error?.details;
  if (isRecord(details?.request)) {
    const r = details.request;
    out.request = {
      method: String(r.method ?? ""),
      url: String(r.url ?? ""),
      headers: headersOf(r.headers),
      body: typeof r.body === "string" ? r.body : undefined,
    };
  }
  if (typeof a.error?.status === "number" && details)
    out.response = { status: a.error.status, headers: headersOf(details.headers), body: details.body };
  else if (
    isRecord(a.output) &&
    typeof a.output.status === "number" &&
    isRecord(a.output.headers) &&
    "body" in a.output
  )
    out.response = { status: a.output.status, headers: headersOf(a.output.headers), body: a.output.body };
  return out.request || out.response ? out : undefined;
}

/** A body as shown: JSON text (or a parsed value) pretty-printed, anything else as it is. */
export function prettyBody(body: unknown): string {
  if (typeof body !== "string") return jsonText(body);
  const t = body.trim();
  if (/^[[{]/.test(t)) {
    try {
      return jsonText(JSON.parse(t));
    } catch {
      // not JSON after all (or cut short): shown as sent
    }
  }
  return jsonText(body);
}

/** A step's place inside blocks: `fan[2].call` → fan › #2 › call, `par.a.call` → par › a › call. */
export function stepPlace(step: string): { label: string; depth: number } {
  const parts = step.replace(/\[(\d+)\]/g, ".#$1").split(".");
  return { label: parts.join(" › "), depth: parts.length - 1 };
}

/** Which attempt is shown first: the one asked for, else the last failed attempt of the failed step, else the last. */
export function selectedAttempt(run: RunRecord, attempts: AttemptRecord[], asked?: number): number {
  if (asked !== undefined && asked >= 0 && asked < attempts.length) return asked;
  for (let i = attempts.length - 1; i >= 0; i--)
    if (attempts[i]!.status === "failed" && (!run.error?.step || attempts[i]!.step === run.error.step)) return i;
  for (let i = attempts.length - 1; i >= 0; i--) if (attempts[i]!.status === "failed") return i;
  return attempts.length - 1;
}

const Headers: FC<{ headers?: Record<string, string> }> = ({ headers }) => {
  const entries = Object.entries(headers ?? {});
  if (entries.length === 0) return <p class="muted small">no headers</p>;
  return (
    <dl class="kv">
      {entries.map(([k, v]) => (
        <>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </>
      ))}
    </dl>
  );
};

const Panel: FC<{ a: AttemptRecord; i: number; shown: boolean; now: number }> = ({ a, i, shown, now }) => {
  const x = httpExchange(a);
  const dur = a.durationMs ?? (a.finishedAt ?? now) - a.startedAt;
  return (
    <article class="attempt" id={`attempt-${i}`} data-index={i} hidden={!shown} aria-labelledby={`attempt-${i}-title`}>
      <h3 id={`attempt-${i}-title`}>
        <span class="mono">{a.step}</span>
        <span class="muted small">
          try {a.attempt}
          {a.phase === "on_failure" ? " · error handler" : ""}
        </span>
        <Status status={a.status} />
      </h3>
      <div class="small muted">
        started {fmtTime(a.startedAt)} ·{" "}
        {a.status === "running" ? `running for ${fmtDuration(dur)}` : `took ${fmtDuration(dur)}`}
      </div>
      {a.error ? (
        <div class="errorbox">
          <strong>
            [{a.error.type}] {a.error.message}
          </strong>
        </div>
      ) : null}
      {x?.request ? (
        <>
          <h4>Request sent</h4>
          <div class="reqline">
            <b>{x.request.method}</b>
            {x.request.url}
          </div>
          <Headers headers={x.request.headers} />
          {x.request.body !== undefined ? <pre class="body">{prettyBody(x.request.body)}</pre> : null}
        </>
      ) : null}
      {x?.response ? (
        <>
          <h4>Response</h4>
          <div class="reqline">
            <b>HTTP {x.response.status}</b>
            <span
              class={`badge ${x.response.status !== undefined && x.response.status < 400 ? "s-succeeded" : "s-failed"}`}
            >
              {x.response.status !== undefined && x.response.status < 400 ? "ok" : "error"}
            </span>
          </div>
          <Headers headers={x.response.headers} />
          <pre class="body">{prettyBody(x.response.body)}</pre>
        </>
      ) : a.output !== null && a.output !== undefined ? (
        <>
          <h4>Output</h4>
          <pre>{jsonText(a.output)}</pre>
        </>
      ) : null}
      {a.error ? (
        <details>
          <summary>The whole error object</summary>
          <pre>{jsonText(a.error)}</pre>
        </details>
      ) : null}
    </article>
  );
};

export const Trace: FC<{ run: RunRecord; attempts: AttemptRecord[]; now: number; selected: number }> = ({
  run,
  attempts,
  now,
  selected,
}) => {
  if (attempts.length === 0) return <p class="muted">No step has started yet.</p>;
  const t0 = Math.min(run.createdAt, ...attempts.map((a) => a.startedAt));
  const end = Math.max(run.finishedAt ?? now, ...attempts.map((a) => a.finishedAt ?? now));
  const span = Math.max(end - t0, 1);
  return (
    <div class="trace">
      <nav class="waterfall" aria-label="Step attempts">
        {attempts.map((a, i) => {
          const dur = a.durationMs ?? (a.finishedAt ?? now) - a.startedAt;
          const left = Math.min(((a.startedAt - t0) / span) * 100, 99);
          const width = Math.min(Math.max((dur / span) * 100, 0.5), 100 - left);
          const place = stepPlace(a.step);
          return (
            <a
              class={`wrow phase-${a.phase}`}
              href={`?attempt=${i}#attempt-${i}`}
              data-index={i}
              data-step={a.step}
              data-attempt={a.attempt}
              data-status={a.status}
              aria-current={i === selected ? "true" : undefined}
              aria-label={`${a.step}, try ${a.attempt}: ${a.status}, ${fmtDuration(dur)}`}
            >
              <span class="wname" data-depth={place.depth} style={`padding-left:${place.depth * 0.75}em`}>
                <span class="mono">{place.label}</span> <small>try {a.attempt}</small>
              </span>
              <Status status={a.status} />
              <span class="track" title={`+${fmtDuration(a.startedAt - t0)}, ${fmtDuration(dur)}`}>
                <i class={a.status} style={`left:${left.toFixed(2)}%;width:${width.toFixed(2)}%`} />
              </span>
              <span class="wdur">{a.status === "running" ? `${fmtDuration(dur)}…` : fmtDuration(dur)}</span>
            </a>
          );
        })}
      </nav>
      <div class="panel" id="attempt-panel" aria-live="polite">
        {attempts.map((a, i) => (
          <Panel a={a} i={i} shown={i === selected} now={now} />
        ))}
      </div>
    </div>
  );
};

/** Selecting an attempt in place (no navigation); the choice survives the live refresh of the page. */
export const TRACE_SCRIPT = `
  const pick = (root, i) => {
    for (const r of root.querySelectorAll(".wrow")) {
      if (r.dataset.index === String(i)) r.setAttribute("aria-current", "true");
      else r.removeAttribute("aria-current");
    }
    for (const p of root.querySelectorAll("article.attempt")) p.hidden = p.dataset.index !== String(i);
  };
  document.addEventListener("click", (e) => {
    const row = e.target.closest && e.target.closest("a.wrow");
    if (!row || e.metaKey || e.ctrlKey || e.shiftKey) return;
    e.preventDefault();
    window.mendAttempt = row.dataset.index;
    pick(document, row.dataset.index);
    history.replaceState(null, "", "?attempt=" + row.dataset.index);
  });
`;
