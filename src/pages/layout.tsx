// The pages' frame: document, navigation, CSS, and small shared pieces (status badge, times, JSON).
import type { Child, FC } from "hono/jsx";
import { raw } from "hono/html";

const CSS = `
:root{--fg:#1d2330;--muted:#667085;--line:#e4e7ec;--bg:#f8f9fb;--card:#fff;--accent:#2454d6;
--ok:#13795b;--ok-bg:#e3f6ee;--bad:#c0262d;--bad-bg:#fde8e8;--warn:#a15c07;--warn-bg:#fdf1dc;--run:#1f5fbf;--run-bg:#e3edfc;--off:#555d6b;--off-bg:#eceef2}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg);overflow-wrap:anywhere}
a{color:var(--accent);text-decoration:none}a:hover{text-decoration:underline}
:focus-visible{outline:2px solid var(--accent);outline-offset:2px}
header.top{display:flex;flex-wrap:wrap;gap:6px 18px;align-items:center;padding:10px 24px;background:#111827;color:#fff}
header.top a{color:#d1d9e6}header.top a.here{color:#fff;font-weight:600;text-decoration:underline;text-underline-offset:4px}
header.top .brand{font-weight:700;color:#fff;margin-right:8px}header.top .who{margin-left:auto;display:flex;gap:10px;align-items:center;color:#d1d9e6}
header.top button{padding:3px 10px}
main{max-width:1240px;margin:0 auto;padding:20px 24px 60px}
h1{font-size:22px;margin:4px 0 14px;display:flex;flex-wrap:wrap;gap:6px 10px;align-items:center}h2{font-size:16px;margin:26px 0 10px}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:14px 16px}
table{width:100%;border-collapse:collapse;background:var(--card);border:1px solid var(--line);border-radius:8px;overflow:hidden}
th,td{text-align:left;padding:7px 10px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:12px;white-space:nowrap;text-transform:uppercase;letter-spacing:.03em;color:var(--muted);background:#fbfcfd}
tr:last-child td{border-bottom:0}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
h1 .mono{font-size:19px;word-break:break-all}
.mono,code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
pre{margin:0;padding:10px 12px;background:#f3f4f7;border-radius:6px;overflow:auto;max-height:420px;white-space:pre-wrap;word-break:break-word}
.muted{color:var(--muted)}.small{font-size:12px}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;white-space:nowrap}
.badge:before{margin-right:4px}
.s-succeeded:before,.s-delivered:before{content:"✓"}.s-failed:before{content:"✕"}.s-recovered:before{content:"↺"}
.s-running:before,.s-queued:before,.s-retrying:before,.s-pending:before{content:"●"}.s-cancelled:before,.s-silenced:before,.s-skipped:before{content:"–"}
.s-succeeded{background:var(--ok-bg);color:var(--ok)}.s-recovered{background:var(--warn-bg);color:var(--warn)}
.s-failed{background:var(--bad-bg);color:var(--bad)}.s-running,.s-queued,.s-retrying,.s-pending{background:var(--run-bg);color:var(--run)}
.s-cancelled,.s-silenced,.s-skipped,.s-off{background:var(--off-bg);color:var(--off)}.s-delivered{background:var(--ok-bg);color:var(--ok)}
form.inline{display:inline}
button,.button{font:inherit;padding:6px 14px;border-radius:6px;border:1px solid #c9ced8;background:#fff;cursor:pointer;color:var(--fg);display:inline-block}
button.primary,.button.primary{background:var(--accent);border-color:var(--accent);color:#fff}button.danger{color:var(--bad);border-color:#efb4b6}
button:hover,.button:hover{filter:brightness(.96);text-decoration:none}button:disabled{opacity:.55;cursor:default}
select,input[type=text],input[type=search],input[type=password],input[type=datetime-local],textarea{font:inherit;padding:5px 8px;border:1px solid #c9ced8;border-radius:6px;background:#fff;max-width:100%}
.filters{display:flex;gap:8px 10px;align-items:flex-end;margin:0 0 12px;flex-wrap:wrap}
.filters label{display:flex;flex-direction:column;font-size:12px;color:var(--muted);gap:2px}
.filters input[type=search]{width:260px}
.pager{display:flex;justify-content:space-between;margin-top:10px}
.rates{display:grid;grid-template-columns:repeat(auto-fill,minmax(250px,1fr));gap:10px;margin:10px 0 8px}
.rate .name{font-weight:600}.rate svg{display:block;margin:6px 0 2px;max-width:100%;height:auto}
details.rates-box{margin:0 0 14px}details.rates-box>summary{color:var(--fg);padding:8px 12px;background:var(--card);border:1px solid var(--line);border-radius:8px;list-style-position:inside}
details.rates-box>summary .toggle{color:var(--accent);margin-left:6px}
.hot{color:var(--bad);font-weight:600}
.notice{padding:9px 14px;border-radius:6px;margin-bottom:14px;background:var(--run-bg);color:var(--run)}
.notice.bad{background:var(--bad-bg);color:var(--bad)}
.meta{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:0}.meta dt{color:var(--muted)}.meta dd{margin:0;min-width:0}
.actions{display:flex;flex-wrap:wrap;gap:8px;margin:14px 0;align-items:center}
.errorbox{border-left:4px solid var(--bad);background:var(--bad-bg);padding:10px 14px;border-radius:4px;margin:14px 0}
.errorbox strong{display:block}
details>summary{cursor:pointer;color:var(--accent)}details pre{margin-top:6px}
.diff{background:var(--card);border:1px solid var(--line);border-radius:6px;overflow:auto}
.diff div{white-space:pre;padding:0 10px;font-family:ui-monospace,Menlo,monospace;font-size:12.5px}
.diff .add{background:#e6f7ec}.diff .del{background:#fdecec}.diff .add:before{content:"+ "}.diff .del:before{content:"- "}.diff .same:before{content:"  "}
.login{max-width:380px;margin:60px auto}.login input{width:100%;margin:8px 0 12px}
time{white-space:nowrap}
.trace{display:grid;grid-template-columns:minmax(0,5fr) minmax(0,6fr);gap:14px;align-items:start}
.waterfall{background:var(--card);border:1px solid var(--line);border-radius:8px;overflow:hidden}
.wrow{display:grid;grid-template-columns:minmax(0,150px) 104px minmax(60px,1fr) 64px;gap:8px;align-items:center;padding:7px 10px;border-bottom:1px solid var(--line);color:var(--fg)}
.wrow:last-child{border-bottom:0}.wrow:hover{background:#f6f8fc;text-decoration:none}
.wrow[aria-current=true]{background:#eef3fd;box-shadow:inset 3px 0 0 var(--accent)}
.wrow.phase-on_failure .wname:after{content:" · error handler";color:var(--warn);font-size:12px}
.wname{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}.wname small{color:var(--muted)}
.wdur{text-align:right;font-variant-numeric:tabular-nums;font-size:12px;color:var(--muted)}
.track{position:relative;height:12px;background:#f0f2f5;border-radius:3px}
.track i{position:absolute;top:0;bottom:0;border-radius:3px;min-width:3px;background:#8fb0ea}
.track i.failed{background:repeating-linear-gradient(135deg,#d9656a 0 4px,#e8959a 4px 8px)}.track i.succeeded{background:#76c6a4}
.panel{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:14px 16px;min-width:0;position:sticky;top:10px}
.panel h3{margin:0 0 8px;font-size:15px;display:flex;flex-wrap:wrap;gap:6px 10px;align-items:center}
.panel h4{margin:16px 0 6px;font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}
.reqline{font-family:ui-monospace,Menlo,monospace;font-size:13px;margin-bottom:6px;word-break:break-all}.reqline b{margin-right:6px}
.kv{display:grid;grid-template-columns:minmax(90px,max-content) minmax(0,1fr);gap:2px 12px;font-family:ui-monospace,Menlo,monospace;font-size:12px;margin:0 0 8px}
.kv dt{color:var(--muted)}.kv dd{margin:0;word-break:break-all}
details.more>summary{list-style:none;color:var(--fg)}details.more>summary::-webkit-details-marker{display:none}
details.more[open]{flex-basis:100%;order:10}details.more[open]>summary{background:#eef3fd;border-color:var(--accent)}
form.pop{display:flex;flex-wrap:wrap;gap:8px 12px;align-items:flex-end;margin-top:8px;background:var(--card);border:1px solid var(--line);border-radius:8px;padding:12px 14px}
form.pop label{display:flex;flex-direction:column;gap:3px;font-size:12px;color:var(--muted)}
form.pop.wide{display:block}form.pop.wide>*{margin-bottom:8px}form.pop.wide label{display:block}
form.pop p{margin:0;flex-basis:100%}
textarea{width:100%;font-family:ui-monospace,Menlo,monospace;font-size:12.5px;line-height:1.4;display:block}
ul.issues{margin:6px 0 0;padding-left:18px}
ul.marks{list-style:none;margin:10px 0 0;padding:0;display:flex;flex-wrap:wrap;gap:6px 10px}
.mark{padding:4px 10px;border-radius:6px;background:var(--off-bg)}.mark.acked{background:var(--run-bg)}.mark.resolved{background:var(--ok-bg)}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.runlines{list-style:none;padding:0;margin:10px 0;display:grid;gap:4px}progress{width:100%;max-width:480px;height:14px}
.selbar{position:sticky;top:0;z-index:2;background:var(--bg);padding:6px 0;display:flex;flex-wrap:wrap;gap:8px;align-items:center;margin:0 0 6px}
table.runs td{vertical-align:middle}table.runs td.err{max-width:360px;color:#5b2326}table.runs td.id,table.runs td.when{white-space:nowrap}
table.runs th.sel,table.runs td.sel{width:30px;padding-right:0}
@media (max-width:760px){
main{padding:14px 12px 48px}header.top{padding:8px 12px}
h1{font-size:19px}h1 .mono{font-size:15px}
.trace{grid-template-columns:minmax(0,1fr)}.panel{position:static}
.wrow{grid-template-columns:minmax(0,1fr) auto 56px;}.wrow .track{grid-column:1/-1;order:4}
.filters input[type=search]{width:100%}.filters label.q{flex:1 1 100%}
.filters label.time{flex:1 1 40%;min-width:0}.filters label.time input{width:100%;font-size:13px}
table.stack{border:0;background:transparent}
table.stack thead{display:none}
table.stack tr{display:block;background:var(--card);border:1px solid var(--line);border-radius:8px;margin-bottom:8px;padding:6px 10px}
table.stack td{display:block;border:0;padding:2px 0;text-align:left}
table.stack td.num{text-align:left}
table.stack td[data-label]:before{content:attr(data-label) ": ";color:var(--muted);font-size:12px}
table.runs.stack tr{display:grid;grid-template-columns:28px minmax(0,1fr) auto;column-gap:8px}
table.runs.stack td{grid-column:2/4}table.runs.stack td.sel{grid-column:1;grid-row:1/span 4}
table.runs.stack td.status{grid-column:3;grid-row:1;text-align:right}table.runs.stack td.id{grid-column:2;grid-row:1}
table.runs.stack td.empty:empty{display:none}
}
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
  /** Show the sign-out button (only when sign-in is on: MEND_API_TOKEN or MEND_USERS). */
  signedIn?: boolean;
  /** Who is signed in, shown beside the sign-out button. */
  user?: string;
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
            <span class="who">
              {p.user ? <span class="small">signed in as {p.user}</span> : null}
              <form method="post" action="/logout">
                <input type="hidden" name="_csrf" value={p.csrf} />
                <button type="submit">Sign out</button>
              </form>
            </span>
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
export const ActionButton: FC<{
  action: string;
  csrf: string;
  label: string;
  kind?: "primary" | "danger";
  fields?: Record<string, string>;
  title?: string;
}> = (p) => (
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
  return new Date(ms)
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z$/, "Z");
}

/** "5 min ago" from the server's clock; the page's script keeps it current (RELATIVE_TIME_SCRIPT). */
export function relTime(ms: number, now: number): string {
  const s = Math.round((now - ms) / 1000);
  if (s < 0) return "just now";
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  if (s < 30 * 86_400) return `${Math.floor(s / 86_400)} d ago`;
  return new Date(ms).toISOString().slice(0, 10);
}

/** A relative time with the absolute one (UTC) on hover. */
export const Ago: FC<{ ms: number | null | undefined; now: number }> = ({ ms, now }) =>
  ms === null || ms === undefined ? (
    <span class="muted">—</span>
  ) : (
    <time datetime={new Date(ms).toISOString()} title={fmtTime(ms)}>
      {relTime(ms, now)}
    </time>
  );

/** Keeps every <time> made by Ago current, by the browser's clock. */
export const RELATIVE_TIME_SCRIPT = `(() => {
  const rel = (ms, now) => {
    const s = Math.round((now - ms) / 1000);
    if (s < 60) return s < 0 ? "just now" : s + " s ago";
    if (s < 3600) return Math.floor(s / 60) + " min ago";
    if (s < 86400) return Math.floor(s / 3600) + " h ago";
    if (s < 30 * 86400) return Math.floor(s / 86400) + " d ago";
    return new Date(ms).toISOString().slice(0, 10);
  };
  const tick = () => { for (const t of document.querySelectorAll("time[datetime]")) t.textContent = rel(Date.parse(t.getAttribute("datetime")), Date.now()); };
  setInterval(tick, 20000);
})();`;

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
