// A loopback upstream for the black-box suite: replies scripted per path (so a late retry of one
// test never eats another test's reply), every request recorded.
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface RoutedReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface RoutedUpstream {
  url: string;
  /** Replies for `path`, used in order; after the last one it answers `fallback` (default 200 { ok: true }). */
  script(path: string, replies: RoutedReply[], fallback?: RoutedReply): void;
  requests(path: string): { method: string; headers: IncomingHttpHeaders; body: string; at: number }[];
  close(): Promise<void>;
}

export async function startRoutedUpstream(): Promise<RoutedUpstream> {
  const queues = new Map<string, { replies: RoutedReply[]; fallback: RoutedReply }>();
  const seen = new Map<string, { method: string; headers: IncomingHttpHeaders; body: string; at: number }[]>();
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      const path = (req.url ?? "/").split("?")[0]!;
      const list = seen.get(path) ?? [];
      list.push({ method: req.method ?? "", headers: req.headers, body, at: Date.now() });
      seen.set(path, list);
      const q = queues.get(path);
      const reply = q?.replies.shift() ?? q?.fallback ?? { status: 200, body: { ok: true } };
      const isJson = reply.body !== undefined && typeof reply.body !== "string";
      res.writeHead(reply.status, { ...(isJson ? { "content-type": "application/json" } : {}), ...reply.headers });
      res.end(reply.body === undefined ? "" : isJson ? JSON.stringify(reply.body) : String(reply.body));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    script(path, replies, fallback = { status: 200, body: { ok: true } }) {
      queues.set(path, { replies: [...replies], fallback });
    },
    requests: (path) => seen.get(path) ?? [],
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
