// The history pages, served by the same Hono app as the API (no Node-only import: Workers serve them too).
// GET pages pass `page()`: a session (the sign-in form first when sign-in is on). Buttons are
// POST forms passing `action()`: same-site check, session, CSRF token; then a 303 back to a page.
// No middleware is registered here, so nothing of this touches /api, /hooks or the chat routes.
import { Hono, type Context } from "hono";
import type { Child } from "hono/jsx";
import type { Deps } from "../deps";
import { EngineError } from "../engine/errors";
import type { Issue } from "../engine/flow";
import { makeRedactor } from "../engine/redact";
import { deliveryExtras } from "../hub/delivery-view";
import { externalOf } from "../hub/external";
import { ApiError } from "../routes/errors";
import { actorOf } from "../routes/actor";
import { publicHealth } from "../routes/handlers";
import { actionFromForm } from "./action-form";
import { RunList } from "../store/run-list";
import { RunStats } from "../store/run-stats";
import { silenceMatches } from "../store/silences";
import { diffLines } from "./diff";
import { FlowPage, flowYaml } from "./flow";
import { FlowsPage } from "./flows";
import { HandlersPage } from "./handlers";
import { BouncePage, LoginPage, MessagePage } from "./login";
import { RunPage, RunView, type RunViewData } from "./run";
import { PAGE_SIZE, RunsListPage, RunsTable, describeFilter, listHref, parseFilter } from "./runs-list";
import { BulkConfirmPage, BulkProgress, BulkResultPage } from "./bulk";
import { BULK_MAX } from "../runs/bulk";
import {
  crossSiteRefusal,
  csrfMatches,
  endSession,
  newNonce,
  readSession,
  safeNext,
  startSession,
  type Session,
} from "./session";
import { People } from "../auth/people";

interface PageCtx {
  session: Session;
  nonce: string;
  /** Sign-in is on, so there is a sign-out button. */
  signedIn: boolean;
}

type Form = Record<string, string | File | (string | File)[]>;

const RUN_ID = /^[0-9A-Za-z_-]{1,100}$/;

const DONE = {
  retry: "retried",
  replay: "replayed",
  cancel: "cancelled",
  ack: "acked",
  resolve: "resolved",
  mute: "muted",
  unmute: "unmuted",
} as const;

const NOTICES: Record<string, string> = {
  retried: "Retry started: the run resumes from its failed step.",
  replayed: "Replay started: a new run with the same input.",
  cancelled: "Cancelled.",
  acked: "Acknowledged.",
  resolved: "Resolved.",
  muted: "Muted: alerts like this one are not sent while the silence lasts.",
  unmuted: "Unmuted.",
  "retry-requested": "Retry requested from the system that reported this failure.",
  "replay-requested": "Replay requested from the system that reported this failure.",
};

function secureHeaders(c: Context, nonce: string): void {
  c.header(
    "Content-Security-Policy",
    `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
  );
  c.header("X-Content-Type-Options", "nosniff");
  c.header("Referrer-Policy", "same-origin");
  c.header("Cache-Control", "no-store");
}

export function pageRoutes(deps: Deps): Hono {
  const app = new Hono();
  const people = new People(deps.config.MEND_API_TOKEN, deps.config.MEND_USERS);
  const stats = new RunStats(deps.db);
  const runList = new RunList(deps.db);
  const redact = makeRedactor(deps.config.secrets);

  const html = (c: Context, status: 200 | 400 | 401 | 403 | 404 | 409 | 500 | 502, nonce: string, node: Child) => {
    secureHeaders(c, nonce);
    return c.html(node as string, status);
  };
  const message = (
    c: Context,
    status: 400 | 401 | 403 | 404 | 409 | 500 | 502,
    nonce: string,
    title: string,
    text: string,
    back?: string,
  ) => html(c, status, nonce, <MessagePage nonce={nonce} title={title} message={text} back={back} />);

  const failure = (c: Context, err: unknown, nonce: string, back?: string) => {
    if (err instanceof EngineError)
      return message(
        c,
        ({ not_found: 404, conflict: 409, invalid: 400 } as const)[err.code],
        nonce,
        "Not done",
        err.message,
        back,
      );
    if (err instanceof ApiError)
      return message(c, err.status === 404 ? 404 : 400, nonce, "Not done", err.message, back);
    deps.log("error", "page failed", { path: c.req.path, error: String((err as Error)?.stack ?? err) });
    return message(c, 500, nonce, "Internal error", "Something went wrong; the server log has the details.", back);
  };

  function page(handler: (c: Context, x: PageCtx) => Promise<Response>) {
    return async function servePage(c: Context): Promise<Response> {
      const nonce = newNonce();
      let session = await readSession(c, people);
      if (!session) {
        if (people.on) {
          const url = new URL(c.req.url);
          const here = url.pathname + url.search;
          // A link from a chat alert is cross-site: the Strict cookie only comes with a same-site reload.
          if (c.req.header("sec-fetch-site") === "cross-site")
            return html(c, 200, nonce, <BouncePage nonce={nonce} url={here} />);
          return c.redirect(`/login?next=${encodeURIComponent(here)}`, 303);
        }
        session = await startSession(c, undefined);
      }
      try {
        if (session.user) c.set("actor", { id: session.user, name: session.user, via: "page" });
        return await handler(c, { session, nonce, signedIn: people.on });
      } catch (err) {
        return failure(c, err, nonce);
      }
    };
  }

  function action(handler: (c: Context, x: PageCtx, form: Form) => Promise<Response>) {
    return async function runAction(c: Context): Promise<Response> {
      const nonce = newNonce();
      const back = RUN_ID.test(c.req.param("id") ?? "") ? `/runs/${c.req.param("id")}` : "/";
      const refusal = crossSiteRefusal(c, deps.config.MEND_PUBLIC_URL);
      if (refusal) {
        deps.log("warn", "page action refused", { path: c.req.path, reason: refusal });
        return message(c, 403, nonce, "Refused", `Refused: ${refusal}.`, back);
      }
      const session = await readSession(c, people);
      if (!session)
        return people.on
          ? message(
              c,
              401,
              nonce,
              "Sign in first",
              "Your session has ended: sign in and try again.",
              `/login?next=${encodeURIComponent(back)}`,
            )
          : message(
              c,
              403,
              nonce,
              "Refused",
              "Refused: this browser has no session; reload the page and try again.",
              back,
            );
      let form: Form = {};
      try {
        form = (await c.req.parseBody({ all: true })) as Form;
      } catch {
        form = {};
      }
      if (!csrfMatches(session, form._csrf)) {
        deps.log("warn", "page action refused", { path: c.req.path, reason: "missing or wrong CSRF token" });
        return message(
          c,
          403,
          nonce,
          "Refused",
          "Refused: the form's CSRF token is missing or wrong; reload the page and try again.",
          back,
        );
      }
      try {
        if (session.user) c.set("actor", { id: session.user, name: session.user, via: "page" });
        return await handler(c, { session, nonce, signedIn: people.on }, form);
      } catch (err) {
        return failure(c, err, nonce, back);
      }
    };
  }

  async function loadRun(id: string, csrf: string): Promise<RunViewData | undefined> {
    if (!RUN_ID.test(id)) return undefined;
    const run = await deps.runs.getRun(id);
    if (!run) return undefined;
    const external = externalOf(run);
    const now = deps.clock.now();
    const [attempts, rows, replays, latest, silences] = await Promise.all([
      deps.runs.getAttempts(id),
      deps.outbox.forRun(id),
      stats.replaysOf(id),
      external ? undefined : deps.flows.get(run.flow).catch(() => undefined),
      deps.silences.active(now),
    ]);
    const [extras, own] = await Promise.all([
      deliveryExtras(deps, run, rows),
      !latest || latest.version === run.flowVersion
        ? latest
        : deps.flows.get(run.flow, run.flowVersion).catch(() => undefined),
    ]);
    const error = run.error ?? run.cursor.primary;
    // Stored values are redacted already; this second pass costs nothing without secrets.
    const shownRun = { ...run, input: redact(run.input), output: redact(run.output), error: redact(run.error) };
    return {
      run: shownRun,
      attempts: attempts.map((a) => ({ ...a, output: redact(a.output), error: redact(a.error) })),
      alerts: rows.map((row) => {
        const x = extras.get(row.id);
        return {
          row: { ...row, lastError: redact(row.lastError) },
          handlerName: x?.handler_name ?? null,
          messageId: x?.message_id ?? null,
          groupCount: x?.group_count ?? null,
        };
      }),
      replays,
      latestVersion: latest?.version,
      external: external ? redact(external) : undefined,
      steps: own?.flow.steps.map((s) => s.id) ?? [],
      silence: error ? silences.find((s) => silenceMatches(s, run.flow, error)) : undefined,
      key: newNonce(),
      now,
      csrf,
    };
  }

  // ------------------------------------------------------------------ pages

  app.get(
    "/",
    page(async (c, x) => {
      const now = deps.clock.now();
      const filter = parseFilter(c.req.query(), now);
      if (c.req.header("x-mend-live") === "1") {
        const list = await runList.list({ ...filter, limit: PAGE_SIZE });
        return html(
          c,
          200,
          x.nonce,
          <RunsTable
            nonce={x.nonce}
            csrf={x.session.csrf}
            signedIn={x.signedIn}
            user={x.session.user}
            filter={filter}
            runs={list.runs}
            next={list.next}
            flows={[]}
            rates={[]}
            now={now}
          />,
        );
      }
      const [list, rates, flows] = await Promise.all([
        runList.list({ ...filter, limit: PAGE_SIZE }),
        stats.failureRates(now),
        deps.flows.list(),
      ]);
      const names = [
        ...new Set([...flows.map((f) => f.name), ...rates.map((r) => r.flow), ...(filter.flow ? [filter.flow] : [])]),
      ].sort();
      return html(
        c,
        200,
        x.nonce,
        <RunsListPage
          nonce={x.nonce}
          csrf={x.session.csrf}
          signedIn={x.signedIn}
          user={x.session.user}
          filter={filter}
          runs={list.runs}
          next={list.next}
          flows={names}
          rates={rates}
          now={now}
        />,
      );
    }),
  );

  app.get(
    "/runs/:id",
    page(async (c, x) => {
      const d = await loadRun(c.req.param("id") ?? "", x.session.csrf);
      if (!d) return message(c, 404, x.nonce, "Unknown run", `There is no run '${c.req.param("id")}'.`);
      const asked = c.req.query("attempt");
      if (asked && /^\d{1,6}$/.test(asked)) d.attempt = Number(asked);
      const notice = NOTICES[c.req.query("done") ?? ""];
      return html(
        c,
        200,
        x.nonce,
        <RunPage d={d} nonce={x.nonce} signedIn={x.signedIn} user={x.session.user} notice={notice} />,
      );
    }),
  );

  // The live part of a run page, polled by its script: the #run section alone.
  app.get("/runs/:id/live", async (c) => {
    const session = await readSession(c, people);
    const nonce = newNonce();
    if (!session && people.on) return c.text("sign in first", 401);
    const d = await loadRun(c.req.param("id"), session?.csrf ?? "");
    if (!d) return c.text("unknown run", 404);
    return html(c, 200, nonce, <RunView d={d} />);
  });

  app.get(
    "/flows",
    page(async (c, x) => {
      const [flows, rates] = await Promise.all([deps.flows.list(), stats.failureRates(deps.clock.now())]);
      return html(
        c,
        200,
        x.nonce,
        <FlowsPage
          nonce={x.nonce}
          csrf={x.session.csrf}
          signedIn={x.signedIn}
          user={x.session.user}
          flows={flows}
          rates={new Map(rates.map((r) => [r.flow, r]))}
        />,
      );
    }),
  );

  app.get(
    "/flows/:name",
    page(async (c, x) => {
      const name = c.req.param("name") ?? "";
      const int = (v: string | undefined) => (v !== undefined && /^\d{1,9}$/.test(v) ? Number(v) : undefined);
      const shownVersion = int(c.req.query("v"));
      const [found, versions] = await Promise.all([deps.flows.get(name, shownVersion), deps.flows.versionsOf(name)]);
      if (!found)
        return message(
          c,
          404,
          x.nonce,
          "Unknown flow",
          shownVersion ? `Flow '${name}' has no version ${shownVersion}.` : `There is no flow '${name}'.`,
          "/flows",
        );
      const latest = versions.at(-1)?.version ?? found.version;
      const [a, b] = [int(c.req.query("a")), int(c.req.query("b"))];
      let diff;
      if (a !== undefined && b !== undefined) {
        const [fa, fb] = await Promise.all([deps.flows.get(name, a), deps.flows.get(name, b)]);
        if (!fa || !fb)
          return message(
            c,
            404,
            x.nonce,
            "Unknown version",
            `Flow '${name}' has no version ${!fa ? a : b}.`,
            `/flows/${encodeURIComponent(name)}`,
          );
        diff = { a, b, lines: diffLines(flowYaml(fa.flow, redact), flowYaml(fb.flow, redact)) };
      }
      return html(
        c,
        200,
        x.nonce,
        <FlowPage
          nonce={x.nonce}
          csrf={x.session.csrf}
          signedIn={x.signedIn}
          user={x.session.user}
          name={name}
          shown={found.version}
          latest={latest}
          description={found.flow.description}
          yaml={flowYaml(found.flow, redact)}
          versions={versions}
          diff={diff}
        />,
      );
    }),
  );

  app.get(
    "/handlers",
    page(async (c, x) => {
      const [handlers, silences] = await Promise.all([deps.handlers.list(), deps.silences.active(deps.clock.now())]);
      const health = await deps.outbox.health(handlers.map((h) => h.id));
      const shown = handlers.map((h) => ({ ...redact(h), health: publicHealth(health.get(h.id)) }));
      return html(
        c,
        200,
        x.nonce,
        <HandlersPage
          nonce={x.nonce}
          csrf={x.session.csrf}
          signedIn={x.signedIn}
          user={x.session.user}
          handlers={shown}
          silences={silences}
          formKey={newNonce()}
        />,
      );
    }),
  );

  // ---------------------------------------------------------------- buttons

  // Run actions: thin adapters over deps.runActions, as the API (external failures included).
  for (const kind of ["retry", "replay", "cancel", "ack", "resolve", "mute", "unmute"] as const) {
    app.post(
      `/runs/:id/${kind}`,
      action(async (c, x, form) => {
        const id = c.req.param("id") ?? "";
        const req = actionFromForm(kind, id, form);
        // Edited input that is not JSON, or fails the flow's schema: the page again, the editor open, the errors inline.
        const redraft = async (error: string, issues?: Issue[]) => {
          const d = await loadRun(id, x.session.csrf);
          if (!d) return message(c, 404, x.nonce, "Unknown run", `There is no run '${id}'.`);
          d.draft = { text: String(form.input), error, issues };
          return html(c, 400, x.nonce, <RunPage d={d} nonce={x.nonce} signedIn={x.signedIn} user={x.session.user} />);
        };
        const edited = kind === "replay" && typeof form.input === "string" && form.input.trim() !== "";
        if ("error" in req)
          return edited ? redraft(req.error) : message(c, 400, x.nonce, "Not done", req.error, `/runs/${id}`);
        deps.log("info", `${kind} from the run page`, { run: id, by: x.session.user });
        const outcome = await deps.runActions.perform({ ...req, by: actorOf(c, undefined, "page") });
        if (!outcome.ok && edited && outcome.httpStatus === 400) return redraft(outcome.error, outcome.issues);
        if (!outcome.ok) return message(c, outcome.httpStatus, x.nonce, "Not done", outcome.error, `/runs/${id}`);
        if (kind === "unmute" && form.back === "handlers") return c.redirect("/handlers?done=unmuted", 303);
        const external = "callback" in outcome.body;
        const shown = kind === "replay" && outcome.started ? outcome.started.id : id;
        return c.redirect(`/runs/${shown}?done=${external ? `${kind}-requested` : DONE[kind]}`, 303);
      }),
    );
  }

  // ------------------------------------------------------------ bulk

  const idsOf = (v: Form[string] | undefined) =>
    (Array.isArray(v) ? v : v === undefined ? [] : [v]).filter(
      (x): x is string => typeof x === "string" && RUN_ID.test(x),
    );
  const bulkKind = (v: unknown) => (v === "retry" || v === "replay" ? v : undefined);
  const formText = (form: Form) =>
    Object.fromEntries(Object.entries(form).filter((e): e is [string, string] => typeof e[1] === "string"));

  // The list's bulk form → a confirmation with the count: the ticked runs, or all matching the filters.
  app.post(
    "/runs/bulk/confirm",
    action(async (c, x, form) => {
      const [kind, scope] = String(form.do ?? "").split(":");
      const act = bulkKind(kind);
      if (!act) return message(c, 400, x.nonce, "Not done", "Choose Retry or Replay.");
      const filter = { ...parseFilter(formText(form), deps.clock.now()), cursor: undefined };
      let runs;
      let what: string;
      if (scope === "all") {
        runs = (await runList.list({ ...filter, limit: BULK_MAX + 1 })).runs;
        if (runs.length > BULK_MAX)
          return message(
            c,
            400,
            x.nonce,
            "Too many runs",
            `More than ${BULK_MAX} runs match these filters: narrow them (flow, status, search, time).`,
            listHref(filter),
          );
        what = `Every run matching the filters (${describeFilter(filter)})`;
      } else {
        const ids = idsOf(form.run);
        if (ids.length === 0)
          return message(
            c,
            400,
            x.nonce,
            "Nothing ticked",
            "Tick the runs to act on first, or choose “all matching”.",
            listHref(filter),
          );
        if (ids.length > BULK_MAX)
          return message(c, 400, x.nonce, "Too many runs", `At most ${BULK_MAX} runs at once.`, listHref(filter));
        runs = await runList.byIds(ids);
        what = "The runs you ticked";
      }
      if (runs.length === 0)
        return message(c, 400, x.nonce, "No runs", "No run matches these filters.", listHref(filter));
      return html(
        c,
        200,
        x.nonce,
        <BulkConfirmPage
          nonce={x.nonce}
          csrf={x.session.csrf}
          signedIn={x.signedIn}
          user={x.session.user}
          action={act}
          runs={runs}
          scope={what}
          back={listHref(filter)}
          key={newNonce()}
        />,
      );
    }),
  );

  app.post(
    "/runs/bulk",
    action(async (c, x, form) => {
      const act = bulkKind(form.do);
      if (!act) return message(c, 400, x.nonce, "Not done", "Choose Retry or Replay.");
      const key = typeof form.idempotency_key === "string" ? form.idempotency_key.slice(0, 255) : undefined;
      deps.log("info", `bulk ${act} from the runs page`, { runs: idsOf(form.run).length, by: x.session.user });
      const outcome = await deps.runActions.bulk({
        action: act,
        runIds: idsOf(form.run),
        by: actorOf(c, undefined, "page"),
        idempotencyKey: key,
      });
      if (!outcome.ok) return message(c, 400, x.nonce, "Not done", outcome.error);
      const started = await runList.byIds(outcome.body.accepted.map((a) => a.new_run_id ?? a.run_id));
      const { skipped } = outcome.body;
      return html(
        c,
        200,
        x.nonce,
        <BulkResultPage
          nonce={x.nonce}
          csrf={x.session.csrf}
          signedIn={x.signedIn}
          user={x.session.user}
          summary={outcome.summary}
          action={act}
          started={started}
          skipped={skipped}
        />,
      );
    }),
  );

  // How far the runs a bulk action started are (the result page's script asks every second).
  app.post(
    "/runs/bulk/progress",
    action(async (c, x, form) => {
      const act = bulkKind(form.do) ?? "retry";
      const started = await runList.byIds(idsOf(form.run).slice(0, BULK_MAX));
      if (c.req.header("x-mend-live") === "1")
        return html(
          c,
          200,
          x.nonce,
          <BulkProgress csrf={x.session.csrf} action={act} started={started} skipped={[]} />,
        );
      return html(
        c,
        200,
        x.nonce,
        <BulkResultPage
          nonce={x.nonce}
          csrf={x.session.csrf}
          signedIn={x.signedIn}
          user={x.session.user}
          summary={`Bulk ${act}: progress`}
          action={act}
          started={started}
          skipped={[]}
        />,
      );
    }),
  );

  // ------------------------------------------------------------ the token

  app.get("/login", async (c) => {
    const next = safeNext(c.req.query("next"));
    if (!people.on || (await readSession(c, people))) return c.redirect(next, 303);
    const nonce = newNonce();
    return html(c, 200, nonce, <LoginPage nonce={nonce} next={next} />);
  });

  app.post("/login", async (c) => {
    const nonce = newNonce();
    if (!people.on) return c.redirect("/", 303);
    const refusal = crossSiteRefusal(c, deps.config.MEND_PUBLIC_URL);
    if (refusal) return message(c, 403, nonce, "Refused", `Refused: ${refusal}.`);
    let form: Form = {};
    try {
      form = (await c.req.parseBody()) as Form;
    } catch {
      form = {};
    }
    const next = safeNext(form.next);
    const person = typeof form.token === "string" ? people.byToken(form.token) : undefined;
    if (!person) {
      deps.log("warn", "pages: wrong token entered", {});
      return html(c, 401, nonce, <LoginPage nonce={nonce} next={next} wrong />);
    }
    await startSession(c, person);
    deps.log("info", "pages: signed in", { user: person.name });
    return c.redirect(next, 303);
  });

  app.post(
    "/logout",
    action(async (c) => {
      endSession(c);
      return c.redirect(people.on ? "/login" : "/", 303);
    }),
  );

  return app;
}
