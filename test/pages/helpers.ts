// Helpers for the page tests: a real server with a scriptable upstream, and a tiny cookie-keeping browser.
import { startTestServer, type TestServer } from "../api/server";
import { startUpstream, type Upstream } from "../fakes/upstream";

export interface PagesEnv {
  s: TestServer;
  up: Upstream;
  stop(): Promise<void>;
}

export async function startPages(env: Record<string, string> = {}): Promise<PagesEnv> {
  const up = await startUpstream();
  const s = await startTestServer(env);
  return {
    s,
    up,
    async stop() {
      await s.stop();
      await up.close();
    },
  };
}

/** A flow whose one http step calls the upstream once (no retries): a 500 fails the run. */
export function callFlow(name: string, upstreamUrl: string, extra: Record<string, unknown> = {}) {
  return {
    name,
    steps: [{ id: "call", http: { method: "POST", url: `${upstreamUrl}/work`, body: { order: "{{ input.order }}" } } }],
    ...extra,
  };
}

export async function startRun(s: TestServer, flow: string, input: unknown): Promise<string> {
  const res = await s.api(`/hooks/${flow}`, { method: "POST", json: input });
  if (res.status !== 202) throw new Error(`trigger ${flow}: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { run_id: string }).run_id;
}

/** Starts a run and waits for it to end in one of `statuses`. */
export async function runTo(
  s: TestServer,
  flow: string,
  input: unknown,
  statuses = ["succeeded", "failed", "recovered"],
): Promise<string> {
  const id = await startRun(s, flow, input);
  await s.waitForStatus(id, statuses);
  return id;
}

export function csrfOf(html: string): string {
  const m = /name="_csrf" value="([0-9a-f]+)"/.exec(html);
  if (!m) throw new Error("no CSRF token in the page");
  return m[1]!;
}

/** Keeps the session cookie between requests, like a browser would; never follows redirects. */
export class Browser {
  cookie = "";
  constructor(private readonly base: string) {}

  async get(path: string, headers: Record<string, string> = {}): Promise<Response> {
    return this.request(path, { method: "GET", headers });
  }

  async post(path: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
    return this.request(path, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
      body: new URLSearchParams(form).toString(),
    });
  }

  private async request(
    path: string,
    init: { method: string; headers: Record<string, string>; body?: string },
  ): Promise<Response> {
    const res = await fetch(this.base + path, {
      ...init,
      headers: { ...(this.cookie ? { cookie: this.cookie } : {}), ...init.headers },
      redirect: "manual",
    });
    const set = res.headers.get("set-cookie");
    if (set) {
      const [pair] = set.split(";");
      this.cookie = /=$/.test(pair!) || /Max-Age=0/i.test(set) ? "" : pair!;
    }
    return res;
  }

  /** GETs a page (must be 200) and returns its HTML. */
  async page(path: string): Promise<string> {
    const res = await this.get(path);
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
    return res.text();
  }
}

/** Text content of the first element with this attribute (crude, enough for server-rendered tests). */
export function count(html: string, needle: string | RegExp): number {
  return typeof needle === "string"
    ? html.split(needle).length - 1
    : (html.match(new RegExp(needle.source, "g")) ?? []).length;
}
