// Outbound safety of http steps: metadata addresses always refused, private ranges under
// MEND_BLOCK_PRIVATE_URLS, connections checked at connect time (no DNS rebinding), MEND_MAX_RESPONSE.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pinnedFetch } from "../../src/net/pinned-fetch";
import { startTestServer, type TestServer } from "../api/server";
import { json } from "../hub/helpers";

let upstream: Server;
let port: number;
beforeAll(async () => {
  // /big: 64 KiB without Content-Length (chunked); /sized: 64 KiB with it; /ok: a small JSON answer.
  upstream = createServer((req, res) => {
    if (req.url === "/ok") return res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
    const chunk = "x".repeat(1024);
    if (req.url === "/sized") res.writeHead(200, { "content-length": String(64 * 1024) });
    else res.writeHead(200, { "content-type": "text/plain" });
    for (let i = 0; i < 64; i++) res.write(chunk);
    res.end();
  });
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
  port = (upstream.address() as AddressInfo).port;
});
afterAll(() => new Promise((r) => upstream.close(r)));

async function runOnce(s: TestServer, url: string) {
  const name = `f${Math.random().toString(36).slice(2, 8)}`;
  expect(
    (
      await s.putFlow({
        name,
        steps: [{ id: "call", http: { method: "GET", url }, retry: { max_attempts: 3, delay_ms: 10 } }],
      })
    ).status,
  ).toBe(201);
  const { run_id } = await json<{ run_id: string }>(s.api(`/hooks/${name}`, { method: "POST", json: {} }));
  return (await s.waitForStatus(run_id, ["failed", "succeeded"])) as {
    status: string;
    error: { type: string; message: string };
    steps: unknown[];
  };
}

describe("http steps", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ MEND_MAX_RESPONSE: "16384" });
  });
  afterAll(() => s.stop());

  it("never call a cloud metadata address, and do not retry it", async () => {
    const run = await runOnce(s, "http://169.254.169.254/latest/meta-data/");
    expect(run.status).toBe("failed");
    expect(run.error).toMatchObject({ type: "validation", message: expect.stringContaining("169.254.169.254") });
    expect(run.steps).toHaveLength(1);
  });

  it("fail with a validation error when the body passes MEND_MAX_RESPONSE, with or without Content-Length", async () => {
    for (const path of ["/big", "/sized"]) {
      const run = await runOnce(s, `http://127.0.0.1:${port}${path}`);
      expect(run.error).toMatchObject({
        type: "validation",
        message: expect.stringContaining("MEND_MAX_RESPONSE (16384 bytes)"),
      });
      expect(run.steps).toHaveLength(1);
    }
    expect((await runOnce(s, `http://127.0.0.1:${port}/ok`)).status).toBe("succeeded");
  });
});

describe("with MEND_BLOCK_PRIVATE_URLS=true", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ MEND_BLOCK_PRIVATE_URLS: "true" });
  });
  afterAll(() => s.stop());

  it("http steps refuse private addresses, literal or by name", async () => {
    for (const url of [`http://127.0.0.1:${port}/ok`, `http://localhost:${port}/ok`]) {
      const run = await runOnce(s, url);
      expect(run.status).toBe("failed");
      expect(run.error.type).toBe("validation");
    }
  });
});

describe("pinned connections", () => {
  it("check the address a name resolves to when connecting, not before", async () => {
    // No check happens before the request: only the connect-time lookup can refuse it.
    const strict = pinnedFetch(true);
    const err = await strict(`http://localhost:${port}/ok`).then(
      () => undefined,
      (e: { cause?: { code?: string; message?: string } }) => e,
    );
    expect(err?.cause).toMatchObject({
      code: "EREFUSED_ADDRESS",
      message: expect.stringMatching(/refused to connect to localhost: .*loopback/),
    });
    const open = pinnedFetch(false);
    expect((await open(`http://localhost:${port}/ok`)).status).toBe(200);
  });
});
