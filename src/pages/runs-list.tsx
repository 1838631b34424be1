// `/`: runs, newest first, filtered by flow and status, keyset-paginated; per flow the failure
// rate of the last 24 hours as a small inline SVG bar chart.
import { raw } from "hono/html";
import type { FC } from "hono/jsx";
import { ACTIVE, TERMINAL } from "../engine/ports";
import { HOUR_MS, type FlowRate } from "../store/run-stats";
import { externalOf } from "../hub/external";
import type { RunListQuery } from "../store/run-list";
import type { StoredRun } from "../store/runs";
import { Ago, Layout, RELATIVE_TIME_SCRIPT, Status, fmtDuration } from "./layout";

const STATUSES: readonly string[] = [...ACTIVE, ...TERMINAL];
export const PAGE_SIZE = 50;

/** The list's filters, as read from the query string. */
export type ListFilter = Omit<RunListQuery, "limit">;

const RELATIVE = /^(\d{1,4})([mhd])$/;
const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A start-time bound: `2026-05-01T10:00` (UTC, as a datetime-local field sends it), full ISO, or `90m`/`24h`/`7d` ago. */
export function parseTime(v: string | undefined, now: number): number | undefined {
  if (!v || v.length > 40) return undefined;
  const rel = RELATIVE.exec(v.trim());
  if (rel) return now - Number(rel[1]) * UNIT_MS[rel[2]!]!;
  if (!/^\d{4}-\d\d-\d\d(T\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)?)?$/.test(v)) return undefined;
  const ms = Date.parse(/T.*(Z|[+-]\d\d:\d\d)$/.test(v) ? v : `${v.includes("T") ? v : `${v}T00:00`}Z`);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Reads ?flow=&status=&q=&since=&until=&cursor=; unknown values are dropped rather than refused. */
export function parseFilter(q: Record<string, string>, now: number): ListFilter {
  const f: ListFilter = {};
  if (q.flow && q.flow.length <= 200) f.flow = q.flow;
  if (q.status && STATUSES.includes(q.status)) f.status = q.status;
  if (q.q && q.q.trim() && q.q.length <= 200) f.q = q.q.trim();
  const since = parseTime(q.since, now);
  const until = parseTime(q.until, now);
  if (since !== undefined) f.since = since;
  if (until !== undefined) f.until = until;
  if (q.cursor && /^([0-9A-Za-z]{1,100}|t\.\d{1,15})$/.test(q.cursor)) f.cursor = q.cursor;
  return f;
}

/** An epoch-ms time as a datetime-local value (UTC, minutes). */
const localValue = (ms: number | undefined) => (ms === undefined ? "" : new Date(ms).toISOString().slice(0, 16));

/** The filters in words, for the bulk confirmation. */
export function describeFilter(f: ListFilter): string {
  const parts = [];
  if (f.flow) parts.push(`flow ${f.flow}`);
  if (f.status) parts.push(`status ${f.status}`);
  if (f.q) parts.push(`search “${f.q}”`);
  if (f.since !== undefined) parts.push(`started from ${new Date(f.since).toISOString()}`);
  if (f.until !== undefined) parts.push(`started before ${new Date(f.until).toISOString()}`);
  return parts.join(", ") || "no filter: the newest runs";
}

export function listHref(f: ListFilter): string {
  const p = new URLSearchParams();
  if (f.flow) p.set("flow", f.flow);
  if (f.status) p.set("status", f.status);
  if (f.q) p.set("q", f.q);
  if (f.since !== undefined) p.set("since", new Date(f.since).toISOString());
  if (f.until !== undefined) p.set("until", new Date(f.until).toISOString());
  if (f.cursor) p.set("cursor", f.cursor);
  const s = p.toString();
  return s ? `/?${s}` : "/";
}

const pct = (n: number, of: number) =>
  of === 0 ? "0%" : `${((100 * n) / of).toFixed(n * 1000 < of ? 2 : 1).replace(/\.0+$/, "")}%`;
const two = (n: number) => (n < 10 ? `0${n}` : String(n));
/** HH:MM (UTC) of an epoch-ms time: arithmetic, as it runs 48 times per chart. */
const hh = (ms: number) => {
  const m = Math.floor(ms / 60_000) % 1440;
  return `${two(Math.floor(m / 60))}:${two(m % 60)}`;
};

const esc = (v: string) => v.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

/**
 * 24 hourly bars: the grey bar shows there were runs, the red part the share that failed.
 * Built as a string (every value escaped): a chart per flow on every list page, so it is kept cheap.
 */
function rateSvg(rate: FlowRate): string {
  const W = 10;
  const H = 36;
  const width = rate.hours.length * W;
  let out = `<svg width="${width}" height="${H + 2}" viewBox="0 0 ${width} ${H + 2}" role="img" aria-label="${esc(`${rate.flow}: ${pct(rate.failed, rate.runs)} of ${rate.runs} runs failed in the last 24 hours`)}">`;
  rate.hours.forEach((h, i) => {
    const x = i * W;
    const failH = h.runs ? Math.max(h.failed ? 2 : 0, Math.round((H * h.failed) / h.runs)) : 0;
    out += `<g><title>${hh(h.hour)}–${hh(h.hour + HOUR_MS)} UTC: ${h.failed} of ${h.runs} failed (${pct(h.failed, h.runs)})${h.recovered ? `, ${h.recovered} recovered` : ""}</title>`;
    out += h.runs
      ? `<rect x="${x}" y="1" width="${W - 2}" height="${H}" rx="1" fill="#e7eaf0"/>`
      : `<rect x="${x}" y="${H}" width="${W - 2}" height="1" fill="#d5d9e0"/>`;
    if (failH) out += `<rect x="${x}" y="${1 + H - failH}" width="${W - 2}" height="${failH}" rx="1" fill="#d64045"/>`;
    out += "</g>";
  });
  return `${out}</svg>`;
}

export const RateChart: FC<{ rate: FlowRate }> = ({ rate }) => raw(rateSvg(rate));

export interface RunsListProps {
  nonce: string;
  csrf: string;
  signedIn: boolean;
  user?: string;
  filter: ListFilter;
  runs: StoredRun[];
  next: string | null;
  flows: string[];
  rates: FlowRate[];
  now: number;
}

const ERROR_SHOWN = 120;

/** The failure-rate cards behind one summary line (closed by default: the list comes first). */
const Rates: FC<{ rates: FlowRate[] }> = ({ rates }) => {
  if (rates.length === 0) return <p class="muted small">No runs in the last 24 hours.</p>;
  const total = rates.reduce((n, r) => n + r.runs, 0);
  const failed = rates.reduce((n, r) => n + r.failed, 0);
  const worst = [...rates]
    .filter((r) => r.failed > 0)
    .sort((a, b) => b.failed / b.runs - a.failed / a.runs || b.failed - a.failed)
    .slice(0, 3);
  return (
    <details class="rates-box" id="rates">
      <summary>
        <strong>Last 24 h:</strong> {total.toLocaleString("en")} run{total === 1 ? "" : "s"},{" "}
        <span class={failed ? "hot" : undefined}>{pct(failed, total)} failed</span>
        {worst.length ? (
          <span class="small">
            {" "}
            · worst:{" "}
            {worst.map((r, i) => (
              <>
                {i ? ", " : ""}
                {r.flow} {pct(r.failed, r.runs)}
              </>
            ))}
          </span>
        ) : null}
        <span class="toggle small">charts per flow</span>
      </summary>
      <div class="rates">
        {rates.map((r) => (
          <div class="card rate" data-flow={r.flow}>
            <a class="name" href={listHref({ flow: r.flow })}>
              {r.flow}
            </a>
            <RateChart rate={r} />
            <div class="small muted">
              <a href={listHref({ flow: r.flow, status: "failed" })}>
                <span class="rate-value">{pct(r.failed, r.runs)}</span> failed
              </a>{" "}
              of {r.runs} run{r.runs === 1 ? "" : "s"}
              {r.recovered ? `, ${r.recovered} recovered` : ""}
            </div>
          </div>
        ))}
      </div>
    </details>
  );
};

const Choice: FC<{ label: string; name: string; any: string; values: readonly string[]; chosen?: string }> = (p) => (
  <label>
    {p.label}
    <select name={p.name}>
      <option value="">{p.any}</option>
      {p.values.map((v) => (
        <option value={v} selected={p.chosen === v}>
          {v}
        </option>
      ))}
    </select>
  </label>
);

const Filters: FC<{ f: ListFilter; flows: string[] }> = ({ f, flows }) => (
  <form method="get" action="/" class="filters" id="filters" role="search">
    <label class="q">
      Search
      <input
        type="search"
        name="q"
        value={f.q ?? ""}
        placeholder="run id or words of the input"
        aria-label="Search run ids and input"
      />
    </label>
    <Choice label="Flow" name="flow" any="all flows" values={flows} chosen={f.flow} />
    <Choice label="Status" name="status" any="any status" values={STATUSES} chosen={f.status} />
    <label class="time">
      Started after (UTC)
      <input type="datetime-local" name="since" value={localValue(f.since)} />
    </label>
    <label class="time">
      before (UTC)
      <input type="datetime-local" name="until" value={localValue(f.until)} />
    </label>
    <button type="submit">Filter</button>
    {f.flow || f.status || f.q || f.since !== undefined || f.until !== undefined ? <a href="/">clear</a> : null}
  </form>
);

const RunRow: FC<{ r: StoredRun; f: ListFilter; now: number }> = ({ r, f, now }) => {
  const job = externalOf(r)?.job;
  const msg = r.error && r.status !== "cancelled" ? r.error.message : undefined;
  return (
    <tr data-run={r.id} data-status={r.status}>
      <td class="sel">
        <input type="checkbox" name="run" value={r.id} form="bulk" aria-label={`Select run ${r.id}`} />
      </td>
      <td class="id mono small">
        <a href={`/runs/${r.id}`}>{r.id}</a>
        {r.replayOf ? <span class="muted small"> replay</span> : null}
      </td>
      <td class="flow">
        <a href={listHref({ flow: r.flow, status: f.status })}>{r.flow}</a>{" "}
        <span class="muted small">v{r.flowVersion}</span>
        {job ? (
          <span class="small">
            {" "}
            · job <span class="mono">{job}</span>
          </span>
        ) : null}
      </td>
      <td class="status">
        <Status status={r.status} />
      </td>
      <td class="step empty" data-label="failed step">
        {r.error?.step && r.status !== "cancelled" ? <span class="mono">{r.error.step}</span> : ""}
      </td>
      <td class="err small empty" title={msg && msg.length > ERROR_SHOWN ? msg : undefined}>
        {msg ? (msg.length > ERROR_SHOWN ? `${msg.slice(0, ERROR_SHOWN)}…` : msg) : ""}
      </td>
      <td class="who small empty" data-label="acked">
        {r.marks.resolvedBy ? `✓ resolved by ${r.marks.resolvedBy}` : r.marks.ackedBy ? r.marks.ackedBy : ""}
      </td>
      <td class="when small">
        <Ago ms={r.createdAt} now={now} />
        {r.finishedAt !== null ? (
          <span class="muted"> · {fmtDuration(r.finishedAt - r.createdAt)}</span>
        ) : (
          <span class="muted"> · running</span>
        )}
      </td>
    </tr>
  );
};

/** The part of the list the page refreshes live (GET with `X-Mend-Live: 1`). */
export const RunsTable: FC<RunsListProps> = (p) => {
  const f = p.filter;
  const filtered = f.flow || f.status || f.q || f.since !== undefined || f.until !== undefined;
  return (
    <section id="runs-live" data-live={f.cursor ? undefined : listHref({ ...f, cursor: undefined })}>
      <form method="post" action="/runs/bulk/confirm" id="bulk" class="selbar" aria-label="Act on several runs">
        <input type="hidden" name="_csrf" value={p.csrf} />
        {f.flow ? <input type="hidden" name="flow" value={f.flow} /> : null}
        {f.status ? <input type="hidden" name="status" value={f.status} /> : null}
        {f.q ? <input type="hidden" name="q" value={f.q} /> : null}
        {f.since !== undefined ? <input type="hidden" name="since" value={new Date(f.since).toISOString()} /> : null}
        {f.until !== undefined ? <input type="hidden" name="until" value={new Date(f.until).toISOString()} /> : null}
        <span class="small muted" id="ticked">
          Tick runs, or act on all that match:
        </span>
        <button type="submit" name="do" value="retry:selected">
          Retry ticked
        </button>
        <button type="submit" name="do" value="replay:selected">
          Replay ticked
        </button>
        <button type="submit" name="do" value="retry:all">
          Retry all matching…
        </button>
        <button type="submit" name="do" value="replay:all">
          Replay all matching…
        </button>
      </form>
      <table class="runs stack">
        <thead>
          <tr>
            <th class="sel">
              <span class="visually-hidden">Select</span>
            </th>
            <th>Run</th>
            <th>Flow · job</th>
            <th>Status</th>
            <th>Failed step</th>
            <th>Error</th>
            <th>Acked</th>
            <th>Started</th>
          </tr>
        </thead>
        <tbody>
          {p.runs.length === 0 ? (
            <tr>
              <td colspan={8} class="muted">
                No runs{filtered ? " match these filters" : " yet: trigger a flow with POST /hooks/<flow>"}.
              </td>
            </tr>
          ) : (
            p.runs.map((r) => <RunRow r={r} f={f} now={p.now} />)
          )}
        </tbody>
      </table>
      <div class="pager">
        <span>{f.cursor ? <a href={listHref({ ...f, cursor: undefined })}>← Newest</a> : null}</span>
        <span>
          {p.next ? (
            <a href={listHref({ ...f, cursor: p.next })} rel="next">
              Older →
            </a>
          ) : null}
        </span>
      </div>
    </section>
  );
};

/** Refreshes the first page every 5 s while the tab is visible; keeps what is ticked. */
const LIST_SCRIPT = `(() => {
  const tick = async () => {
    const el = document.getElementById("runs-live");
    if (el && el.dataset.live && document.visibilityState === "visible") {
      try {
        const res = await fetch(el.dataset.live, { headers: { "x-mend-live": "1" }, cache: "no-store", credentials: "same-origin" });
        if (res.ok) {
          const t = document.createElement("template");
          t.innerHTML = (await res.text()).trim();
          const next = t.content.getElementById("runs-live");
          if (next) {
            const ticked = new Set([...el.querySelectorAll("input[name=run]:checked")].map((i) => i.value));
            for (const i of next.querySelectorAll("input[name=run]")) i.checked = ticked.has(i.value);
            el.replaceWith(next);
          }
        }
      } catch {}
    }
    setTimeout(tick, 5000);
  };
  setTimeout(tick, 5000);
  document.addEventListener("change", (e) => {
    if (e.target.name !== "run") return;
    const n = document.querySelectorAll("input[name=run]:checked").length;
    document.getElementById("ticked").textContent = n ? n + " ticked:" : "Tick runs, or act on all that match:";
  });
})();`;

export const RunsListPage: FC<RunsListProps> = (p) => (
  <Layout
    title="Runs"
    here="/"
    nonce={p.nonce}
    csrf={p.csrf}
    signedIn={p.signedIn}
    user={p.user}
    script={LIST_SCRIPT + RELATIVE_TIME_SCRIPT}
  >
    <h1>Runs</h1>
    <Rates rates={p.rates} />
    <Filters f={p.filter} flows={p.flows} />
    <RunsTable {...p} />
  </Layout>
);
