// A scriptable HTTP upstream on 127.0.0.1: answers from a queue of replies, records every request.
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  delayMs?: number;
}

export interface Recorded {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface Upstream {
  url: string;
  requests: Recorded[];
  /** Replies used in order; after the last one, `fallback` answers. */
  script(replies: Reply[], fallback?: Reply): void;
  close(): Promise<void>;
}

export async function startUpstream(): Promise<Upstream> {
  let queue: Reply[] = [];
  let fallback: Reply = { status: 200, body: { ok: true } };
  const requests: Recorded[] = [];
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      requests.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers, body });
      const reply = queue.shift() ?? fallback;
      const send = () => {
        if (res.destroyed) return;
        const isJson = reply.body !== undefined && typeof reply.body !== "string";
        res.writeHead(reply.status, { ...(isJson ? { "content-type": "application/json" } : {}), ...reply.headers });
        res.end(reply.body === undefined ? "" : isJson ? JSON.stringify(reply.body) : String(reply.body));
      };
      if (reply.delayMs) setTimeout(send, reply.delayMs);
      else send();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    script(replies, fb) {
      queue = [...replies];
      if (fb) fallback = fb;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
