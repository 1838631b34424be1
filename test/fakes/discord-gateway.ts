// A fake Discord gateway on 127.0.0.1 (the `ws` package discord.js itself uses): HELLO on connect,
// IDENTIFY (token checked) → READY, HEARTBEAT → HEARTBEAT_ACK, RESUME → INVALID_SESSION (so the
// client identifies afresh), and dispatch(t, d) to push events such as INTERACTION_CREATE.
// The fake REST (test/fakes/discord.ts) hands this URL out from GET /gateway/bot.
import type { AddressInfo } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";

type Json = Record<string, any>;

export const GATEWAY_BOT_USER = {
  id: "900000000000000001",
  username: "mend",
  discriminator: "0",
  global_name: null,
  avatar: null,
  bot: true,
};

export interface FakeGateway {
  url: string;
  /** IDENTIFY payloads received (op 2). */
  identifies: Json[];
  /** Every payload received, in order. */
  received: Json[];
  /** Sessions that got READY. */
  readyCount: number;
  waitReady(timeoutMs?: number): Promise<void>;
  /** Sends a dispatch (op 0) to every ready session. */
  dispatch(t: string, d: Json): void;
  close(): Promise<void>;
}

export async function startFakeGateway(opts: { token: string; applicationId: string }): Promise<FakeGateway> {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise<void>((r) => wss.once("listening", () => r()));
  const { port } = wss.address() as AddressInfo;
  const url = `ws://127.0.0.1:${port}`;
  const identifies: Json[] = [];
  const received: Json[] = [];
  const ready = new Set<WebSocket>();
  const seqs = new Map<WebSocket, number>();
  let readyCount = 0;
  let sessions = 0;

  const send = (ws: WebSocket, payload: Json) => ws.readyState === ws.OPEN && ws.send(JSON.stringify(payload));

  wss.on("connection", (ws, req) => {
    const q = new URL(req.url ?? "/", "http://x").searchParams;
    if (q.get("v") !== "10" || q.get("encoding") !== "json") {
      ws.close(4012, "Invalid API version");
      return;
    }
    seqs.set(ws, 0);
    send(ws, { op: 10, d: { heartbeat_interval: 41_250 }, s: null, t: null });
    ws.on("message", (data) => {
      let p: Json;
      try {
        p = JSON.parse(String(data)) as Json;
      } catch {
        ws.close(4002, "Decode error");
        return;
      }
      received.push(p);
      switch (p.op) {
        case 1:
          send(ws, { op: 11, d: null, s: null, t: null });
          break;
        case 2: {
          identifies.push(p.d);
          if (p.d?.token !== opts.token) {
            ws.close(4004, "Authentication failed.");
            return;
          }
          const s = (seqs.get(ws) ?? 0) + 1;
          seqs.set(ws, s);
          sessions++;
          send(ws, {
            op: 0,
            t: "READY",
            s,
            d: {
              v: 10,
              user: GATEWAY_BOT_USER,
              guilds: [],
              session_id: `fake-session-${sessions}`,
              resume_gateway_url: url,
              shard: p.d.shard ?? [0, 1],
              application: { id: opts.applicationId, flags: 0 },
            },
          });
          ready.add(ws);
          readyCount++;
          break;
        }
        case 6:
          // No resumable sessions here: the client identifies again.
          send(ws, { op: 9, d: false, s: null, t: null });
          break;
        default:
          break;
      }
    });
    ws.on("close", () => {
      ready.delete(ws);
      seqs.delete(ws);
    });
  });

  return {
    url,
    identifies,
    received,
    get readyCount() {
      return readyCount;
    },
    async waitReady(timeoutMs = 10_000) {
      const end = Date.now() + timeoutMs;
      while (ready.size === 0) {
        if (Date.now() > end)
          throw new Error(`fake gateway: no READY session after ${timeoutMs} ms (identifies: ${identifies.length})`);
        await new Promise((r) => setTimeout(r, 15));
      }
    },
    dispatch(t, d) {
      for (const ws of ready) {
        const s = (seqs.get(ws) ?? 0) + 1;
        seqs.set(ws, s);
        send(ws, { op: 0, t, s, d });
      }
    },
    close: () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => r());
      }),
  };
}
