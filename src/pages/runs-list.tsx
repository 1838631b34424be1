// `/`: runs, newest first, filtered by flow and status, keyset-paginated; per flow the failure
// rate of the last 24 hours as a small inline SVG bar chart.
import { raw } from "hono/html";
import type { FC } from "hono/jsx";
import { ACTIVE, TERMINAL, type RunRecord } from "../engine/ports";
import { HOUR_MS, type FlowRate } from "../store/run-stats";
import { Layout, Status, fmtDuration, fmtTime } from "./layout";

const STATUSES: readonly string[] = [...ACTIVE, ...TERMINAL];
export const PAGE_SIZE = 50;

export interface ListFilter {
  flow?: string;
  status?: string;
  cursor?: string;
}

/** Reads ?flow=&status=&cursor=; unknown values are dropped rather than refused. */
export function parseFilter(q: Record<string, string>): ListFilter {
  const f: ListFilter = {};
  if (q.flow && q.flow.length <= 200) f.flow = q.flow;
  if (q.status && STATUSES.includes(q.status)) f.status = q.status;
  if (q.cursor && /^[0-9A-Za-z]{1,100}$/.test(q.cursor)) f.cursor = q.cursor;
  return f;
}

function listHref(f: ListFilter): string {
  const p = new URLSearchParams();
  if (f.flow) p.set("flow", f.flow);
  if (f.status) p.set("status", f.status);
  if (f.cursor) p.set("cursor", f.cursor);
  const s = p.toString();
  return s ? `/?${s}` : "/";
}

const pct = (n: number, of: number) => (of === 0 ? "0%" : `${((100 * n) / of).toFixed(n * 1000 < of ? 2 : 1).replace(/\.0+$/, "")}%`);
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
    out += h.runs ? `<rect x="${x}" y="1" width="${W - 2}" height="${H}" rx="1" fill="#e7eaf0"/>` : `<rect x="${x}" y="${H}" width="${W - 2}" height="1" fill="#d5d9e0"/>`;
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
  filter: ListFilter;
  runs: RunRecord[];
  next: string | null;
  flows: string[];
  rates: FlowRate[];
}

export const RunsListPage: FC<RunsListProps> = (p) => {
  const f = p.filter;
  return (
    <Layout title="Runs" here="/" nonce={p.nonce} csrf={p.csrf} signedIn={p.signedIn}>
      <h1>Runs</h1>
      <h2 style="margin-top:0">Failure rate, last 24 hours</h2>
      {p.rates.length === 0 ? (
        <p class="muted">No runs in the last 24 hours.</p>
      ) : (
        <div class="rates">
          {p.rates.map((r) => (
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
      )}
      <h2>History</h2>
      <form method="get" action="/" class="filters" id="filters">
        <label>
          Flow{" "}
          <select name="flow">
            <option value="">all flows</option>
            {p.flows.map((name) => (
              <option value={name} selected={f.flow === name}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Status{" "}
          <select name="status">
            <option value="">any status</option>
            {STATUSES.map((s) => (
              <option value={s} selected={f.status === s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <button type="submit">Filter</button>
        {f.flow || f.status ? <a href="/">clear</a> : null}
      </form>
      <table class="runs">
        <thead>
          <tr>
            <th>Run</th>
            <th>Flow</th>
            <th>Status</th>
            <th>Started (UTC)</th>
            <th class="num">Duration</th>
          </tr>
        </thead>
        <tbody>
          {p.runs.length === 0 ? (
            <tr>
              <td colspan={5} class="muted">
                No runs{f.flow || f.status ? " match these filters" : " yet: trigger a flow with POST /hooks/<flow>"}.
              </td>
            </tr>
          ) : (
            p.runs.map((r) => (
              <tr data-run={r.id} data-status={r.status}>
                <td class="mono">
                  <a href={`/runs/${r.id}`}>{r.id}</a>
                  {r.replayOf ? <span class="muted small"> replay</span> : null}
                </td>
                <td>
                  <a href={listHref({ flow: r.flow, status: f.status })}>{r.flow}</a> <span class="muted small">v{r.flowVersion}</span>
                </td>
                <td>
                  <Status status={r.status} />
                </td>
                <td class="mono">{fmtTime(r.createdAt)}</td>
                <td class="num">{r.finishedAt !== null ? fmtDuration(r.finishedAt - r.createdAt) : "…"}</td>
              </tr>
            ))
          )}
        </tbody>
      </table>
      <div class="pager">
        <span>{f.cursor ? <a href={listHref({ flow: f.flow, status: f.status })}>← Newest</a> : null}</span>
        <span>
          {p.next ? (
            <a href={listHref({ flow: f.flow, status: f.status, cursor: p.next })} rel="next">
              Older →
            </a>
          ) : null}
        </span>
      </div>
    </Layout>
  );
};
