// A client that sends its body slowly is cut off instead of holding a connection for 300 s.
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../api/server";

let s: TestServer;
beforeAll(async () => {
  s = await startTestServer({}, { requestTimeoutMs: 1_000 });
});
afterAll(() => s.stop());

describe("a slow request body", () => {
  it("is answered 408 and the connection closed once the request timeout passes", async () => {
    const started = Date.now();
    const answer = await new Promise<string>((resolve) => {
      const sock = connect(s.port, "127.0.0.1", () => {
        sock.write(
          `POST /hooks/x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":`,
        );
      });
      let got = "";
      sock.on("data", (d) => (got += d.toString()));
      sock.on("close", () => resolve(got));
    });
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
