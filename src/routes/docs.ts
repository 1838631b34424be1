// GET /api/openapi.json and GET /api/docs. On Node the page is Scalar's reference, its script served
// from node_modules (no CDN); on Workers a plain list of the routes keeps the bundle lean.
import { Hono, type Handler } from "hono";
import { html } from "hono/html";
import pkg from "../../package.json";
import { openApiDocument } from "./openapi";

/** A fuller reference page (Node: Scalar) and the script it loads. */
export interface ApiDocsPage {
  page: Handler;
  script: () => Promise<string>;
}

export const DOCS_SCRIPT_PATH = "/assets/api-reference.js";

type Operation = { summary?: string };

function plainPage(doc: Record<string, unknown>) {
  const paths = doc.paths as Record<string, Record<string, Operation>>;
  const rows = Object.entries(paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({ method: method.toUpperCase(), path, summary: op.summary ?? "" })),
  );
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <title>mend API</title>
        <style>
          body { font: 14px/1.5 system-ui, sans-serif; margin: 2rem; }
          td { padding: 0.2rem 0.8rem 0.2rem 0; vertical-align: top; }
          code { font-weight: 600; }
        </style>
      </head>
      <body>
        <h1>mend API ${pkg.version}</h1>
        <p>The full description: <a href="/api/openapi.json">/api/openapi.json</a> (OpenAPI 3.1).</p>
        <table>
          ${rows.map((r) => html`<tr><td><code>${r.method}</code></td><td><code>${r.path}</code></td><td>${r.summary}</td></tr>`)}
        </table>
      </body>
    </html>`;
}

export function docsRoutes(full?: ApiDocsPage) {
  const app = new Hono();
  let doc: Record<string, unknown> | undefined;
  const document = () => (doc ??= openApiDocument(pkg.version));
  app.get("/api/openapi.json", (c) => c.json(document()));
  app.get("/api/docs", full?.page ?? ((c) => c.html(plainPage(document()))));
  if (full) {
    app.get(DOCS_SCRIPT_PATH, async (c) =>
      c.body(await full.script(), 200, {
        "content-type": "text/javascript; charset=utf-8",
        "cache-control": "public, max-age=86400",
      }),
    );
  }
  return app;
}
