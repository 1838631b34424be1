// `/flows/:name`: a flow's definition (as YAML, secrets hidden), its versions, and a line diff
// between two versions chosen with a plain GET form (?a=&b=).
import type { FC } from "hono/jsx";
import { stringify } from "yaml";
import type { Flow } from "../engine/flow";
import type { DiffLine } from "./diff";
import { HIDDEN, Layout, fmtTime } from "./layout";

/** The definition as shown: no `secret` field (the webhook's, `script: webhook` args…) leaves the server. */
export function flowYaml(flow: Flow, redact: <T>(v: T) => T): string {
  const shown = structuredClone(flow) as unknown as Record<string, unknown>;
  const stack: unknown[] = [shown];
  while (stack.length > 0) {
    const v = stack.pop();
    if (v === null || typeof v !== "object") continue;
    for (const [k, child] of Object.entries(v)) {
      if (k === "secret" && typeof child === "string") (v as Record<string, unknown>)[k] = HIDDEN;
      else stack.push(child);
    }
  }
  return stringify(redact(shown), { lineWidth: 0 });
}

export interface FlowProps {
  nonce: string;
  csrf: string;
  signedIn: boolean;
  user?: string;
  name: string;
  shown: number;
  latest: number;
  description?: string;
  yaml: string;
  versions: { version: number; created_at: string }[];
  diff?: { a: number; b: number; lines: DiffLine[] };
}

export const FlowPage: FC<FlowProps> = (p) => {
  const a = p.diff?.a ?? Math.max(1, p.latest - 1);
  const b = p.diff?.b ?? p.latest;
  const changed = p.diff ? p.diff.lines.filter((l) => l.op !== "same").length : 0;
  return (
    <Layout title={p.name} here="/flows" nonce={p.nonce} csrf={p.csrf} signedIn={p.signedIn} user={p.user}>
      <p class="small">
        <a href="/flows">← Flows</a> · <a href={`/?flow=${encodeURIComponent(p.name)}`}>runs of {p.name}</a>
      </p>
      <h1>
        {p.name} <span class="muted">v{p.shown}</span>
        {p.shown !== p.latest ? (
          <span class="small muted">
            {" "}
            (latest is <a href={`/flows/${encodeURIComponent(p.name)}`}>v{p.latest}</a>)
          </span>
        ) : null}
      </h1>
      {p.description ? <p>{p.description}</p> : null}
      <h2>Definition</h2>
      <pre id="definition">{p.yaml}</pre>
      <h2>Versions</h2>
      <table class="versions stack">
        <thead>
          <tr>
            <th class="num">Version</th>
            <th>Created (UTC)</th>
            <th></th>
          </tr>
        </thead>
        <tbody>
          {[...p.versions].reverse().map((v) => (
            <tr data-version={v.version}>
              <td class="num">
                {v.version === p.shown ? (
                  <strong>v{v.version}</strong>
                ) : (
                  <a href={`/flows/${encodeURIComponent(p.name)}?v=${v.version}`}>v{v.version}</a>
                )}
              </td>
              <td class="mono" data-label="created">
                {fmtTime(Date.parse(v.created_at))}
              </td>
              <td>
                {v.version > 1 ? (
                  <a href={`/flows/${encodeURIComponent(p.name)}?a=${v.version - 1}&b=${v.version}`}>
                    changes from v{v.version - 1}
                  </a>
                ) : (
                  <span class="muted">first version</span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Compare versions</h2>
      {p.versions.length < 2 ? (
        <p class="muted">Only one version so far.</p>
      ) : (
        <form method="get" action={`/flows/${encodeURIComponent(p.name)}`} class="filters">
          <select name="a" aria-label="from version">
            {p.versions.map((v) => (
              <option value={String(v.version)} selected={v.version === a}>
                v{v.version}
              </option>
            ))}
          </select>
          →
          <select name="b" aria-label="to version">
            {p.versions.map((v) => (
              <option value={String(v.version)} selected={v.version === b}>
                v{v.version}
              </option>
            ))}
          </select>
          <button type="submit">Compare</button>
        </form>
      )}
      {p.diff ? (
        <>
          <p class="small muted">
            v{p.diff.a} → v{p.diff.b}: {changed ? `${changed} line(s) changed` : "no difference"}
          </p>
          <div class="diff" id="diff">
            {p.diff.lines.map((l) => (
              <div class={l.op}>{l.text}</div>
            ))}
          </div>
        </>
      ) : null}
    </Layout>
  );
};
