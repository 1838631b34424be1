// The pages' frame: document, navigation, CSS, and small shared pieces (status badge, times, JSON).
import type { Child, FC } from "hono/jsx";
import { raw } from "hono/html";

const CSS = `
:root{--fg:#1d2330;--muted:#667085;--line:#e4e7ec;--bg:#f8f9fb;--card:#fff;--accent:#2454d6;
--ok:#13795b;--ok-bg:#e3f6ee;--bad:#c0262d;--bad-bg:#fde8e8;--warn:#a15c07;--warn-bg:#fdf1dc;--run:#1f5fbf;--run-bg:#e3edfc;--off:#555d6b;--off-bg:#eceef2}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
a{color:var(--accent);text-decoration:none}a:hover{text-decoration:underline}
header.top{display:flex;gap:20px;align-items:center;padding:10px 24px;background:#111827;color:#fff}
header.top a{color:#d1d9e6}header.top a.here{color:#fff;font-weight:600}
header.top .brand{font-weight:700;color:#fff;margin-right:12px}header.top form{margin-left:auto}
main{max-width:1180px;margin:0 auto;padding:20px 24px 60px}
h1{font-size:22px;margin:4px 0 14px}h2{font-size:16px;margin:26px 0 10px}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:14px 16px}
table{width:100%;border-collapse:collapse;background:var(--card);border:1px solid var(--line);border-radius:8px;overflow:hidden}
th,td{text-align:left;padding:7px 10px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:12px;text-transform:uppercase;letter-spacing:.03em;color:var(--muted);background:#fbfcfd}
tr:last-child td{border-bottom:0}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.runs td{vertical-align:middle}h1 .mono{font-size:19px}
.mono,code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
pre{margin:0;padding:10px 12px;background:#f3f4f7;border-radius:6px;overflow:auto;max-height:420px;white-space:pre-wrap;word-break:break-word}
.muted{color:var(--muted)}.small{font-size:12px}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;white-space:nowrap}
.s-succeeded{background:var(--ok-bg);color:var(--ok)}.s-recovered{background:var(--warn-bg);color:var(--warn)}
.s-failed{background:var(--bad-bg);color:var(--bad)}.s-running,.s-queued,.s-retrying,.s-pending{background:var(--run-bg);color:var(--run)}
.s-cancelled,.s-silenced,.s-off{background:var(--off-bg);color:var(--off)}.s-delivered{background:var(--ok-bg);color:var(--ok)}
form.inline{display:inline}
button,.button{font:inherit;padding:6px 14px;border-radius:6px;border:1px solid #c9ced8;background:#fff;cursor:pointer;color:var(--fg)}
button.primary{background:var(--accent);border-color:var(--accent);color:#fff}button.danger{color:var(--bad);border-color:#efb4b6}
button:hover{filter:brightness(.96)}
select,input[type=text],input[type=password]{font:inherit;padding:5px 8px;border:1px solid #c9ced8;border-radius:6px;background:#fff}
.filters{display:flex;gap:10px;align-items:center;margin:0 0 12px;flex-wrap:wrap}
.pager{display:flex;justify-content:space-between;margin-top:10px}
.rates{display:grid;grid-template-columns:repeat(auto-fill,minmax(250px,1fr));gap:10px;margin-bottom:8px}
.rate .name{font-weight:600}.rate svg{display:block;margin:6px 0 2px}
.notice{padding:9px 14px;border-radius:6px;margin-bottom:14px;background:var(--run-bg);color:var(--run)}
.notice.bad{background:var(--bad-bg);color:var(--bad)}
.meta{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:0}.meta dt{color:var(--muted)}.meta dd{margin:0}
.actions{display:flex;gap:8px;margin:14px 0}
.errorbox{border-left:4px solid var(--bad);background:var(--bad-bg);padding:10px 14px;border-radius:4px;margin:14px 0}
.timeline td.bar{width:34%}.track{position:relative;height:14px;background:#f0f2f5;border-radius:3px}
.track i{position:absolute;top:0;bottom:0;border-radius:3px;min-width:2px;background:#8fb0ea}
.track i.failed{background:#e58a8e}.track i.succeeded{background:#76c6a4}.track i.running{background:#8fb0ea}
tr.phase-on_failure td:first-child{border-left:3px solid var(--warn)}
details>summary{cursor:pointer;color:var(--accent)}details pre{margin-top:6px}
.diff{background:var(--card);border:1px solid var(--line);border-radius:6px;overflow:auto}
.diff div{white-space:pre;padding:0 10px;font-family:ui-monospace,Menlo,monospace;font-size:12.5px}
.diff .add{background:#e6f7ec}.diff .del{background:#fdecec}.diff .add:before{content:"+ "}.diff .del:before{content:"- "}.diff .same:before{content:"  "}
.login{max-width:380px;margin:60px auto}.login input{width:100%;margin:8px 0 12px}
`;

const NAV = [
  ["/", "Runs"],
  ["/flows", "Flows"],
  ["/handlers", "Handlers"],
] as const;

export interface LayoutProps {
  title: string;
  /** Which navigation entry is current. */
  here?: string;
  /** The CSP nonce of this response, for the page's inline script. */
  nonce: string;
  script?: string;
  csrf?: string;
  /** Show the sign-out button (only when MEND_API_TOKEN is set). */
  signedIn?: boolean;
  children?: Child;
}

export const Layout: FC<LayoutProps> = (p) => (
  <>
    {raw("<!doctype html>")}
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${p.title} · mend`}</title>
        <style>{raw(CSS)}</style>
      </head>
      <body>
        <header class="top">
          <a class="brand" href="/">
            mend
          </a>
          {NAV.map(([href, label]) => (
            <a href={href} class={p.here === href ? "here" : undefined}>
              {label}
            </a>
          ))}
          {p.signedIn && p.csrf ? (
            <form method="post" action="/logout">
              <input type="hidden" name="_csrf" value={p.csrf} />
              <button type="submit">Sign out</button>
            </form>
          ) : null}
        </header>
        <main>{p.children}</main>
        {p.script ? <script nonce={p.nonce}>{raw(p.script)}</script> : null}
      </body>
    </html>
  </>
);

export const Status: FC<{ status: string }> = ({ status }) => <span class={`badge s-${status}`}>{status}</span>;

/** A POST form with the CSRF token: one button, no JavaScript needed. */
export const ActionButton: FC<{ action: string; csrf: string; label: string; kind?: "primary" | "danger"; fields?: Record<string, string>; title?: string }> = (p) => (
  <form method="post" action={p.action} class="inline">
    <input type="hidden" name="_csrf" value={p.csrf} />
    {Object.entries(p.fields ?? {}).map(([k, v]) => (
      <input type="hidden" name={k} value={v} />
    ))}
    <button type="submit" class={p.kind} title={p.title}>
      {p.label}
    </button>
  </form>
);

export function fmtTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "—";
  return new Date(ms).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}

export function fmtDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "—";
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const m = Math.floor(ms / 60_000);
  if (m < 60) return `${m} min ${Math.round((ms % 60_000) / 1000)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** What the pages show in place of a secret. */
export const HIDDEN = "[hidden]";

const MAX_SHOWN = 20_000;

/** Pretty JSON, cut at 20,000 characters (the API has the whole value). */
export function jsonText(value: unknown): string {
  const text = typeof value === "string" ? value : (JSON.stringify(value, null, 2) ?? "null");
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}\n… (${text.length - MAX_SHOWN} more characters)` : text;
}

/** Links only to http(s) URLs: a reported `link` could be javascript:. */
export function safeHref(url: unknown): string | undefined {
  if (typeof url !== "string") return undefined;
  try {
    const u = new URL(url);
    return u.protocol === "http:" || u.protocol === "https:" ? u.href : undefined;
  } catch {
    return undefined;
  }
}
