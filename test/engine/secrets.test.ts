// Secrets are usable in templates but never stored or handed to alerts.
import { describe, expect, it } from "vitest";
import { REDACTED, makeRedactor } from "../../src/engine/redact";
import { flow, makeHarness, refused, reply, URL_A } from "./harness";

const SECRET = "sk-live-4242";
const secrets = { API_KEY: SECRET };

describe("secrets", () => {
  it("are filled into requests as {{ secrets.NAME }}", async () => {
    const h = makeHarness({
      secrets,
      flows: [
        flow("f", [
          {
            id: "call",
            http: { method: "GET", url: URL_A, headers: { Authorization: "Bearer {{ secrets.API_KEY }}" } },
          },
        ]),
      ],
    });
    h.http.reply(reply(200));
    await h.start("f");
    expect(h.http.requests[0]!.headers.authorization).toBe(`Bearer ${SECRET}`);
  });

  it("are redacted in a stored attempt output that echoes them", async () => {
    const h = makeHarness({
      secrets,
      flows: [
        flow("f", [
          { id: "call", http: { method: "GET", url: URL_A, headers: { Authorization: "{{ secrets.API_KEY }}" } } },
        ]),
      ],
    });
    h.http.reply((req) => reply(200, { echoed: req.headers.authorization })(req));
    const run = await h.start("f");
    const [a] = await h.attemptsOf(run.id, "call");
    expect(a!.output).toMatchObject({ body: { echoed: REDACTED } });
    expect(run.output).toMatchObject({ body: { echoed: REDACTED } });
  });

  it("are redacted in a stored error message and details", async () => {
    const h = makeHarness({
      secrets,
      flows: [flow("f", [{ id: "call", http: { method: "GET", url: `http://api.test/{{ secrets.API_KEY }}/x` } }])],
    });
    h.http.reply(reply(500, `bad key ${SECRET}`, { "x-key": SECRET }));
    const run = await h.start("f");
    const [a] = await h.attemptsOf(run.id, "call");
    for (const e of [a!.error, run.error]) {
      expect(e!.message).toBe(`GET http://api.test/${REDACTED}/x returned 500`);
      expect(e!.details).toMatchObject({
        body: `bad key ${REDACTED}`,
        headers: expect.objectContaining({ "x-key": REDACTED }),
        request: { url: `http://api.test/${REDACTED}/x` },
      });
    }
  });

  it("are redacted where a URL carries them percent-encoded", async () => {
    const spaced = "s3cret with/slash&amp";
    const h = makeHarness({
      secrets: { ODD: spaced },
      flows: [flow("f", [{ id: "call", http: { method: "GET", url: "http://api.test/{{ secrets.ODD }}/x" } }])],
    });
    h.http.reply((req) => reply(500, `you sent ${new URL(req.url).pathname}`)(req));
    const run = await h.start("f");
    const text = JSON.stringify(await h.attemptsOf(run.id, "call")) + JSON.stringify(run);
    expect(text).not.toContain(encodeURI(spaced));
    expect(text).not.toContain("s3cret");
    expect(run.error!.message).toBe(`GET http://api.test/${REDACTED}/x returned 500`);
  });

  it("are redacted in the run output", async () => {
    const h = makeHarness({
      secrets,
      flows: [
        flow("f", [{ id: "c", compute: { token: "{{ secrets.API_KEY }}", mixed: "key={{ secrets.API_KEY }}" } }]),
      ],
    });
    expect((await h.start("f")).output).toEqual({ token: REDACTED, mixed: `key=${REDACTED}` });
  });

  it("are redacted in a thrown script error", async () => {
    const h = makeHarness({
      secrets,
      scripts: {
        leak: (args) => {
          throw new Error(`auth failed for ${(args as { k: string }).k}`);
        },
      },
      flows: [flow("f", [{ id: "s", script: { name: "leak", args: { k: "{{ secrets.API_KEY }}" } } }])],
    });
    expect((await h.start("f")).error!.message).toBe(`auth failed for ${REDACTED}`);
  });

  it("are redacted in a network error", async () => {
    const h = makeHarness({
      secrets,
      flows: [flow("f", [{ id: "call", http: { method: "GET", url: `http://api.test/{{ secrets.API_KEY }}` } }])],
    });
    h.http.reply(refused());
    expect((await h.start("f")).error!.message).not.toContain(SECRET);
  });

  it("never appear in anything the engine writes or hands to alerts, even through an error handler", async () => {
    const h = makeHarness({
      secrets,
      flows: [
        flow(
          "f",
          [
            { id: "call", http: { method: "POST", url: URL_A, body: { key: "{{ secrets.API_KEY }}" } } },
            { id: "never", compute: 1 },
          ],
          {
            on_failure: [
              { id: "tell", compute: { e: "{{ error.message }}", f: "{{ failed }}", s: "{{ secrets.API_KEY }}" } },
              { id: "boom", fail: { message: "x {{ secrets.API_KEY }}" } },
            ],
          },
        ),
      ],
    });
    h.http.reply((req) => reply(500, { got: JSON.parse(req.body!).key, s: SECRET })(req));
    const run = await h.start("f", { note: "hello" });
    expect(run.status).toBe("failed");
    expect(JSON.stringify(h.store.commits)).not.toContain(SECRET);
    expect(JSON.stringify(await h.attempts(run.id))).not.toContain(SECRET);
    expect(JSON.stringify(run)).not.toContain(SECRET);
    expect(h.alerts).toHaveLength(1);
    expect(JSON.stringify(h.alerts)).not.toContain(SECRET);
  });

  it("redaction replaces every occurrence, longest secret first, and ignores values under 3 characters", () => {
    const redact = makeRedactor({ A: "abc", B: "abcdef", C: "x" });
    expect(redact({ s: "abcdef abc x", n: 1, l: ["abc"] })).toEqual({
      s: `${REDACTED} ${REDACTED} x`,
      n: 1,
      l: [REDACTED],
    });
  });
});

describe("secrets in keys", () => {
  it("are redacted when a stored response uses them as object keys", async () => {
    const h = makeHarness({ secrets, flows: [flow("f", [{ id: "call", http: { method: "GET", url: URL_A } }])] });
    h.http.reply(reply(200, { [SECRET]: { scope: "all" } }));
    const run = await h.start("f");
    expect(JSON.stringify(await h.attempts(run.id))).not.toContain(SECRET);
    expect(JSON.stringify(run.output)).not.toContain(SECRET);
    expect(run.output).toMatchObject({ body: { [REDACTED]: { scope: "all" } } });
  });
});

describe("secrets in logs", () => {
  it("are redacted from the log line of a failed async step", async () => {
    const h = makeHarness({
      secrets,
      flows: [
        flow("f", [
          { id: "bg", fail: { message: "bad {{ secrets.API_KEY }}" }, async: true },
          { id: "a", compute: 1 },
        ]),
      ],
    });
    await h.start("f");
    expect(h.logs.length).toBeGreaterThan(0);
    expect(JSON.stringify(h.logs)).not.toContain(SECRET);
  });
});
