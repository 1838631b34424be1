// `/handlers`: who hears about failures (registered handlers), and the silences holding alerts back.
import type { FC } from "hono/jsx";
import type { HandlerRecord } from "../store/handlers";
import type { SilenceRecord } from "../store/silences";
import { HIDDEN, Layout, fmtTime } from "./layout";

/** Config as shown: signing secrets hidden, webhook URLs (which carry their own secret) cut to the host. */
function shownConfig(config: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) {
    if (/secret|token|password/i.test(k)) out[k] = HIDDEN;
    else if (k === "webhook_url" && typeof v === "string") {
      try {
        out[k] = `${new URL(v).origin}/…`;
      } catch {
        out[k] = HIDDEN;
      }
    } else out[k] = v;
  }
  return out;
}

const matchText = (h: HandlerRecord) => {
  const m = h.match;
  if (!m) return "every flow";
  const parts = [];
  if (m.flows?.length) parts.push(`flows ${m.flows.join(", ")}`);
  if (m.steps?.length) parts.push(`steps ${m.steps.join(", ")}`);
  if (m.error_types?.length) parts.push(`errors ${m.error_types.join(", ")}`);
  return parts.join(" · ") || "every flow";
};

/** "failing since …: <error> (3 waiting)" / "ok, last delivered …" / "no deliveries yet". */
function healthText(h: HandlersProps["handlers"][number]["health"]) {
  if (!h) return <span class="muted">—</span>;
  const waiting = h.pending ? ` (${h.pending} waiting)` : "";
  if (h.failing_since)
    return (
      <span
        class="badge s-failed"
        title={h.last_error ?? ""}
      >{`failing since ${h.failing_since.slice(0, 16).replace("T", " ")}: ${h.last_error ?? "?"}${waiting}`}</span>
    );
  if (h.last_success_at)
    return <span>{`ok, last delivered ${h.last_success_at.slice(0, 16).replace("T", " ")}${waiting}`}</span>;
  return <span class="muted">{`no deliveries yet${waiting}`}</span>;
}

export interface HandlersProps {
  nonce: string;
  csrf: string;
  signedIn: boolean;
  user?: string;
  handlers: (HandlerRecord & {
    health?: {
      pending: number;
      last_success_at: string | null;
      last_error: string | null;
      failing_since: string | null;
    };
  })[];
  silences: SilenceRecord[];
  /** A fresh idempotency key for this rendering's Unmute forms. */
  formKey: string;
}

/** Unmute a silence muted from a run: the run page's unmute (the run-actions service), then back here. */
const Unmute: FC<{ s: SilenceRecord; csrf: string; formKey: string }> = ({ s, csrf, formKey }) => {
  const run = s.run_id;
  if (!run) return <span class="muted">—</span>;
  return (
    <form method="post" action={`/runs/${encodeURIComponent(run)}/unmute`} class="inline">
      <input type="hidden" name="_csrf" value={csrf} />
      <input type="hidden" name="idempotency_key" value={`${formKey}-${s.id}`} />
      <input type="hidden" name="back" value="handlers" />
      <button type="submit" title={`End the silences covering run ${run}`}>
        Unmute
      </button>
    </form>
  );
};

export const HandlersPage: FC<HandlersProps> = (p) => (
  <Layout title="Handlers" here="/handlers" nonce={p.nonce} csrf={p.csrf} signedIn={p.signedIn} user={p.user}>
    <h1>Handlers</h1>
    {p.handlers.length === 0 ? (
      <p class="muted">
        No handler is registered: failures are written to the server log. Register one with POST /api/handlers.
      </p>
    ) : (
      <table class="handlers stack">
        <thead>
          <tr>
            <th>Name</th>
            <th>Kind</th>
            <th>State</th>
            <th>Delivery</th>
            <th>Selects</th>
            <th>Config</th>
            <th>Id</th>
          </tr>
        </thead>
        <tbody>
          {p.handlers.map((h) => (
            <tr data-handler={h.id}>
              <td>{h.name}</td>
              <td data-label="kind">{h.kind}</td>
              <td>
                {h.enabled ? <span class="badge s-succeeded">enabled</span> : <span class="badge s-off">disabled</span>}
                {h.fallback ? <span class="badge s-off">fallback</span> : ""}
              </td>
              <td data-label="delivery">{healthText(h.health)}</td>
              <td data-label="selects">{matchText(h)}</td>
              <td data-label="config">
                <code>{JSON.stringify(shownConfig(h.config))}</code>
              </td>
              <td class="mono small" data-label="id">
                {h.id}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    )}
    <h2>Silences</h2>
    {p.silences.length === 0 ? (
      <p class="muted">No active silence. Chat alerts have a Mute… choice; POST /api/silences adds one.</p>
    ) : (
      <table class="silences stack">
        <thead>
          <tr>
            <th>Flow</th>
            <th>Step</th>
            <th>Error type</th>
            <th>Ends (UTC)</th>
            <th>By</th>
            <th>Comment</th>
            <th></th>
          </tr>
        </thead>
        <tbody>
          {p.silences.map((s) => (
            <tr data-silence={s.id}>
              <td data-label="flow">{s.flow ?? <span class="muted">any</span>}</td>
              <td data-label="step">{s.step ?? <span class="muted">any</span>}</td>
              <td data-label="error type">{s.error_type ?? <span class="muted">any</span>}</td>
              <td class="mono" data-label="ends">
                {fmtTime(Date.parse(s.ends_at))}
              </td>
              <td data-label="by">{s.created_by ?? <span class="muted">—</span>}</td>
              <td data-label="comment">{s.comment ?? ""}</td>
              <td>
                <Unmute s={s} csrf={p.csrf} formKey={p.formKey} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    )}
  </Layout>
);
