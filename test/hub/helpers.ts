// Shared bits of the hub tests: polling, free ports, Standard Webhooks verification of recorded requests.
import { createServer } from "node:net";
import { Webhook } from "standardwebhooks";
import type { Recorded } from "../fakes/upstream";
import type { TestServer } from "../api/server";

export async function waitUntil(check: () => boolean | Promise<boolean>, ms = 8000, what = "condition"): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`${what} not reached within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A port nothing listens on (yet). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return port;
}

/** Verifies a recorded request with the standardwebhooks library and returns its parsed body. */
export function verified(secret: string, req: Recorded): Record<string, unknown> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers[k] = v;
  return new Webhook(secret).verify(req.body, headers) as Record<string, unknown>;
}

export async function json<T = Record<string, unknown>>(res: Response | Promise<Response>): Promise<T> {
  return (await (await res).json()) as T;
}

export async function createHandler(
  s: Pick<TestServer, "api">,
  body: unknown,
): Promise<{ id: string; config: { secret: string; url: string } }> {
  const res = await s.api("/api/handlers", { method: "POST", json: body });
  if (res.status !== 201) throw new Error(`handler not created: ${res.status} ${await res.text()}`);
  return (await res.json()) as { id: string; config: { secret: string; url: string } };
}

export async function getRun(s: Pick<TestServer, "api">, id: string): Promise<Record<string, any>> {
  return json(s.api(`/api/runs/${id}`));
}

/** Triggers a run of `flow` and waits for it to end. */
export async function failRun(s: TestServer, flow: string, input: unknown = {}): Promise<string> {
  const { run_id } = await json<{ run_id: string }>(s.api(`/hooks/${flow}`, { method: "POST", json: input }));
  await s.waitForStatus(run_id, ["failed", "recovered", "succeeded"]);
  return run_id;
}
