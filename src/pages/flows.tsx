// `/flows`: every flow with its latest version and its last 24 hours.
import type { FC } from "hono/jsx";
import type { FlowRate } from "../store/run-stats";
import { Layout } from "./layout";
import { RateChart } from "./runs-list";

export interface FlowsProps {
  nonce: string;
  csrf: string;
  signedIn: boolean;
  user?: string;
  flows: { name: string; version: number; description: string | null }[];
  rates: Map<string, FlowRate>;
}

export const FlowsPage: FC<FlowsProps> = (p) => (
  <Layout title="Flows" here="/flows" nonce={p.nonce} csrf={p.csrf} signedIn={p.signedIn} user={p.user}>
    <h1>Flows</h1>
    {p.flows.length === 0 ? (
      <p class="muted">No flows yet: put one with PUT /api/flows/&lt;name&gt; or a file in MEND_FLOWS_DIR.</p>
    ) : (
      <table class="flows stack">
        <thead>
          <tr>
            <th>Flow</th>
            <th class="num">Version</th>
            <th>Description</th>
            <th class="num">Runs (24 h)</th>
            <th class="num">Failed</th>
            <th>Failure rate by hour</th>
          </tr>
        </thead>
        <tbody>
          {p.flows.map((f) => {
            const r = p.rates.get(f.name);
            return (
              <tr data-flow={f.name}>
                <td>
                  <a href={`/flows/${encodeURIComponent(f.name)}`}>{f.name}</a>
                </td>
                <td class="num" data-label="version">
                  v{f.version}
                </td>
                <td>{f.description ?? <span class="muted">—</span>}</td>
                <td class="num" data-label="runs (24 h)">
                  <a href={`/?flow=${encodeURIComponent(f.name)}`}>{r?.runs ?? 0}</a>
                </td>
                <td class="num" data-label="failed">
                  {r?.failed ? <a href={`/?flow=${encodeURIComponent(f.name)}&status=failed`}>{r.failed}</a> : 0}
                </td>
                <td>{r ? <RateChart rate={r} /> : <span class="muted small">no runs</span>}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    )}
  </Layout>
);
