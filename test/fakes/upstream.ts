// A scriptable HTTP upstream on 127.0.0.1: answers from a queue of replies, records every request.
// `fetch` is the same upstream without the network, for createServices({ fetch }) in-process.
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
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

export async function startUpstream(): Promise<Upstream> {
  let queue: Reply[] = [];
  let fallback: Reply = { status: 200, body: { ok: true } };
  const requests: Recorded[] = [];
  /** Records the request and picks its reply, with the headers and body to send. */
  const answer = (recorded: Recorded) => {
    requests.push(recorded);
    const reply = queue.shift() ?? fallback;
    const isJson = reply.body !== undefined && typeof reply.body !== "string";
    return {
      reply,
      headers: { ...(isJson ? { "content-type": "application/json" } : {}), ...reply.headers },
      body: reply.body === undefined ? "" : isJson ? JSON.stringify(reply.body) : String(reply.body),
    };
  };
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      const out = answer({ method: req.method ?? "", path: req.url ?? "", headers: req.headers, body });
      const send = () => {
        if (res.destroyed) return;
        res.writeHead(out.reply.status, out.headers);
        res.end(out.body);
      };
      if (out.reply.delayMs) setTimeout(send, out.reply.delayMs);
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
    async fetch(input, init) {
      const req = new Request(input, init);
      const headers: IncomingHttpHeaders = {};
      req.headers.forEach((v, k) => (headers[k] = v));
      const u = new URL(req.url);
      const out = answer({ method: req.method, path: u.pathname + u.search, headers, body: await req.text() });
      if (out.reply.delayMs) throw new Error("fake upstream: delayMs needs the network (use startUpstream's url)");
      const nullBody = [204, 205, 304].includes(out.reply.status);
      return new Response(nullBody ? null : out.body, { status: out.reply.status, headers: out.headers });
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
