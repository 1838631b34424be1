// createApp(deps): the Hono app. Imports no runtime: Node and Workers both serve it.
import { Hono, type MiddlewareHandler } from "hono";
import type { Deps } from "./deps";
import { errorHandler } from "./routes/errors";
import { limitBody } from "./routes/body-limit";
import { flowRoutes } from "./routes/flows";
import { flowTestRoutes } from "./routes/flow-tests";
import { handlerRoutes } from "./routes/handlers";
import { People } from "./auth/people";
import { hookRoutes } from "./routes/hooks";
import { runRoutes } from "./routes/runs";
import { failureRoutes } from "./routes/failures";
import { silenceRoutes } from "./routes/silences";
import { pageRoutes } from "./pages/routes";
import { readGauges } from "./store/gauges";
import { bearerToken, WrongTokenThrottle } from "./routes/bearer";
import { refuseBrowserFormPosts } from "./routes/form-posts";
import { docsRoutes, type ApiDocsPage } from "./routes/docs";
import { readSession } from "./pages/session";

/** What differs per runtime: the fuller API reference page (Node: Scalar). */
export interface AppOptions {
  apiDocs?: ApiDocsPage;
}

// Read-only pages of the API description a signed-in browser (pages session) may also open.
const DOCS_PATHS = new Set(["/api/docs", "/api/openapi.json"]);

export function createApp(deps: Deps, extend?: (app: Hono) => void, options: AppOptions = {}): Hono {
  const app = new Hono();
  app.onError(errorHandler(deps.log));
  app.notFound((c) => c.json({ error: `no route for ${c.req.method} ${c.req.path}` }, 404));

  app.use(
    "*",
    limitBody(deps.config.MEND_MAX_BODY, (c) =>
      c.json({ error: `request body is larger than MEND_MAX_BODY (${deps.config.MEND_MAX_BODY} bytes)` }, 413),
    ),
  );

  app.use("*", async function accessLog(c, next) {
    const started = performance.now();
    await next();
    const ms = performance.now() - started;
    deps.metrics.httpRequest(c.req.method, c.req.routePath, c.res.status, ms / 1000);
    // The path only: query strings may carry secrets (tokens, signatures).
    deps.log("info", "request", {
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      ms: Math.round(ms * 10) / 10,
    });
  });

  const people = new People(deps.config.MEND_API_TOKEN, deps.config.MEND_USERS);
  const throttle: WrongTokenThrottle = new WrongTokenThrottle(deps.clock);
  const requireToken: MiddlewareHandler = async function requireToken(c, next) {
    const browser =
      c.req.method === "GET" && DOCS_PATHS.has(c.req.path) && (await readSession(c, people)) !== undefined;
    if (people.on && !browser) {
      const token = bearerToken(c);
      const person = token === undefined ? undefined : people.byToken(token);
      if (!person)
        throttle.refuse(
          "missing or bad bearer token (Authorization: Bearer <MEND_API_TOKEN or your MEND_USERS token>)",
        );
      c.set("actor", { id: person.name, name: person.name, via: "api" });
    }
    await next();
  };
  // Without a token anyone may call /api and /hooks, but not a browser on another site (src/routes/form-posts.ts).
  const formPosts: MiddlewareHandler = async (c, next) => (people.on ? next() : refuseBrowserFormPosts(c, next));
  app.use("/api/*", formPosts, requireToken);
  app.use("/hooks/*", formPosts);

  app.get("/metrics", requireToken, async (c) => {
    const text = await deps.metrics.render(await readGauges(deps.db));
    return c.body(text, 200, { "content-type": deps.metrics.contentType });
  });

  app.get("/healthz", async (c) => {
    try {
      await deps.flows.list();
      return c.json({ ok: true });
    } catch {
      return c.json({ ok: false, error: "database does not answer" }, 503);
    }
  });

  app.route("/", docsRoutes(options.apiDocs));
  app.route("/api", flowRoutes(deps));
  app.route("/api", flowTestRoutes(deps));
  app.route("/api", runRoutes(deps));
  app.route("/api", handlerRoutes(deps));
  app.route("/api", failureRoutes(deps));
  app.route("/api", silenceRoutes(deps));
  app.route("/hooks", hookRoutes(deps));
  // Run history pages (HTML): /, /runs/:id, /flows, /flows/:name, /handlers, /login — docs/pages.md.
  app.route("/", pageRoutes(deps));
  extend?.(app);
  return app;
}
