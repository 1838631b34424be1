// The local upstream the http steps call: node:http on 127.0.0.1, run in its own process.
//   POST /ok   → 200 JSON { id, ok: true, amount } (echoes the amount of the JSON body)
//   POST /fail → 500 JSON { error }
// It counts requests per path so the bench can check that every attempt reached it.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { runChild } from "./child";

const counts: Record<string, number> = { ok: 0, fail: 0, other: 0, bad_body: 0 };

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    const path = (req.url ?? "/").split("?")[0];
    let body: { amount?: unknown } | undefined;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { amount?: unknown };
    } catch {
      counts.bad_body! += 1;
    }
    let status: number;
    let answer: unknown;
    if (req.method === "POST" && path === "/ok") {
      counts.ok! += 1;
      status = 200;
      answer = { id: `ch_${counts.ok}`, ok: true, amount: body?.amount ?? null };
    } else if (req.method === "POST" && path === "/fail") {
      counts.fail! += 1;
      status = 500;
      answer = { error: "upstream is down (bench)" };
    } else {
      counts.other! += 1;
      status = 404;
      answer = { error: "no such route" };
    }
    const text = JSON.stringify(answer);
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
    res.end(text);
  });
});
// Keep client connections (undici's pool) alive longer than any scenario, so no
// request races a server-side keep-alive close.
server.keepAliveTimeout = 120_000;
server.headersTimeout = 121_000;

server.listen(0, "127.0.0.1", () => {
  const port = (server.address() as AddressInfo).port;
  runChild(
    port,
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
    () => ({ ...counts }),
  );
});
